"""Digelao push bodies (§5), for the callback deliverer: pure functions over rows the deliverer loads.

- import push (§5.1) → the account's `task_callback_url`, once per addJsonOfAsync, whatever `open_callback`;
- per-call push (§5.2) → `callback_url` when `open_callback` is 1: the same flat object as a crmList item.

Delivery: POST JSON (UTF-8); success is any 2xx whatever the body; `X-Callbot-Signature` is
hex(HMAC-SHA256(api_access_secret, body)).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from callbot.api.dialects.digelao.mapping import Owner, import_mark, record_item, task_sn
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.models import CallRecord, Customer, CustomerImport, Script, Task, Tenant, User

SIGNATURE_HEADER = "X-Callbot-Signature"


def import_push_payload(task: Task, import_row: CustomerImport) -> dict[str, Any]:
    """§5.1 `{dial_task_main_sn, import_mark}`; a failed import adds `reason` to the counters."""
    return {"dial_task_main_sn": task_sn(task), "import_mark": import_mark(import_row)}


def call_push_payload(
    record: CallRecord,
    task: Task,
    customer: Customer | None,
    script: Script | None,
    tenant: Tenant,
    user: User | None,
    options: DigelaoOptions,
    *,
    main: User | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """§5.2: a crmList item. `user` is the task's owner, `main` the tenant's main account; `now` dates the
    recording links (default: the record's end)."""
    moment = now or record.ended_at or record.created_at
    return record_item(record, task, customer, script, tenant, Owner(user, main), options, moment)


def encode(payload: dict[str, Any]) -> bytes:
    """The body as sent: compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def signature(api_access_secret: str, body: bytes) -> str:
    return hmac.new(api_access_secret.encode(), body, hashlib.sha256).hexdigest()


def is_success(status_code: int, body: bytes | str = b"") -> bool:
    """Any 2xx counts, whatever the body says."""
    return 200 <= status_code < 300
