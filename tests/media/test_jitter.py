"""The jitter buffer puts frames back in order, drops late and repeated ones, and survives the wrap."""

from __future__ import annotations

from callbot.media.jitter import JitterBuffer


def _seqs(out: list[tuple[int, int, bytes]]) -> list[int]:
    return [seq for seq, _, _ in out]


def test_swapped_frames_come_out_in_order() -> None:
    buffer = JitterBuffer(depth=2)
    released: list[int] = []
    for seq in [1, 3, 2, 4, 6, 5, 7]:
        released += _seqs(buffer.push(seq, seq * 160, b"x"))
    released += _seqs(buffer.flush())
    assert released == [1, 2, 3, 4, 5, 6, 7]


def test_late_and_duplicate_frames_are_dropped_and_counted() -> None:
    buffer = JitterBuffer(depth=1)
    released: list[int] = []
    for seq in [10, 11, 12, 12, 10]:
        released += _seqs(buffer.push(seq, 0, b"x"))
    assert released == [10, 11]
    assert (buffer.late, buffer.duplicates) == (1, 1)


def test_sequence_numbers_wrap() -> None:
    buffer = JitterBuffer(depth=2)
    released: list[int] = []
    for seq in [65534, 0, 65535, 1, 2]:
        released += _seqs(buffer.push(seq, 0, b"x"))
    assert released + _seqs(buffer.flush()) == [65534, 65535, 0, 1, 2]
