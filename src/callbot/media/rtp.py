"""RTP packets (RFC 3550 §5.1): parse and serialise, pure.

Only what a telephone call needs: version 2, optional padding, CSRCs and a header extension are
parsed past (and kept) so a packet from any peer is understood; the marker, payload type, sequence
number, timestamp and SSRC are the fields callbot acts on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["MAX_RTP_PACKET", "RTP_HEADER_SIZE", "RtpPacket"]

RTP_HEADER_SIZE = 12
# A G.711 frame of 20 ms is 172 bytes; anything larger than a typical MTU is not a telephone packet.
MAX_RTP_PACKET = 1500
_HEADER = struct.Struct("!BBHII")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None  # (profile-defined id, data), RFC 3550 §5.3.1

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one datagram; ValueError naming what is wrong for anything that is not RTP v2."""
        if len(data) < RTP_HEADER_SIZE:
            raise ValueError(f"RTP packet too short: {len(data)} bytes, the header alone is {RTP_HEADER_SIZE}")
        if len(data) > MAX_RTP_PACKET:
            raise ValueError(f"RTP packet too long: {len(data)} bytes (at most {MAX_RTP_PACKET})")
        b0, b1, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if b0 >> 6 != 2:
            raise ValueError(f"RTP version must be 2, got {b0 >> 6}")
        padding, has_extension, cc = bool(b0 & 0x20), bool(b0 & 0x10), b0 & 0x0F
        pos = RTP_HEADER_SIZE + 4 * cc
        if len(data) < pos:
            raise ValueError(f"RTP packet truncated in its {cc} CSRC entries")
        csrc = struct.unpack_from(f"!{cc}I", data, RTP_HEADER_SIZE) if cc else ()
        extension = None
        if has_extension:
            if len(data) < pos + 4:
                raise ValueError("RTP packet truncated in its header extension")
            profile, words = struct.unpack_from("!HH", data, pos)
            end = pos + 4 + 4 * words
            if len(data) < end:
                raise ValueError("RTP packet truncated in its header extension")
            extension = (profile, data[pos + 4 : end])
            pos = end
        end = len(data)
        if padding:
            pad = data[-1]
            if pad == 0 or pos + pad > end:
                raise ValueError(f"RTP padding count {pad} does not fit the packet")
            end -= pad
        return cls(
            payload_type=b1 & 0x7F,
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[pos:end]),
            marker=bool(b1 & 0x80),
            csrc=tuple(csrc),
            extension=extension,
        )

    def to_bytes(self) -> bytes:
        b0 = 0x80 | len(self.csrc) | (0x10 if self.extension is not None else 0)
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        head = _HEADER.pack(b0, b1, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc)
        parts = [head]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            profile, data = self.extension
            if len(data) % 4:
                raise ValueError("an RTP header extension is a whole number of 32-bit words")
            parts.append(struct.pack("!HH", profile, len(data) // 4) + data)
        parts.append(self.payload)
        return b"".join(parts)


def pack_header(payload_type: int, sequence: int, timestamp: int, ssrc: int, marker: bool = False) -> bytes:
    """The 12-byte header alone: the send path's fast way to build a packet (header + payload)."""
    return _HEADER.pack(0x80, (0x80 if marker else 0) | payload_type, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
