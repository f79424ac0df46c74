"""Transfer to a person over SIP: REFER taken by the far end, and REFER refused, where callbot dials the
agent on a second leg and joins the two calls' audio until one side hangs up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sipp_peer import Sipp, needs_sipp

from callbot.callflow.session import place_call
from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import load_script
from callbot.telephony.gateway import DialRequest, DialStatus
from callbot.telephony.sip.gateway import SipGateway, SipLeg

pytestmark = [needs_sipp, pytest.mark.slow]


async def _answered(gateway: SipGateway, sipp: Sipp) -> SipLeg:
    request = DialRequest(
        call_id="t1-c1-1", caller="02150001234", callee="13800138000", line_settings=sipp.line_settings()
    )
    outcome = await gateway.dial(request)
    assert outcome.status is DialStatus.ANSWERED, outcome.reason
    assert isinstance(outcome.leg, SipLeg)
    return outcome.leg


async def test_a_refer_the_far_end_accepts_transfers_the_call(tmp_path: Path) -> None:
    gateway = SipGateway(sip_port=0)
    customer = Sipp("uas_refer.xml", tmp_path, fill={"code": "202", "reason": "Accepted"})
    try:
        leg = await _answered(gateway, customer)
        assert await leg.transfer("8001")
        assert leg.transfer_status == "referred" and leg.ended_by == "transfer" and leg.closed
        assert await asyncio.to_thread(customer.wait) == 0, customer.errors()
    finally:
        await gateway.close()
        customer.stop()


async def test_a_refused_refer_dials_the_agent_and_joins_the_audio(tmp_path: Path) -> None:
    gateway = SipGateway(sip_port=0)
    customer = Sipp("uas_refer.xml", tmp_path / "customer", fill={"code": "603", "reason": "Decline"}, echo=True)
    agent = Sipp("uas_answer_then_hangup.xml", tmp_path / "agent", fill={"hangup_ms": "2000"}, echo=True)
    try:
        leg = await _answered(gateway, customer)
        started = asyncio.get_running_loop().time()
        assert await leg.transfer(f"sip:8001@127.0.0.1:{agent.port}")
        joined = asyncio.get_running_loop().time() - started
        assert leg.transfer_status == "bridged"
        assert 1.8 <= joined <= 10, joined  # held until the agent hung up, 2 s after answering
        assert not leg.closed  # the customer's call goes on: the session hangs it up
        assert leg.agent is not None and leg.agent.audio.stats.received >= 40  # the agent's audio came through
        await leg.hangup()
        assert await asyncio.to_thread(agent.wait) == 0, agent.errors()
        assert await asyncio.to_thread(customer.wait) == 0, customer.errors()
    finally:
        await gateway.close()
        customer.stop()
        agent.stop()


async def test_an_agent_who_does_not_answer_is_on_the_record(tmp_path: Path) -> None:
    gateway = SipGateway(sip_port=0)
    customer = Sipp("uas_refer.xml", tmp_path / "customer", fill={"code": "501", "reason": "Not Implemented"})
    agent = Sipp("uas_reject.xml", tmp_path / "agent", fill={"code": "486", "reason": "Busy Here"})
    try:
        leg = await _answered(gateway, customer)
        assert not await leg.transfer(f"sip:8001@127.0.0.1:{agent.port}")
        assert leg.transfer_status == "agent not reached: BUSY SIP 486 Busy Here"
        assert not leg.closed
        await leg.hangup()
        assert await asyncio.to_thread(customer.wait) == 0, customer.errors()
    finally:
        await gateway.close()
        customer.stop()
        agent.stop()


TRANSFER_SCRIPT = """
format: 1
name: 转人工
start: hand_over
nodes:
  hand_over:
    say: "为您转接。"
    end: transfer
    transfer_to: "{agent}"
"""


async def test_a_scripts_transfer_node_is_on_the_calls_outcome(tmp_path: Path) -> None:
    gateway = SipGateway(sip_port=0)
    customer = Sipp("uas_refer.xml", tmp_path / "customer", fill={"code": "603", "reason": "Decline"}, echo=True)
    agent = Sipp("uas_answer_then_hangup.xml", tmp_path / "agent", fill={"hangup_ms": "1500"}, echo=True)
    script = load_script(TRANSFER_SCRIPT.replace("{agent}", f"sip:8001@127.0.0.1:{agent.port}"))
    engine = DialogueEngine(script, build_recognizer(script.intents, script.industry))
    try:
        request = DialRequest(
            call_id="t1-c1-1", caller="02150001234", callee="13800138000", line_settings=customer.line_settings()
        )
        outcome = await place_call(gateway, request, engine, script, {})
        assert outcome.result == "ANSWERED" and outcome.end_reason == "transfer"
        assert outcome.transferred_to == f"sip:8001@127.0.0.1:{agent.port}"
        assert outcome.transfer_status == "bridged" and outcome.chat_seconds >= 1.5
        assert await asyncio.to_thread(customer.wait) == 0, customer.errors()
    finally:
        await gateway.close()
        customer.stop()
        agent.stop()
