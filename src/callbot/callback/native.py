"""callbot's own callback payloads, signed with HMAC-SHA256 over the timestamp and the body.

Headers: `X-Callbot-Event` (kind), `X-Callbot-Event-Id` (idempotency id), `X-Callbot-Timestamp` (epoch
seconds) and `X-Callbot-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from callbot.callback import outbox
from callbot.callback.delivery import Delivery
from callbot.callback.service import signing_secret
from callbot.customer import service as customer_service
from callbot.kit.db import Tx
from callbot.models import CallbackSettings, OutboxEvent, Tenant
from callbot.record import service as record_service
from callbot.record import stats as stats_service
from callbot.task import service as task_service


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _accepted(status_code: int, _body: bytes) -> bool:
    return 200 <= status_code < 300


async def event_data(tx: Tx, tenant: Tenant, event: OutboxEvent) -> dict[str, Any]:
    subject = event.subject
    if event.kind == outbox.CALL_FINISHED:
        record = await record_service.get_record(tx, tenant, int(subject["record_id"]))
        customer = await customer_service.get_customer(tx, tenant, record.customer_id)
        return {
            "record_id": record.id,
            "sn": record.sn,
            "task_id": record.task_id,
            "customer": {
                "id": customer.id,
                "name": customer.name,
                "phone": customer.phone,
                "properties": customer.properties,
            },
            "attempt": record.attempt,
            "result": record.result.value,
            "level": record.level.value if record.level else None,
            "reason": record.reason,
            "concerns": record.concerns,
            "tags": record.tags,
            "rounds": record.rounds,
            "ring_seconds": record.ring_seconds,
            "chat_seconds": record.chat_seconds,
            "started_at": record.started_at.isoformat(),
            "ended_at": record.ended_at.isoformat() if record.ended_at else None,
            "end_reason": record.end_reason,
            "hangup_by": record.hangup_by,
            "transferred_to": record.transferred_to,
            "transcript": record.transcript,
        }
    if event.kind == outbox.TASK_COMPLETED:
        task = await task_service.get_task(tx, tenant, int(subject["task_id"]), include_deleted=True)
        stats = await stats_service.get_task_stats(tx, tenant, task.id, include_deleted=True)
        return {
            "task_id": task.id,
            "name": task.name,
            "status": task.status.value,
            "customers": stats.customers,
            "finished_customers": stats.finished_customers,
            "calls": stats.calls,
            "answered": stats.answered,
            "levels": stats.levels,
        }
    row = await customer_service.get_import(tx, tenant, int(subject["import_id"]))
    return {
        "import_id": row.id,
        "task_id": row.task_id,
        "status": row.status.value,
        "total": row.total,
        "accepted": row.accepted,
        "rejected": row.rejected,
        "counts": row.counts,
    }


class NativeRenderer:
    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}  # encrypted -> plain: decrypting once per secret, not per event

    async def render(self, tx: Tx, tenant: Tenant, settings: CallbackSettings, event: OutboxEvent) -> Delivery | None:
        url = settings.url if event.kind == outbox.CALL_FINISHED else (settings.task_url or settings.url)
        if not url or (event.kind == outbox.CALL_FINISHED and not settings.enabled):
            return None
        body = json.dumps(
            {
                "id": event.event_id,
                "type": event.kind,
                "created_at": event.created_at.isoformat(),
                "tenant_id": tenant.id,
                "data": await event_data(tx, tenant, event),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(tx.now().timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Callbot-Event": event.kind,
            "X-Callbot-Event-Id": event.event_id,
            "X-Callbot-Timestamp": timestamp,
            "X-Callbot-Signature": sign(self._secret(tx, settings), timestamp, body),
        }
        return Delivery(url, body, headers, _accepted)

    def _secret(self, tx: Tx, settings: CallbackSettings) -> str:
        secret = self._secrets.get(settings.secret_encrypted)
        if secret is None:
            secret = self._secrets[settings.secret_encrypted] = signing_secret(tx, settings)
        return secret
