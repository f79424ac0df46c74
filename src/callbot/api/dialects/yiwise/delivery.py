"""Yiwise callbacks through the deliverer: both events go to the tenant's one callback URL (§9), as
`ROBOT_CALL_RECORD` after every dial attempt and `ROBOT_CALL_JOB` when a task completes; a receiver
accepts by answering `success`. Import events have no Yiwise shape and are skipped."""

from __future__ import annotations

from callbot.api.dialects.yiwise import callbacks
from callbot.api.dialects.yiwise.options import YiwiseOptions
from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.callback.delivery import Delivery
from callbot.credential import service as credential_service
from callbot.customer import service as customer_service
from callbot.kit.db import Tx
from callbot.models import CallbackSettings, OutboxEvent, Tenant
from callbot.models.enums import CredentialKind
from callbot.record import service as record_service
from callbot.task import service as task_service


class YiwiseRenderer:
    """`encrypted`: Yiwise's 2023 protocol (the same JSON, AES-encrypted in an XML body, signed with the
    receiver's token); else the 2018 plain JSON."""

    def __init__(self, options: YiwiseOptions | None = None, *, encrypted: bool = False) -> None:
        self.options = options or YiwiseOptions()
        self.encrypted = encrypted

    async def render(self, tx: Tx, tenant: Tenant, settings: CallbackSettings, event: OutboxEvent) -> Delivery | None:
        url = settings.url or settings.task_url
        if not url or not settings.enabled:
            return None
        task = await task_service.get_task(tx, tenant, int(event.subject["task_id"]), include_deleted=True)
        if event.kind == outbox.CALL_FINISHED:
            record = await record_service.get_record(tx, tenant, int(event.subject["record_id"]))
            customer = await customer_service.find_customer(tx, record.customer_id)
            payload = callbacks.call_record_payload(record, task, tenant, self.options, customer=customer)
        elif event.kind == outbox.TASK_COMPLETED:
            payload = callbacks.task_completed_payload(task, tenant)
        else:
            return None
        body = callbacks.encode(payload)
        if self.encrypted:
            crypt = callback_service.receiver_crypt(tx, settings)
            timestamp = str(int(tx.now().timestamp() * 1000))
            query, xml = callbacks.encrypted_request(crypt, body, timestamp, callbacks.new_nonce())
            headers = {"Content-Type": callbacks.XML_CONTENT_TYPE, "X-Callbot-Event-Id": event.event_id}
            return Delivery(callbacks.with_query(url, query), xml, headers, callbacks.is_encrypted_success)
        headers = {"Content-Type": callbacks.CONTENT_TYPE, "X-Callbot-Event-Id": event.event_id}
        secret = await credential_service.vendor_secret(tx, tenant, CredentialKind.YIWISE)
        if secret:
            headers[callbacks.SIGNATURE_HEADER] = callbacks.signature(secret, body)
        return Delivery(url, body, headers, callbacks.is_success)
