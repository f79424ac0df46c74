"""An RTP stream (RTP 流): one call's audio over UDP, and the audio interface the speech layer uses.

Sending: the process's `MediaClock` ticks every stream each 20 ms; a stream sends one packet per tick,
the next queued frame of a prompt, a DTMF event packet, or G.711 silence when it has nothing to say
(trunks and NATs expect a steady stream). `play_pcm` / `play_g711` queue audio, `stop_playing` flushes
the queue at once (barge-in: the next tick is already silence), `wait_played` waits for the queue to
run out, `send_dtmf` sends an RFC 4733 key press.

The clock also reads each stream's socket on every tick (non-blocking, a bounded number of packets), so
receiving costs no event-loop callback per packet, and a frame's arrival time is its tick's time (20 ms
resolution). Received packets pass a small jitter buffer and come out as `ReceivedFrame`s with their arrival
time, from `frames()` or the `received` deque; telephone-events become key presses (`on_dtmf`).
Symmetric RTP: the stream latches on the first source it hears and sends there from then on, even
when the SDP named another address (NAT); packets from any other source are dropped and counted, as
are packets that are not RTP or too long. No packet for `inactivity_timeout_s` calls `on_inactive`
once: the far end is gone without a BYE.

Recording: `start_recording` (at the answer) taps both directions into a `CallRecording`: each tick's
sent frame (silence while a key press goes out) and each received audio frame at its arrival tick.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import struct
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from callbot.media import g711
from callbot.media.clock import MediaClock
from callbot.media.dtmf import DtmfReceiver, dtmf_packets
from callbot.media.jitter import JitterBuffer
from callbot.media.recording import CallRecording
from callbot.media.rtp import MAX_RTP_PACKET, RTP_HEADER_SIZE, RtpPacket, pack_header

__all__ = ["FRAME_SAMPLES", "ReceivedFrame", "RtpStream", "StreamStats"]

log = logging.getLogger(__name__)
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
_SILENCE = {"PCMA": b"\xd5" * FRAME_SAMPLES, "PCMU": b"\xff" * FRAME_SAMPLES}
_ENCODE = {"PCMA": g711.pcm_to_alaw, "PCMU": g711.pcm_to_ulaw}
_DECODE = {"PCMA": g711.alaw_to_pcm, "PCMU": g711.ulaw_to_pcm}
_HEADER = struct.Struct("!BBHII")
_MAX_PER_TICK = 16  # packets read per stream per 20 ms tick: a peer sends 1, with DTMF and bursts a few
Address = tuple[str, int]


class ReceivedFrame(NamedTuple):
    """20 ms of the far end's audio: `at` seconds since the stream opened (arrival), the RTP
    `timestamp`, the G.711 `payload` in `codec`; `early` when it came before the answer (early media).

    A tuple of plain values on purpose: the garbage collector stops tracking such tuples, and a media
    process holds hundreds of thousands of frames, which as tracked objects made full collections take
    hundreds of milliseconds (measured at 500 calls) and stalled the media clock.
    """

    at: float
    timestamp: int
    payload: bytes
    codec: str
    early: bool = False

    @property
    def pcm(self) -> npt.NDArray[np.int16]:
        """The frame as 8 kHz 16-bit samples (decoded on demand: most frames only pass through)."""
        return _DECODE[self.codec](self.payload)


@dataclass(slots=True)
class StreamStats:
    sent: int = 0
    received: int = 0
    bad: int = 0  # not RTP, truncated, oversized, unknown payload type
    foreign: int = 0  # from a source other than the latched one
    dtmf_received: int = 0
    send_errors: int = 0


class RtpStream:
    def __init__(
        self,
        clock: MediaClock,
        *,
        codec: str = "PCMA",
        payload_type: int = 8,
        dtmf_payload_type: int | None = 101,
        remote: Address | None = None,
        inactivity_timeout_s: float = 30.0,
        on_inactive: Callable[[], None] | None = None,
        on_dtmf: Callable[[str], None] | None = None,
        keep_frames: int = 500,
        jitter_depth: int = 2,
    ) -> None:
        self._clock = clock
        self.codec = codec
        self.payload_type = payload_type
        self.dtmf_payload_type = dtmf_payload_type
        self.remote = remote
        self.latched: Address | None = None
        self.inactivity_timeout_s = inactivity_timeout_s
        self.on_inactive = on_inactive
        self.on_dtmf = on_dtmf
        self.stats = StreamStats()
        self.answered = False
        self.received: deque[ReceivedFrame] = deque(maxlen=keep_frames)
        self._arrived = asyncio.Event()
        self._jitter = JitterBuffer(jitter_depth)
        self._dtmf_in = DtmfReceiver()
        self._queue: deque[bytes] = deque()
        self._dtmf_out: deque[tuple[bytes, bool, int]] = deque()
        self._drained = asyncio.Event()
        self._drained.set()
        self._sock: socket.socket | None = None
        self._ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self._first = True
        self._dtmf_ts = 0
        self._opened = 0.0
        self._last_rx = 0.0
        self._inactive_fired = False
        self._sending = False
        self.recording: CallRecording | None = None
        self.closed = False

    # --- life -----------------------------------------------------------------------------------------

    @classmethod
    async def open(cls, clock: MediaClock, host: str, port: int = 0, **kwargs: Any) -> RtpStream:
        """Bind a stream on `host:port` (0: any free port); from now on the clock polls it for packets."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        stream = cls(clock, **kwargs)
        stream._sock = sock
        stream._opened = stream._last_rx = asyncio.get_running_loop().time()
        clock.add(stream)
        return stream

    @property
    def local_address(self) -> Address:
        assert self._sock is not None
        host, port = self._sock.getsockname()[:2]
        return host, port

    def set_media(self, remote: Address, codec: str, payload_type: int, dtmf_payload_type: int | None) -> None:
        """What the SDP settled (again after a re-INVITE): where to send, in which codec."""
        if codec not in _SILENCE:
            raise ValueError(f"unsupported codec {codec}")
        if remote != self.remote:
            self.latched = None  # a new address from signalling: latch again on what comes from it
        self.remote, self.codec, self.payload_type, self.dtmf_payload_type = (
            remote,
            codec,
            payload_type,
            dtmf_payload_type,
        )

    def start_sending(self) -> None:
        """From the next tick on, a packet every 20 ms (and the inactivity watch starts)."""
        if not self._sending and not self.closed:
            self._sending = True
            self._last_rx = max(self._last_rx, asyncio.get_running_loop().time())

    def start_recording(self) -> CallRecording:
        """Record both directions from now on (idempotent): the call's `recording`."""
        if self.recording is None:
            self.recording = CallRecording()
        return self.recording

    def close(self) -> None:
        """Stop sending and release the socket. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self._clock.discard(self)
        self._queue.clear()
        self._drained.set()
        self._arrived.set()
        if self._sock is not None:
            self._sock.close()

    # --- the audio interface --------------------------------------------------------------------------

    def play_pcm(self, pcm: bytes | npt.NDArray[np.int16]) -> None:
        """Queue 8 kHz 16-bit mono PCM (little-endian bytes or int16 samples); the last frame is padded."""
        samples = np.frombuffer(pcm, dtype="<i2") if isinstance(pcm, bytes | bytearray) else np.asarray(pcm, np.int16)
        self.play_g711(_ENCODE[self.codec](samples), pad=_SILENCE[self.codec][:1])

    def play_g711(self, data: bytes, *, pad: bytes | None = None) -> None:
        """Queue audio already in the stream's codec."""
        if self.closed or not data:
            return
        rest = len(data) % FRAME_SAMPLES
        if rest:
            data += (pad or _SILENCE[self.codec][:1]) * (FRAME_SAMPLES - rest)
        self._queue.extend(data[i : i + FRAME_SAMPLES] for i in range(0, len(data), FRAME_SAMPLES))
        self._drained.clear()

    def stop_playing(self) -> float:
        """Flush what is queued (the next tick sends silence); returns the seconds that were dropped."""
        dropped = len(self._queue) * FRAME_SAMPLES / g711.SAMPLE_RATE
        self._queue.clear()
        self._drained.set()
        return dropped

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    @property
    def queued_seconds(self) -> float:
        return len(self._queue) * FRAME_SAMPLES / g711.SAMPLE_RATE

    async def wait_played(self) -> None:
        """Until the queue is empty (played out, flushed, or the stream closed)."""
        await self._drained.wait()

    def send_dtmf(self, digit: str, duration_ms: int = 100) -> None:
        """Send a key press as RFC 4733 events (needs a negotiated telephone-event type)."""
        if self.dtmf_payload_type is None:
            raise ValueError("the far end did not offer telephone-event: DTMF cannot be sent in RTP")
        packets = dtmf_packets(digit, duration_ms=duration_ms)
        for i, (payload, marker) in enumerate(packets):
            self._dtmf_out.append((payload, marker, i))

    async def frames(self) -> AsyncIterator[ReceivedFrame]:
        """The far end's frames as they arrive, until the stream closes (one consumer at a time)."""
        while True:
            while self.received:
                yield self.received.popleft()
            if self.closed:
                return
            self._arrived.clear()
            await self._arrived.wait()

    @property
    def elapsed_s(self) -> float:
        return asyncio.get_running_loop().time() - self._opened

    # --- the clock's side -----------------------------------------------------------------------------

    def tick(self, now: float, ticks: int) -> None:
        sock = self._sock
        if self.closed or sock is None:
            return
        self._receive(sock, now)
        self._ts = (self._ts + FRAME_SAMPLES * ticks) & 0xFFFFFFFF
        if not self._sending:
            return
        if not self._inactive_fired and now - self._last_rx > self.inactivity_timeout_s:
            self._inactive_fired = True
            if self.on_inactive is not None:
                self.on_inactive()
            if self.closed:
                return
        remote = self.latched or self.remote
        if remote is None:
            return
        recording = self.recording
        if self._dtmf_out:
            payload, marker, index = self._dtmf_out.popleft()
            if index == 0:
                self._dtmf_ts = self._ts
            header = pack_header(self.dtmf_payload_type or 101, self._seq, self._dtmf_ts, self._ssrc, marker)
            if recording is not None:
                recording.sent(self.codec, None, ticks)
        else:
            if self._queue:
                payload = self._queue.popleft()
                if not self._queue:
                    self._drained.set()
            else:
                payload = _SILENCE[self.codec]
            header = pack_header(self.payload_type, self._seq, self._ts, self._ssrc, self._first)
            self._first = False
            if recording is not None:
                recording.sent(self.codec, payload, ticks)
        self._seq = (self._seq + 1) & 0xFFFF
        try:
            sock.sendto(header + payload, remote)
        except OSError:  # a full send buffer or an ICMP error: this frame is lost, the next one goes
            self.stats.send_errors += 1
            return
        self.stats.sent += 1

    def _receive(self, sock: socket.socket, now: float) -> None:
        """Drain what arrived since the last tick, at most `_MAX_PER_TICK` packets, so a flood on one
        stream cannot stall the clock for the others (the kernel drops the excess)."""
        got = False
        for _ in range(_MAX_PER_TICK):
            try:
                data, addr = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # ICMP port unreachable from an earlier send: nobody listens there (yet)
                continue
            self.datagram_received(data, addr, now)
            got = True
        if got:
            self._arrived.set()

    def datagram_received(self, data: bytes, addr: Address, now: float) -> None:
        """One datagram from `addr`, received at loop time `now`."""
        source = (addr[0], addr[1])
        if self.latched is None:
            self.latched = source
        elif source != self.latched:
            self.stats.foreign += 1
            return
        if len(data) < RTP_HEADER_SIZE or len(data) > MAX_RTP_PACKET or data[0] >> 6 != 2:
            self.stats.bad += 1
            return
        self._last_rx = now
        payload_type = data[1] & 0x7F
        if data[0] & 0x3F == 0 and payload_type == self.payload_type:  # the fast path: no CSRC, extension, padding
            _, _, sequence, timestamp, _ = _HEADER.unpack_from(data)
            self._accept_audio(now, sequence, timestamp, data[RTP_HEADER_SIZE:])
            return
        try:
            packet = RtpPacket.parse(data)
        except ValueError:
            self.stats.bad += 1
            return
        if packet.payload_type == self.payload_type:
            self._accept_audio(now, packet.sequence, packet.timestamp, packet.payload)
        elif packet.payload_type == self.dtmf_payload_type and self.dtmf_payload_type is not None:
            try:
                digit = self._dtmf_in.receive(packet.timestamp, packet.payload)
            except ValueError:
                self.stats.bad += 1
                return
            if digit is not None:
                self.stats.dtmf_received += 1
                if self.on_dtmf is not None:
                    self.on_dtmf(digit)
        elif packet.payload_type != 13:  # comfort noise (RFC 3389) is expected and ignored
            self.stats.bad += 1

    def _accept_audio(self, now: float, sequence: int, timestamp: int, payload: bytes) -> None:
        self.stats.received += 1
        at = now - self._opened
        for _, ts, frame in self._jitter.push(sequence, timestamp, payload):
            self.received.append(ReceivedFrame(at, ts, frame, self.codec, not self.answered))
            if self.recording is not None:
                self.recording.received(self.codec, frame)
