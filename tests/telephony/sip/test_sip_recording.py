"""Recordings of real SIP calls: a SIPp UAS echoes our RTP, and the call's two WAV files (both parties,
the customer alone) last as long as the call and carry the echoed tone."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest
from sipp_peer import Sipp, needs_sipp

from callbot.telephony.gateway import DialRequest, DialStatus
from callbot.telephony.sip.gateway import SipGateway, SipLeg

pytestmark = [needs_sipp, pytest.mark.slow]


def _wav(path: Path) -> tuple[np.ndarray, float]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return pcm, len(pcm) / 8000


def _loud_seconds(pcm: np.ndarray) -> float:
    frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160).astype(np.int32)
    return float((np.abs(frames).mean(axis=1) > 1000).sum() * 0.02)


async def test_an_echoed_call_is_recorded_mixed_and_customer_alone(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    gateway = SipGateway(sip_port=0, recordings_dir=folder)
    sipp = Sipp("uas_answer.xml", tmp_path / "sipp", echo=True)
    try:
        request = DialRequest(
            call_id="t1-c1-1", caller="02150001234", callee="13800138000", line_settings=sipp.line_settings()
        )
        outcome = await gateway.dial(request)
        assert outcome.status is DialStatus.ANSWERED, outcome.reason
        leg = outcome.leg
        assert isinstance(leg, SipLeg)
        tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.int16)  # 1 s of 440 Hz
        leg.audio.play_pcm(tone)
        await leg.audio.wait_played()
        await asyncio.sleep(1.0)  # a second of silence after the tone
        await leg.hangup()
        mixed, customer = await leg.save_recording()
        assert mixed.endswith(".wav") and customer.endswith(".customer.wav") and not Path(mixed).is_absolute()
        assert await leg.save_recording() == (mixed, customer)  # written once

        both, both_s = _wav(folder / mixed)
        alone, alone_s = _wav(folder / customer)
        assert abs(both_s - leg.elapsed_s) <= 0.25, (both_s, leg.elapsed_s)
        assert alone_s == both_s
        # The robot's tone (1 s) is in the mix; the customer's track holds only the echo of it.
        assert _loud_seconds(both) >= 0.9
        assert 0.6 <= _loud_seconds(alone) <= 1.2, _loud_seconds(alone)
        assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()
    finally:
        await gateway.close()
        sipp.stop()
