"""DTMF as RTP telephone-events (RFC 4733 §2.3) and SIP INFO bodies, pure.

An event is sent as several packets with the same RTP timestamp and a growing duration, the first
with the marker bit, the last three with the end bit (RFC 4733 §2.5.1.4 asks for the end packet to be
repeated). A receiver reports each event once: on its first packet with a new timestamp.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "DIGITS",
    "DtmfEvent",
    "DtmfReceiver",
    "dtmf_packets",
    "parse_dtmf_info",
]

DIGITS = "0123456789*#ABCD"
_EVENT = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """One telephone-event payload (RFC 4733 §2.3): `digit`, `end` bit, `volume` (dBm0, negated), `duration`
    in timestamp units."""

    digit: str
    end: bool = False
    volume: int = 10
    duration: int = 0

    @classmethod
    def parse(cls, payload: bytes) -> DtmfEvent:
        if len(payload) < 4:
            raise ValueError(f"telephone-event payload is 4 bytes, got {len(payload)}")
        event, flags, duration = _EVENT.unpack_from(payload)
        if event >= len(DIGITS):
            raise ValueError(f"telephone-event {event} is not a DTMF digit (0-15)")
        return cls(DIGITS[event], bool(flags & 0x80), flags & 0x3F, duration)

    def to_bytes(self) -> bytes:
        if self.digit not in DIGITS or len(self.digit) != 1:
            raise ValueError(f"{self.digit!r} is not a DTMF digit")
        return _EVENT.pack(DIGITS.index(self.digit), (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration)


def dtmf_packets(
    digit: str, *, duration_ms: int = 100, ptime_ms: int = 20, clock_rate: int = 8000
) -> list[tuple[bytes, bool]]:
    """The payloads (and marker bits) that send one key press, one per `ptime_ms`: updates every packet
    time, then the end packet three times."""
    step = clock_rate * ptime_ms // 1000
    total = clock_rate * duration_ms // 1000
    packets: list[tuple[bytes, bool]] = []
    duration = step
    while duration < total:
        packets.append((DtmfEvent(digit, duration=duration).to_bytes(), not packets))
        duration += step
    end = DtmfEvent(digit, end=True, duration=total).to_bytes()
    packets.extend([(end, not packets), (end, False), (end, False)])
    return packets


class DtmfReceiver:
    """Turns telephone-event packets into key presses, once per event (identified by its RTP timestamp)."""

    def __init__(self) -> None:
        self._last_timestamp: int | None = None

    def receive(self, timestamp: int, payload: bytes) -> str | None:
        """The digit when this packet starts a new event, else None. Raises ValueError on a bad payload."""
        event = DtmfEvent.parse(payload)
        if timestamp == self._last_timestamp:
            return None
        self._last_timestamp = timestamp
        return event.digit


def parse_dtmf_info(content_type: str, body: bytes) -> str | None:
    """The digit of a SIP INFO DTMF body (`application/dtmf-relay` "Signal=5" or `application/dtmf` "5")."""
    kind = content_type.split(";")[0].strip().lower()
    text = body.decode("utf-8", "replace").strip()
    if kind == "application/dtmf-relay":
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                text = value.strip()
                break
        else:
            return None
    elif kind != "application/dtmf":
        return None
    if text == "10":
        text = "*"
    elif text == "11":
        text = "#"
    digit = text.upper()
    return digit if len(digit) == 1 and digit in DIGITS else None
