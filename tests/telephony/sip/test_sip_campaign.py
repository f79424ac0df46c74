"""A whole campaign over real SIP and RTP: the dialer calls customers on a SIP line against SIPp, and each
attempt leaves the record a sim call would, with the SIP response kept in the record's reason."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest
from campaign_helpers import make_campaign
from sipp_peer import Sipp, needs_sipp
from sqlalchemy import select

from callbot.dialer.loop import Dialer, DialerOptions
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models import CallRecord
from callbot.runtime import keep_sip_registered
from callbot.task import service as task_service
from callbot.task.states import TaskAction
from callbot.telephony.gateway import GatewayRegistry
from callbot.telephony.sip.gateway import SipGateway
from callbot.tenant import service as tenant_service

pytestmark = [needs_sipp, pytest.mark.slow]


async def _sip_campaign(store: Store, phones: list[str], sipp: Sipp, tenant_name: str) -> tuple[object, int]:
    campaign = await make_campaign(
        store, [{"phone": p} for p in phones], line_concurrency=(3,), tenant_name=tenant_name
    )
    async with store.transaction() as tx:
        await line_service.update_line(
            tx,
            campaign.tenant,
            campaign.line_ids[0],
            line_service.LineChanges(gateway="sip", settings=sipp.line_settings()),
        )
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
    return campaign, campaign.task_id


async def _records(store: Store, task_id: int) -> list[CallRecord]:
    async with store.transaction() as tx:
        query = select(CallRecord).where(CallRecord.task_id == task_id).order_by(CallRecord.phone)
        return list(await tx.session.scalars(query))


async def test_a_campaign_over_sip_records_answered_and_busy_calls(store: Store, tmp_path: Path) -> None:
    answering = Sipp("uas_answer_then_hangup.xml", tmp_path / "a", calls=3, fill={"hangup_ms": "2500"})
    busy = Sipp("uas_reject.xml", tmp_path / "b", calls=2, fill={"code": "486", "reason": "Busy Here"})
    gateway = SipGateway(sip_port=0, recordings_dir=tmp_path / "recordings")
    try:
        _, answered_task = await _sip_campaign(
            store, ["13900000001", "13900000002", "13900000003"], answering, "甲银行"
        )
        _, busy_task = await _sip_campaign(store, ["13900000011", "13900000012"], busy, "乙银行")
        dialer = Dialer(store, GatewayRegistry(gateway), DialerOptions(ring_timeout_s=10.0))
        await asyncio.wait_for(dialer.run_until_idle(), 60)

        talked = await _records(store, answered_task)
        assert [r.result.value for r in talked] == ["ANSWERED"] * 3
        for record in talked:
            assert 2 <= record.chat_seconds <= 5, record.chat_seconds  # the customer hung up after 2.5 s
            assert record.hangup_by == "PERSON" and record.transcript[0]["speaker"] == "ROBOT"
            for path in (record.recording_path, record.customer_recording_path):
                with wave.open(str(tmp_path / "recordings" / path)) as wav:
                    assert abs(wav.getnframes() / 8000 - record.chat_seconds) <= 1.0  # chat_seconds is rounded
        refused = await _records(store, busy_task)
        assert [(r.result.value, r.reason) for r in refused] == [("BUSY", "占线：SIP 486 Busy Here")] * 2
        assert all(r.recording_path == "" for r in refused)  # only answered calls are recorded
        assert await asyncio.to_thread(answering.wait) == 0, answering.errors()
        assert await asyncio.to_thread(busy.wait) == 0, busy.errors()
        assert gateway.open_legs == 0
    finally:
        await gateway.close()
        answering.stop()
        busy.stop()


async def test_the_worker_keeps_registering_lines_registered(store: Store, tmp_path: Path) -> None:
    registrar = Sipp("uas_register.xml", tmp_path, keys={"user": "robot", "pass": "s3cret"})
    gateway = SipGateway(sip_port=0, decrypt=store.secrets.decrypt)  # the password is stored encrypted
    stop = asyncio.Event()
    try:
        async with store.transaction() as tx:
            tenant = await tenant_service.create_tenant(tx, "丙银行", seats=5)
            settings = registrar.line_settings(username="robot", password="s3cret", register=True)
            await line_service.add_line(tx, tenant, "02150001234", gateway="sip", settings=settings)
            await line_service.add_line(tx, tenant, "02150005678", gateway="sip", settings=registrar.line_settings())
        keeper = asyncio.create_task(keep_sip_registered(store, gateway, stop, every_s=0.1))
        for _ in range(100):
            states = [r.state for r in gateway.registrations().values()]
            if states == ["registered"]:
                break
            await asyncio.sleep(0.05)
        assert states == ["registered"]  # the line that does not ask to register is left alone
        stop.set()
        await keeper
    finally:
        stop.set()
        await gateway.close()
        registrar.stop()
