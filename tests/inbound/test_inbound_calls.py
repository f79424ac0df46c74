"""Inbound calls (呼入) over real SIP and RTP: a SIPp caller dials a line's number, the line's script
answers, hears the caller's key press, and the call is written as an inbound record."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sipp_peer import Sipp, needs_sipp
from sqlalchemy import select

from callbot.app import create_app
from callbot.errors import ValidationFailed
from callbot.inbound import service as inbound_service
from callbot.inbound.calls import InboundCalls, InboundOptions
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models import CallRecord, Line, Task, Tenant
from callbot.script import service as script_service
from callbot.telephony.sip.gateway import SipGateway
from callbot.tenant import service as tenant_service

DID = "02150001234"
HOTLINE = """
format: 1
name: 客服热线
settings: {max_silences: 2, max_rounds: 6}
start: welcome
nodes:
  welcome:
    say: "您好，查账单请按1。"
    dtmf: {"1": bill}
    branches: {default: bye}
  bill:
    say: "账单已发送，再见。"
    end: hangup
  bye:
    say: "感谢来电，再见。"
    end: hangup
"""


async def _hotline(store: Store, *, seats: int = 5, gateway: str = "sip") -> tuple[Tenant, Line]:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "热线公司", seats=seats)
        script = await script_service.add_script(tx, tenant, HOTLINE)
        settings = {"sip": {"host": "127.0.0.1"}, "inbound": {"script_id": script.script.id}}
        line = await line_service.add_line(tx, tenant, DID, gateway=gateway, settings=settings)
    return tenant, line


async def test_a_line_names_an_inbound_script_that_exists(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "热线公司")
        script = await script_service.add_script(tx, tenant, HOTLINE)
        draft = await script_service.add_script(tx, tenant, HOTLINE.replace("客服热线", "草稿"), draft=True)
        sip = {"host": "127.0.0.1"}
        cases: list[tuple[str, dict[str, object], str]] = [
            ("sim", {"inbound": {"script_id": script.script.id}}, "only a SIP line"),
            ("sip", {"sip": sip, "inbound": {"script_id": 999}}, "no script with id 999"),
            ("sip", {"sip": sip, "inbound": {"script_id": "x"}}, "must be a script id"),
            ("sip", {"sip": sip, "inbound": {"script": 1}}, "script_id"),
            ("sip", {"sip": sip, "inbound": {"script_id": draft.script.id}}, "no approved version"),
        ]
        for i, (gateway, settings, problem) in enumerate(cases):
            with pytest.raises(ValidationFailed) as caught:
                await line_service.add_line(tx, tenant, f"0215000{i:04d}", gateway=gateway, settings=settings)
            assert problem in str(caught.value.problems), (settings, caught.value.problems)
        line = await line_service.add_line(
            tx, tenant, DID, gateway="sip", settings={"sip": sip, "inbound": {"script_id": script.script.id}}
        )
        assert await inbound_service.find_line(tx, "+86" + DID) == line
        assert await inbound_service.find_line(tx, "02150009999") is None


@pytest.fixture
async def inbound(store: Store, tmp_path: Path) -> AsyncIterator[tuple[SipGateway, InboundCalls]]:
    gateway = SipGateway(sip_port=0, recordings_dir=tmp_path / "recordings")
    calls = InboundCalls(store, gateway, InboundOptions(check_every_s=0.1))
    stop = asyncio.Event()
    runner = asyncio.create_task(calls.run(stop))
    try:
        yield gateway, calls
    finally:
        stop.set()
        await runner
        await gateway.close()


async def _listening(gateway: SipGateway) -> tuple[str, int]:
    for _ in range(100):
        if gateway._started is not None and gateway._started.done():
            return gateway.local_address
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway never started listening")


def _caller(scenario: str, tmp: Path, target: tuple[str, int], number: str, **fill: str) -> Sipp:
    return Sipp(scenario, tmp, fill=fill or None, extra=["-s", number, f"{target[0]}:{target[1]}"])


@needs_sipp
@pytest.mark.slow
async def test_an_inbound_call_runs_the_lines_script_and_is_recorded(
    store: Store, inbound: tuple[SipGateway, InboundCalls], tmp_path: Path
) -> None:
    gateway, calls = inbound
    tenant, line = await _hotline(store)
    target = await _listening(gateway)
    caller = _caller("uac_inbound_call.xml", tmp_path, target, DID)
    try:
        assert await asyncio.to_thread(caller.wait, 40.0) == 0, caller.errors()
    finally:
        caller.stop()
    for _ in range(100):  # the record is written right after the BYE
        async with store.transaction() as tx:
            record = await tx.session.scalar(select(CallRecord).where(CallRecord.tenant_id == tenant.id))
        if record is not None:
            break
        await asyncio.sleep(0.05)
    assert record is not None
    assert (record.direction, record.phone, record.result.value, record.line_id) == (
        "inbound",
        "13800138000",
        "ANSWERED",
        line.id,
    )
    nodes = [turn["node"] for turn in record.transcript if turn["speaker"] == "ROBOT"]
    assert nodes == ["welcome", "bill"], record.transcript  # the caller's key 1 took the call to the bill
    assert any("1" in turn["text"] for turn in record.transcript if turn["speaker"] == "PERSON"), record.transcript
    assert record.hangup_by == "ROBOT" and record.chat_seconds >= 3
    async with store.transaction() as tx:
        task = await tx.session.get(Task, record.task_id)
    assert task is not None and task.name == f"呼入 {DID}" and task.customer_count == 1
    assert calls.answered == 1 and gateway.open_legs == 0
    # The caller's audio (a pcap of speech) is in the customer's recording, which lasts as long as the call.
    with wave.open(str(tmp_path / "recordings" / record.customer_recording_path)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert abs(len(pcm) / 8000 - record.chat_seconds) <= 1.0
    frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160).astype(np.int32)
    assert (np.abs(frames).mean(axis=1) > 300).sum() >= 25, "the caller's speech is missing from the recording"


@needs_sipp
@pytest.mark.slow
async def test_unknown_number_404_no_free_seat_486_no_common_codec_488(
    store: Store, inbound: tuple[SipGateway, InboundCalls], tmp_path: Path
) -> None:
    gateway, calls = inbound
    _, line = await _hotline(store, seats=1)
    target = await _listening(gateway)
    pcma = {"codec": "8", "codec_name": "PCMA"}
    cases = [
        ("02150009999", "404", pcma),  # no line has this number
        (DID, "488", {"codec": "18", "codec_name": "G729"}),  # nothing callbot speaks
    ]
    for i, (number, code, codec) in enumerate(cases):
        caller = _caller("uac_inbound_refused.xml", tmp_path / str(i), target, number, code=code, **codec)
        try:
            assert await asyncio.to_thread(caller.wait, 20.0) == 0, (code, caller.errors())
        finally:
            caller.stop()
    # The tenant's only seat is taken (an inbound call in progress holds it): the next caller is busy.
    async with store.transaction() as tx:
        held = await inbound_service.begin_call(tx, line, "13900000000", owner="test", lease_seconds=60)
    assert held is not None
    caller = _caller("uac_inbound_refused.xml", tmp_path / "busy", target, DID, code="486", **pcma)
    try:
        assert await asyncio.to_thread(caller.wait, 20.0) == 0, caller.errors()
    finally:
        caller.stop()
    assert calls.refused == 2 and gateway.open_legs == 0


async def test_health_counts_sip_calls_in_progress(store: Store) -> None:
    _, line = await _hotline(store)
    app = create_app(store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callbot.test") as http:
        assert (await http.get("/api/v1/health")).json()["sip_calls"] == 0
        async with store.transaction() as tx:
            assert await inbound_service.begin_call(tx, line, "13900000000", owner="test", lease_seconds=60)
        assert (await http.get("/api/v1/health")).json()["sip_calls"] == 1
