"""Callback payloads field for field against §9's examples, the success rule and the signature header."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace

import pytest
from yiwise_setup import OPTIONS
from yiwise_world import build_world

from callbot.api.dialects.yiwise.callbacks import (
    call_record_payload,
    encode,
    is_success,
    signature,
    task_completed_payload,
)
from callbot.kit.db import Store
from callbot.models import CallRecord
from callbot.models.enums import CallResult, Level

CALL_RECORD = """{"dataType":"ROBOT_CALL_RECORD","data":{"callRecordId":700231,"tenantId":37,"robotCallJobId":1052,
"calledPhoneNumber":"13900001234","resultStatus":"ANSWERED","intentLevel":"A","customerConcern":["利息"],
"fullAudioUrl":"https://callbot.example.com/r/700231/full.wav?t=9c1e7a",
"customerAudioUrl":"https://callbot.example.com/r/700231/customer.wav?t=9c1e7a","analysisBasis":"客户同意办理分期",
"startTime":"2018-11-06 10:41:07","endTime":"2018-11-06 10:42:21","chatDuration":74,"chatRound":6,
"attributes":["有意向"],"robotCallDetailList":[{"text":"王先生您好，我是招商银行信用卡中心的客服……","type":"ROBOT"},
{"text":"嗯你说","type":"PERSON"}]}}"""


async def _world_record(store: Store) -> tuple[CallRecord, object, object, object]:
    world = await build_world(store)
    async with store.transaction() as tx:
        record = await tx.session.get(CallRecord, 700231)
        assert record is not None
        # §9.1's example shortens the robot's line with ……; §8.11 shows it whole. Use the callback's text.
        record.transcript = [
            {"speaker": "ROBOT", "text": "王先生您好，我是招商银行信用卡中心的客服……"},
            {"speaker": "PERSON", "text": "嗯你说"},
        ]
    return record, world.task, world.tenant, world.customer


async def test_call_record_payload_is_the_seed_form(store: Store) -> None:
    record, task, tenant, _ = await _world_record(store)
    payload = call_record_payload(record, task, tenant, OPTIONS)  # type: ignore[arg-type]
    assert payload == json.loads(CALL_RECORD)
    assert list(payload["data"]) == list(json.loads(CALL_RECORD)["data"])


async def test_call_record_payload_options(store: Store) -> None:
    record, task, tenant, customer = await _world_record(store)
    later = replace(OPTIONS, callback_transcript_key="callDetailList", callback_2019_fields=True)
    data = call_record_payload(record, task, tenant, later, customer=customer)["data"]  # type: ignore[arg-type]
    assert "robotCallDetailList" not in data
    assert data["callDetailList"][1] == {"text": "嗯你说", "type": "PERSON", "callDetailId": 2}
    assert (data["dialogFlowId"], data["properties"]) == (88, {"amount": "3200"})
    both = call_record_payload(record, task, tenant, replace(OPTIONS, callback_transcript_key="both"))["data"]  # type: ignore[arg-type]
    assert (
        both["robotCallDetailList"]
        == both["callDetailList"]
        == [
            {"text": "王先生您好，我是招商银行信用卡中心的客服……", "type": "ROBOT"},
            {"text": "嗯你说", "type": "PERSON"},
        ]
    )


async def test_unanswered_call_payload(store: Store) -> None:
    record, task, tenant, _ = await _world_record(store)
    record.result, record.level, record.reason = CallResult.VACANT_NUMBER, Level.F, "空号"
    record.chat_seconds, record.rounds, record.transcript, record.concerns, record.tags = 0, 0, [], [], []
    data = call_record_payload(record, task, tenant, OPTIONS)["data"]  # type: ignore[arg-type]
    assert (data["resultStatus"], data["intentLevel"], data["analysisBasis"]) == ("VACANT_NUMBER", "F", "空号")
    assert data["fullAudioUrl"].endswith("/full.wav?t=9c1e7a") and data["customerAudioUrl"] is None
    record.recording_path = ""
    assert call_record_payload(record, task, tenant, OPTIONS)["data"]["fullAudioUrl"] is None  # type: ignore[arg-type]


async def test_task_completed_payload(store: Store) -> None:
    world = await build_world(store)
    expected = '{"dataType":"ROBOT_CALL_JOB","data":{"robotCallJobId":1052,"tenantId":37,"status":"COMPLETED"}}'
    assert task_completed_payload(world.task, world.tenant) == json.loads(expected)


@pytest.mark.parametrize(
    ("status", "body", "ok"),
    [
        (200, b"success", True),
        (200, b"SUCCESS\n", True),
        (204, b' "Success" ', True),
        (200, b"'success'", True),
        (200, b"ok", False),
        (200, b"", False),
        (200, b"success!", False),
        (500, b"success", False),
        (302, b"success", False),
        (200, b"\xff\xfe", False),
    ],
)
def test_is_success(status: int, body: bytes, ok: bool) -> None:
    assert is_success(status, body) is ok


def test_signature_header_is_hmac_sha256_of_the_body() -> None:
    body = encode({"dataType": "ROBOT_CALL_JOB", "data": {"robotCallJobId": 1, "tenantId": 2, "status": "COMPLETED"}})
    assert body == b'{"dataType":"ROBOT_CALL_JOB","data":{"robotCallJobId":1,"tenantId":2,"status":"COMPLETED"}}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert signature("secret", body) == expected and len(expected) == 64
