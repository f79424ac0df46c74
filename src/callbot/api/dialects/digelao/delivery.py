"""Digelao pushes through the callback deliverer: which URL an event goes to, and its body.

The deliverer hands over the settings the event goes by: the task owner's own when they have the URL,
else the main account's (callback/service.py:settings_for_event).

- `call.finished` → `callback_url`, only with `open_callback` = 1; the body is a crmList item (§5.2).
- `import.finished` → `task_callback_url`, whatever `open_callback` says (§5.1).
- `task.completed` has no Digelao push: skipped.
"""

from __future__ import annotations

from callbot.api.dialects.digelao import callbacks
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.callback import outbox
from callbot.callback.delivery import Delivery
from callbot.credential import service as credential_service
from callbot.credential import sessions
from callbot.customer import service as customer_service
from callbot.kit.db import Tx
from callbot.models import CallbackSettings, OutboxEvent, Tenant
from callbot.models.enums import CredentialKind
from callbot.record import service as record_service
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.tenant import service as tenant_service


class DigelaoRenderer:
    def __init__(self, options: DigelaoOptions | None = None) -> None:
        self.options = options or DigelaoOptions()

    async def render(self, tx: Tx, tenant: Tenant, settings: CallbackSettings, event: OutboxEvent) -> Delivery | None:
        task = await task_service.get_task(tx, tenant, int(event.subject["task_id"]), include_deleted=True)
        if event.kind == outbox.IMPORT_FINISHED:
            url = settings.task_url
            if not url:
                return None
            row = await customer_service.get_import(tx, tenant, int(event.subject["import_id"]))
            body = callbacks.encode(callbacks.import_push_payload(task, row))
        elif event.kind == outbox.CALL_FINISHED:
            if not settings.enabled or not settings.url:
                return None
            url = settings.url
            record = await record_service.get_record(tx, tenant, int(event.subject["record_id"]))
            customer = await customer_service.find_customer(tx, record.customer_id)
            script = await script_service.find_script(tx, task.script_id)
            owner = await tenant_service.find_user(tx, task.owner_user_id) if task.owner_user_id else None
            main = await sessions.main_user(tx, tenant)
            payload = callbacks.call_push_payload(
                record, task, customer, script, tenant, owner or main, self.options, main=main, now=tx.now()
            )
            body = callbacks.encode(payload)
        else:
            return None
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Callbot-Event-Id": event.event_id}
        secret = await credential_service.vendor_secret(tx, tenant, CredentialKind.DIGELAO)
        if secret:
            headers[callbacks.SIGNATURE_HEADER] = callbacks.signature(secret, body)
        return Delivery(url, body, headers, lambda status, data: callbacks.is_success(status, data))


__all__ = ["DigelaoRenderer"]
