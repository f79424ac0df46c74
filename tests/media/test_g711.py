"""G.711: the numpy tables match the reference codec on every input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from callbot.media import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop")  # the C reference, in the standard library up to 3.12

ALL = np.arange(-32768, 32768, dtype=np.int16).astype("<i2").tobytes()


def test_ulaw_encodes_every_sample_like_the_reference() -> None:
    assert g711.pcm_to_ulaw(ALL) == audioop.lin2ulaw(ALL, 2)


def test_alaw_encodes_every_sample_like_the_reference() -> None:
    assert g711.pcm_to_alaw(ALL) == audioop.lin2alaw(ALL, 2)


def test_both_laws_decode_every_code_like_the_reference() -> None:
    codes = bytes(range(256))
    assert g711.ulaw_to_pcm(codes).astype("<i2").tobytes() == audioop.ulaw2lin(codes, 2)
    assert g711.alaw_to_pcm(codes).astype("<i2").tobytes() == audioop.alaw2lin(codes, 2)


def test_silence_is_the_well_known_code_and_arrays_work_like_bytes() -> None:
    zeros = np.zeros(160, np.int16)
    assert g711.pcm_to_ulaw(zeros) == b"\xff" * 160
    assert g711.pcm_to_alaw(zeros.tobytes()) == b"\xd5" * 160


def test_odd_pcm_length_is_refused() -> None:
    with pytest.raises(ValueError, match="even number of bytes"):
        g711.pcm_to_alaw(b"\x00\x01\x02")
