"""The SIP gateway against SIPp on loopback: answered calls with echoed RTP, the failure table,
CANCEL on ring timeout, Digest, a far end that re-INVITEs, sends INFO DTMF and hangs up."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
from sipp_peer import Sipp, needs_sipp

from callbot.telephony.gateway import DialRequest, DialStatus, Dtmf, Hangup, Prompt
from callbot.telephony.sip.gateway import SipGateway, SipLeg

pytestmark = [needs_sipp, pytest.mark.slow]


@pytest.fixture
async def gateway() -> AsyncIterator[SipGateway]:
    gw = SipGateway(bind_host="127.0.0.1", sip_port=0, invite_timeout_s=4.0)
    yield gw
    await gw.close()


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[list[Sipp]]:
    started: list[Sipp] = []
    yield started
    for peer in started:
        peer.stop()


def _request(sipp: Sipp, *, ring_timeout_s: float = 10.0, **sip: object) -> DialRequest:
    return DialRequest(
        call_id="t1-c1-1",
        caller="02150001234",
        callee="13800138000",
        line_settings=sipp.line_settings(**sip),
        ring_timeout_s=ring_timeout_s,
    )


async def test_an_answered_call_sends_audio_that_comes_back_and_ends_with_bye(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_answer.xml", tmp_path, echo=True)
    peers.append(sipp)
    rang: list[bool] = []
    outcome = await gateway.dial(_request(sipp), on_ringing=lambda: rang.append(True))
    assert outcome.status is DialStatus.ANSWERED, outcome.reason
    assert rang == [True] and outcome.reason == "SIP 200 OK"
    leg = outcome.leg
    assert isinstance(leg, SipLeg)
    assert leg.audio.codec == "PCMU"  # SIPp answered PCMU from our PCMA, PCMU offer
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.int16)  # 1 s of 440 Hz
    leg.audio.play_pcm(tone)
    played = await leg.play(Prompt("您好"))
    assert played.status == "completed"
    frames = list(leg.audio.received)
    loud = [f for f in frames if np.abs(f.pcm.astype(np.int32)).mean() > 1000]
    assert len(loud) >= 30, f"expected ~50 echoed frames of the tone, got {len(loud)} of {len(frames)}"
    assert all(not f.early for f in frames)
    await leg.hangup()
    assert leg.closed and leg.ended_by == "robot" and leg.elapsed_s >= 1.0
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        ("486", "Busy Here", DialStatus.BUSY),
        ("404", "Not Found", DialStatus.VACANT_NUMBER),
        ("480", "Temporarily Unavailable", DialStatus.NO_ANSWER),
        ("603", "Decline", DialStatus.REFUSED),
        ("503", "Service Unavailable", DialStatus.CAN_NOT_CONNECT),
    ],
)
async def test_final_responses_become_dial_results_with_the_sip_code_kept(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path, code: str, reason: str, status: DialStatus
) -> None:
    sipp = Sipp("uas_reject.xml", tmp_path, fill={"code": code, "reason": reason})
    peers.append(sipp)
    outcome = await gateway.dial(_request(sipp))
    assert (outcome.status, outcome.reason, outcome.leg) == (status, f"SIP {code} {reason}", None)
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()  # our ACK arrived
    assert gateway.open_legs == 0


async def test_a_phone_that_rings_past_the_ring_timeout_is_cancelled(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_ring_forever.xml", tmp_path)
    peers.append(sipp)
    rang: list[bool] = []
    outcome = await gateway.dial(_request(sipp, ring_timeout_s=1.0), on_ringing=lambda: rang.append(True))
    assert outcome.status is DialStatus.NO_ANSWER and "CANCEL" in outcome.reason
    assert rang == [True] and 1.0 <= outcome.ring_seconds < 3.0
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()  # CANCEL, then our ACK of the 487
    for _ in range(50):
        if gateway.calls_in_progress == 0:
            break
        await asyncio.sleep(0.05)
    assert gateway.calls_in_progress == 0


async def test_a_trunk_that_never_answers_is_can_not_connect(gateway: SipGateway) -> None:
    silent = DialRequest(
        call_id="t1-c2-1",
        caller="02150001234",
        callee="13800138000",
        line_settings={"sip": {"host": "127.0.0.1", "port": 9}},  # discard: nothing answers there
        ring_timeout_s=1.0,
    )
    outcome = await gateway.dial(silent)
    assert (outcome.status, outcome.reason) == (DialStatus.CAN_NOT_CONNECT, "no response to INVITE")


async def test_a_digest_challenge_is_answered_with_the_lines_credentials(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_auth.xml", tmp_path, keys={"user": "robot", "pass": "s3cret"})
    peers.append(sipp)
    outcome = await gateway.dial(_request(sipp, username="robot", password="s3cret"))
    assert outcome.status is DialStatus.ANSWERED, outcome.reason
    assert outcome.leg is not None and isinstance(outcome.leg, SipLeg) and outcome.leg.audio.codec == "PCMA"
    await outcome.leg.hangup()
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()


async def test_wrong_credentials_are_a_caller_line_error(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_auth.xml", tmp_path, keys={"user": "robot", "pass": "s3cret"})
    peers.append(sipp)
    outcome = await gateway.dial(_request(sipp, username="robot", password="wrong"))
    assert (outcome.status, outcome.reason) == (DialStatus.FROM_PHONE_ERROR, "SIP 403 Forbidden")
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()


async def test_a_reinvite_keeps_the_call_info_dtmf_is_heard_and_the_far_ends_bye_ends_it(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_bye_reinvite.xml", tmp_path)
    peers.append(sipp)
    outcome = await gateway.dial(_request(sipp))
    leg = outcome.leg
    assert leg is not None, outcome.reason
    assert await leg.listen(3.0) == Dtmf("7")  # after the re-INVITE was answered 200 and ACKed
    played = await leg.play(Prompt("这是一段很长的提示语，客户会在中途挂断电话。" * 3))
    assert played.status == "hangup" and played.played_seconds < 2.0
    assert leg.ended_by == "customer"
    assert await leg.listen(1.0) == Hangup()
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()


async def test_an_answer_without_a_common_codec_is_acked_hung_up_and_reported(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_answer_g729.xml", tmp_path)
    peers.append(sipp)
    outcome = await gateway.dial(_request(sipp))
    assert (outcome.status, outcome.reason) == (DialStatus.CAN_NOT_CONNECT, "the answer has no codec callbot offered")
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()  # ACK, then BYE


async def test_a_call_whose_rtp_stops_is_ended_with_bye(peers: list[Sipp], tmp_path: Path) -> None:
    gateway = SipGateway(sip_port=0, inactivity_timeout_s=1.0)
    try:
        sipp = Sipp("uas_answer.xml", tmp_path)  # no -rtp_echo: not a single RTP packet comes back
        peers.append(sipp)
        outcome = await gateway.dial(_request(sipp))
        leg = outcome.leg
        assert isinstance(leg, SipLeg), outcome.reason
        assert await leg.listen(5.0) == Hangup()
        assert leg.ended_by == "customer" and leg.end_reason == "no RTP for 1 s"
        assert 1.0 <= leg.elapsed_s < 3.0
        assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()  # our BYE arrived
    finally:
        await gateway.close()


async def test_garbage_on_the_sip_port_is_dropped_and_the_next_call_goes_through(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    await gateway.start()
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.settimeout(2.0)
    try:
        for junk in [
            b"\x00\x01garbage",
            b"INVITE sip:x SIP/2.0\r\n\r\n",
            b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n",
            b"\r\n\r\n",
        ]:
            probe.sendto(junk, gateway.local_address)
        port = probe.getsockname()[1]
        options = (
            "OPTIONS sip:robot@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKping\r\n"
            "From: <sip:monitor@127.0.0.1>;tag=m1\r\nTo: <sip:robot@127.0.0.1>\r\nCall-ID: ping-1\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        probe.sendto(options.format(port=port).encode(), gateway.local_address)
        reply = await asyncio.to_thread(probe.recv, 4096)
        assert reply.startswith(b"SIP/2.0 200 OK") and b"Allow: INVITE" in reply  # a trunk's keep-alive is answered
    finally:
        probe.close()
    assert gateway.endpoint.malformed == 3
    sipp = Sipp("uas_reject.xml", tmp_path, fill={"code": "486", "reason": "Busy Here"})
    peers.append(sipp)
    assert (await gateway.dial(_request(sipp))).status is DialStatus.BUSY


async def test_early_media_is_received_before_the_answer_and_marked_so(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_early_media.xml", tmp_path, fill={"final": "200 OK", "after": "answered"})
    peers.append(sipp)
    rang: list[bool] = []
    outcome = await gateway.dial(_request(sipp), on_ringing=lambda: rang.append(True))
    leg = outcome.leg
    assert isinstance(leg, SipLeg), outcome.reason
    assert rang == [True] and outcome.ring_seconds >= 1.4  # the 183 counts as ringing
    assert await leg.listen(3.0) == Dtmf("1")  # RFC 4733 from SIPp's pcap, after the answer
    frames = list(leg.audio.received)
    early = [f for f in frames if f.early]
    assert len(early) >= 25, len(early)  # ~1.5 s of the announcement before the 200 (less on a busy machine)
    assert any(np.abs(f.pcm.astype(np.int32)).mean() > 100 for f in early)  # sound, not silence
    await leg.hangup()
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()


async def test_an_announcement_then_a_failure_keeps_the_code_and_the_early_media_length(
    gateway: SipGateway, peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_early_media.xml", tmp_path, fill={"final": "480 Temporarily Unavailable", "after": "done"})
    peers.append(sipp)
    outcome = await gateway.dial(_request(sipp))
    assert outcome.status is DialStatus.NO_ANSWER and outcome.leg is None
    assert re.fullmatch(r"SIP 480 Temporarily Unavailable; early media [01]\.\d s", outcome.reason), outcome.reason
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()


async def test_a_registering_line_is_kept_registered_and_unregistered_on_close(
    peers: list[Sipp], tmp_path: Path
) -> None:
    sipp = Sipp("uas_register.xml", tmp_path, keys={"user": "robot", "pass": "s3cret"})
    peers.append(sipp)
    gateway = SipGateway(sip_port=0)
    try:
        settings = sipp.line_settings(username="robot", password="s3cret", register=True, register_expires=300)
        await gateway.keep_registered({"line-1": settings, "line-2": sipp.line_settings()})  # line-2 does not register
        registrations = gateway.registrations()
        assert len(registrations) == 1
        (registration,) = registrations.values()
        for _ in range(100):
            if registration.state != "registering":
                break
            await asyncio.sleep(0.02)
        assert (registration.state, registration.last_status) == ("registered", 200)
        assert registration.expires_at is not None  # the registrar granted 120 s of the 300 asked
        assert 110 < registration.expires_at - asyncio.get_running_loop().time() <= 120
    finally:
        await gateway.close()  # sends the un-REGISTER the registrar waits for
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()


async def test_a_refused_registration_is_reported(gateway: SipGateway, peers: list[Sipp], tmp_path: Path) -> None:
    sipp = Sipp("uas_register.xml", tmp_path, keys={"user": "robot", "pass": "s3cret"})
    peers.append(sipp)
    settings = sipp.line_settings(username="robot", password="wrong", register=True)
    registration = await gateway.register_once(settings, "02150001234", wait_s=3.0)
    assert (registration.state, registration.last_status, registration.last_reason) == ("closed", 403, "Forbidden")
    assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()
