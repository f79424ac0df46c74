"""RTP streams on loopback: one media clock paces them, audio and DTMF cross, a flush silences at once,
symmetric RTP latches, strangers and garbage are dropped, a dead far end is noticed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import numpy as np
import pytest

from callbot.media.clock import MediaClock
from callbot.media.rtp import RtpPacket
from callbot.media.stream import RtpStream


@pytest.fixture
async def clock() -> AsyncIterator[MediaClock]:
    media_clock = MediaClock()
    yield media_clock
    await media_clock.close()


async def _pair(clock: MediaClock, codec: str = "PCMA", pt: int = 8) -> tuple[RtpStream, RtpStream]:
    a = await RtpStream.open(clock, "127.0.0.1")
    b = await RtpStream.open(clock, "127.0.0.1")
    a.set_media(b.local_address, codec, pt, 101)
    b.set_media(a.local_address, codec, pt, 101)
    return a, b


def _loud(frames: list[np.ndarray]) -> int:
    return sum(1 for f in frames if np.abs(f.astype(np.int32)).mean() > 1000)


async def test_audio_played_on_one_side_is_heard_on_the_other_in_order(clock: MediaClock) -> None:
    a, b = await _pair(clock, "PCMU", 0)
    a.start_sending()
    b.start_sending()
    tone = (8000 * np.sin(2 * np.pi * 400 * np.arange(4000) / 8000)).astype(np.int16)  # 0.5 s
    a.play_pcm(tone)
    assert a.playing and a.queued_seconds == pytest.approx(0.5)
    await asyncio.wait_for(a.wait_played(), 2.0)
    await asyncio.sleep(0.1)
    frames = list(b.received)
    assert _loud([f.pcm for f in frames]) >= 23  # 25 frames of tone, a jitter buffer's worth may lag
    assert [f.timestamp for f in frames] == sorted(f.timestamp for f in frames)
    assert all(f.at >= 0 and f.codec == "PCMU" for f in frames)
    assert len(clock) == 2  # both streams ride the one clock
    a.close()
    b.close()


async def test_stop_playing_flushes_the_queue_at_once(clock: MediaClock) -> None:
    a, b = await _pair(clock)
    a.start_sending()
    a.play_pcm(np.full(8000 * 5, 8000, np.int16))  # 5 s queued
    await asyncio.sleep(0.2)
    dropped = a.stop_playing()
    assert 4.5 < dropped < 5.0 and not a.playing
    await asyncio.wait_for(a.wait_played(), 0.05)  # a waiting prompt wakes at once
    a.close()
    b.close()


async def test_dtmf_crosses_as_rfc_4733_events(clock: MediaClock) -> None:
    a, b = await _pair(clock)
    heard: list[str] = []
    b.on_dtmf = heard.append
    a.start_sending()
    a.send_dtmf("5")
    a.send_dtmf("#")
    await asyncio.sleep(0.5)
    assert heard == ["5", "#"] and b.stats.dtmf_received == 2
    a.close()
    b.close()


async def test_symmetric_rtp_latches_on_the_first_source_and_drops_strangers_and_garbage(clock: MediaClock) -> None:
    stream = await RtpStream.open(clock, "127.0.0.1")
    stream.set_media(("127.0.0.1", 9), "PCMA", 8, 101)  # the SDP says port 9; packets come from elsewhere
    stream.start_sending()
    far = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    far.bind(("127.0.0.1", 0))
    far.setblocking(False)
    try:
        packet = RtpPacket(8, 1, 160, 1234, b"\xd5" * 160).to_bytes()
        far.sendto(packet, stream.local_address)
        await asyncio.sleep(0.1)
        assert stream.latched == far.getsockname()
        stranger.sendto(RtpPacket(8, 2, 320, 99, b"\x00" * 160).to_bytes(), stream.local_address)
        far.sendto(b"\x80\x08", stream.local_address)  # truncated
        far.sendto(b"hello, not rtp at all", stream.local_address)
        far.sendto(packet[:12] + bytes(2000), stream.local_address)  # oversized
        await asyncio.sleep(0.1)
        assert (stream.stats.foreign, stream.stats.bad) == (1, 3)
        back = RtpPacket.parse(far.recv(2048))  # callbot now sends to where the packets came from
        assert back.payload_type == 8 and len(back.payload) == 160
    finally:
        far.close()
        stranger.close()
        stream.close()


async def test_a_far_end_that_goes_quiet_is_noticed_once(clock: MediaClock) -> None:
    fired: list[bool] = []
    stream = await RtpStream.open(clock, "127.0.0.1", inactivity_timeout_s=0.2, on_inactive=lambda: fired.append(True))
    stream.set_media(("127.0.0.1", 9), "PCMA", 8, None)
    stream.start_sending()
    await asyncio.sleep(0.5)
    assert fired == [True]
    with pytest.raises(ValueError, match="telephone-event"):
        stream.send_dtmf("1")
    stream.close()
    stream.close()  # idempotent
    assert len(clock) == 0


async def test_the_clock_keeps_its_deadlines(clock: MediaClock) -> None:
    streams = [await RtpStream.open(clock, "127.0.0.1") for _ in range(20)]
    for s in streams:
        s.set_media(("127.0.0.1", 9), "PCMA", 8, None)
        s.start_sending()
    await asyncio.sleep(1.0)
    sent = [s.stats.sent for s in streams]
    assert all(30 <= n <= 51 for n in sent), sent  # 50 a second; a stalled loop skips ticks, never bursts
    assert np.median(np.array(clock.lateness)) < 0.010
    for s in streams:
        s.close()
