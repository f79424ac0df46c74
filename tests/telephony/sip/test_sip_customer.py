"""A whole campaign over real SIP and RTP against our own SIP customer: each customer's `sim_result`
decides how its phone answers, the answered one talks (a tone per reply) and hangs up, and every
answered call leaves a recording as long as the call with the customer's voice in it."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest
from campaign_helpers import make_campaign
from sqlalchemy import select

from callbot.dialer.loop import Dialer, DialerOptions
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models import CallRecord
from callbot.task import service as task_service
from callbot.task.states import TaskAction
from callbot.telephony.gateway import GatewayRegistry
from callbot.telephony.sip.customer import SipCustomerPhone
from callbot.telephony.sip.gateway import SipGateway

pytestmark = pytest.mark.slow

CUSTOMERS = {
    "13900000001": {"sim_result": "ANSWERED", "sim_replies": "好的|/hangup"},
    "13900000002": {"sim_result": "BUSY"},
    "13900000003": {"sim_result": "VACANT_NUMBER"},
    "13900000004": {"sim_result": "NO_ANSWER"},
    "13900000005": {"sim_result": "REFUSED"},
}


async def test_a_campaign_against_our_sip_customer(store: Store, tmp_path: Path) -> None:
    phone = SipCustomerPhone(lambda number: CUSTOMERS.get(number), ring_scale=0.1)
    await phone.start()
    gateway = SipGateway(sip_port=0, recordings_dir=tmp_path / "recordings")
    try:
        campaign = await make_campaign(
            store, [{"phone": n, "properties": p} for n, p in CUSTOMERS.items()], line_concurrency=(5,)
        )
        async with store.transaction() as tx:
            changes = line_service.LineChanges(gateway="sip", settings=phone.line_settings())
            await line_service.update_line(tx, campaign.tenant, campaign.line_ids[0], changes)
            await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
        dialer = Dialer(store, GatewayRegistry(gateway), DialerOptions(ring_timeout_s=4.0))
        await asyncio.wait_for(dialer.run_until_idle(), 90)
        async with store.transaction() as tx:
            query = select(CallRecord).where(CallRecord.task_id == campaign.task_id).order_by(CallRecord.phone)
            records = {r.phone: r for r in await tx.session.scalars(query)}
        assert {n: r.result.value for n, r in records.items()} == {
            "13900000001": "ANSWERED",
            "13900000002": "BUSY",
            "13900000003": "VACANT_NUMBER",
            "13900000004": "NO_ANSWER",
            "13900000005": "REFUSED",
        }
        assert "CANCEL" in records["13900000004"].reason
        talked = records["13900000001"]
        assert talked.hangup_by == "PERSON" and talked.chat_seconds >= 3
        with wave.open(str(tmp_path / "recordings" / talked.customer_recording_path)) as wav:
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        assert abs(len(pcm) / 8000 - talked.chat_seconds) <= 1.0
        frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160).astype(np.int32)
        assert (np.abs(frames).mean(axis=1) > 1000).sum() >= 15, "the customer's reply (a tone) is not recorded"
        assert phone.results["13900000004"] == 487 and gateway.open_legs == 0
    finally:
        await gateway.close()
        await phone.close()
