"""A small receive jitter buffer: puts RTP frames back in sequence order, pure.

It holds up to `depth` frames (40 ms at the default 2) and releases the oldest once more arrive, so
frames that were swapped in flight come out in order; a frame arriving after a later one was released
is dropped (`late`), a repeated one too (`duplicates`). Sequence numbers wrap at 2**16 (RFC 3550 §A.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["JitterBuffer"]


def _newer(a: int, b: int) -> bool:
    """True when sequence number `a` comes after `b`, modulo 2**16."""
    return a != b and ((a - b) & 0xFFFF) < 0x8000


@dataclass(slots=True)
class JitterBuffer:
    depth: int = 2
    late: int = 0
    duplicates: int = 0
    _held: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    _last_released: int | None = None

    def push(self, sequence: int, timestamp: int, payload: bytes) -> list[tuple[int, int, bytes]]:
        """Add a frame; returns the frames (sequence, timestamp, payload) now due, in order."""
        if self._last_released is not None and not _newer(sequence, self._last_released):
            self.late += 1
            return []
        if sequence in self._held:
            self.duplicates += 1
            return []
        self._held[sequence] = (timestamp, payload)
        out: list[tuple[int, int, bytes]] = []
        while len(self._held) > self.depth:
            out.append(self._release_oldest())
        return out

    def _oldest(self) -> int:
        first = next(iter(self._held))
        for seq in self._held:
            if _newer(first, seq):
                first = seq
        return first

    def _release_oldest(self) -> tuple[int, int, bytes]:
        seq = self._oldest()
        timestamp, payload = self._held.pop(seq)
        self._last_released = seq
        return seq, timestamp, payload

    def flush(self) -> list[tuple[int, int, bytes]]:
        """Release everything held (the stream is ending)."""
        out: list[tuple[int, int, bytes]] = []
        while self._held:
            out.append(self._release_oldest())
        return out
