"""Yiwise callback payloads (§9): pure functions from stored rows to the bodies the deliverer POSTs.

`ROBOT_CALL_RECORD` after every dial attempt, `ROBOT_CALL_JOB` when a task completes. The body is
`{"dataType", "data"}`; callbot adds an `X-Callbot-Signature` header that 2018 receivers ignore.

The 2023 protocol (the public `callbackdemo`) sends the same JSON encrypted (kit/msgcrypt.py): an XML body
holding the cipher text, and `msg_signature`, `timestamp` and `nonce` in the query; before that, a GET
handshake asks the receiver to decrypt an `echostr` and answer its plain text (callback/handshake.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote_plus, urlencode

from callbot.api.dialects.yiwise import mapping
from callbot.api.dialects.yiwise.options import YiwiseOptions
from callbot.kit.msgcrypt import MsgCrypt, envelope
from callbot.models import CallRecord, Customer, Task, Tenant

CALL_RECORD = "ROBOT_CALL_RECORD"
CALL_JOB = "ROBOT_CALL_JOB"
SIGNATURE_HEADER = "X-Callbot-Signature"
CONTENT_TYPE = "application/json;charset=UTF-8"
XML_CONTENT_TYPE = "application/xml;charset=UTF-8"


def call_record_payload(
    record: CallRecord, task: Task, tenant: Tenant, options: YiwiseOptions, *, customer: Customer | None = None
) -> dict[str, Any]:
    """The `ROBOT_CALL_RECORD` body for one finished call (§9.1): the seed's fields, plus the 2019 ones
    (`callDetailId`, `dialogFlowId`, `properties`, the last from `customer`) when the tenant's options ask."""
    full, customer_url = mapping.recording_urls(record, options)
    later = options.callback_2019_fields
    details = mapping.transcript(record, with_ids=later)
    data: dict[str, Any] = {
        "callRecordId": record.id,
        "tenantId": tenant.id,
        "robotCallJobId": task.id,
        "calledPhoneNumber": record.phone,
        "resultStatus": record.result.value,
        "intentLevel": mapping.level_name(record.level),
        "customerConcern": list(record.concerns),
        "fullAudioUrl": full,
        "customerAudioUrl": customer_url,
        "analysisBasis": record.reason,
        "startTime": mapping.fmt_datetime(record.started_at, tenant),
        "endTime": mapping.fmt_datetime(record.ended_at or record.started_at, tenant),
        "chatDuration": record.chat_seconds,
        "chatRound": record.rounds,
        "attributes": list(record.tags),
    }
    key = options.callback_transcript_key
    if key in ("robotCallDetailList", "both"):
        data["robotCallDetailList"] = details
    if key in ("callDetailList", "both"):
        data["callDetailList"] = details
    if later:
        data["dialogFlowId"] = record.script_id if record.script_id is not None else task.script_id
        properties = customer.properties if customer is not None else {}
        data["properties"] = {str(k): v if isinstance(v, str) else str(v) for k, v in properties.items()}
    return {"dataType": CALL_RECORD, "data": data}


def task_completed_payload(task: Task, tenant: Tenant) -> dict[str, Any]:
    """The `ROBOT_CALL_JOB` body (§9.2): sent when a task reaches COMPLETED, never on stop."""
    return {"dataType": CALL_JOB, "data": {"robotCallJobId": task.id, "tenantId": tenant.id, "status": "COMPLETED"}}


def encode(payload: dict[str, Any]) -> bytes:
    """The request body as sent: compact UTF-8 JSON (sign exactly these bytes)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(app_secret: str, body: bytes) -> str:
    """`X-Callbot-Signature`: lowercase hex HMAC-SHA256 of the body under the tenant's appSecret."""
    return hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def is_success(status_code: int, body: bytes) -> bool:
    """A receiver accepted the callback: HTTP 2xx and a body of `success`, trimmed of whitespace and quotes,
    in any case. Anything else is a failure to retry."""
    if not 200 <= status_code < 300:
        return False
    text = body.decode("utf-8", errors="replace").strip(" \t\r\n\"'\ufeff")
    return text.lower() == "success"


def new_nonce() -> str:
    """A 10-digit nonce, like the demo's."""
    return str(secrets.randbelow(9 * 10**9) + 10**9)


def encrypted_request(crypt: MsgCrypt, body: bytes, timestamp: str, nonce: str) -> tuple[str, bytes]:
    """The 2023 form of a callback body: the query (`msg_signature`, `timestamp`, `nonce`) and the XML body.

    The cipher text and signature inside the XML are URL-encoded, as the demo's sender writes them: its
    receiver URL-decodes the whole body before reading the XML (a `+` of the base64 would otherwise turn
    into a space)."""
    encrypted = crypt.encrypt(body.decode("utf-8"))
    signature = crypt.sign(timestamp, nonce, encrypted)
    query = urlencode({"msg_signature": signature, "timestamp": timestamp, "nonce": nonce})
    xml = envelope(quote_plus(encrypted), quote_plus(signature), timestamp, nonce)
    return query, xml.encode("utf-8")


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def is_encrypted_success(status_code: int, body: bytes) -> bool:
    """The 2023 demo: "http状态返回200表示回调成功" (any body; the demo answers `success`)."""
    return 200 <= status_code < 300
