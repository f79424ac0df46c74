"""Test audio as a phone line carries it: G.711 µ-law and A-law (bit-exact with the stdlib's audioop
tables), silence, noise, and the character error rate. The product's own codec lives with the media code."""

from __future__ import annotations

import re

import numpy as np

_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_SEG_AEND = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
_codes = np.arange(256)


def _ulaw_decode_table() -> np.ndarray:
    byte = ~_codes & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte & 0x70) >> 4)
    return np.where(byte & 0x80, 0x84 - magnitude, magnitude - 0x84).astype(np.int16)


def _alaw_decode_table() -> np.ndarray:
    byte = _codes ^ 0x55
    segment = (byte & 0x70) >> 4
    value = (byte & 0x0F) << 4
    value = np.where(segment == 0, value + 8, np.where(segment == 1, value + 0x108, (value + 0x108) << (segment - 1)))
    return np.where(byte & 0x80, value, -value).astype(np.int16)


ULAW_DECODE = _ulaw_decode_table()
ALAW_DECODE = _alaw_decode_table()


def ulaw_encode(pcm: bytes) -> bytes:
    x = np.frombuffer(pcm, "<i2").astype(np.int32) >> 2
    mask = np.where(x < 0, 0x7F, 0xFF)
    x = np.minimum(np.abs(x), 8159) + 0x21
    segment = np.searchsorted(_SEG_END, x)
    s7 = np.minimum(segment, 7)
    code = np.where(segment >= 8, 0x7F, (s7 << 4) | ((x >> (s7 + 1)) & 0x0F))
    return (code ^ mask).astype(np.uint8).tobytes()


def alaw_encode(pcm: bytes) -> bytes:
    x = np.frombuffer(pcm, "<i2").astype(np.int32) >> 3
    mask = np.where(x >= 0, 0xD5, 0x55)
    x = np.where(x < 0, -x - 1, x)
    segment = np.searchsorted(_SEG_AEND, x)
    s7 = np.minimum(segment, 7)
    mantissa = np.where(s7 < 2, x >> 1, x >> np.maximum(s7, 1)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (s7 << 4) | mantissa)
    return (code ^ mask).astype(np.uint8).tobytes()


def ulaw_round_trip(pcm: bytes) -> bytes:
    return ULAW_DECODE[np.frombuffer(ulaw_encode(pcm), np.uint8)].astype("<i2").tobytes()


def alaw_round_trip(pcm: bytes) -> bytes:
    return ALAW_DECODE[np.frombuffer(alaw_encode(pcm), np.uint8)].astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(ms * 16)  # 8 kHz, 16-bit: 16 bytes per millisecond


def noise(ms: int, level: float, seed: int = 1) -> bytes:
    """White noise at `level` (RMS, in 16-bit units)."""
    samples = np.random.default_rng(seed).standard_normal(ms * 8) * level
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def chars(text: str) -> str:
    return re.sub(r"[^\w]", "", text)


def cer(reference: str, heard: str) -> float:
    """Character error rate: edit distance over the reference's characters (punctuation ignored)."""
    from rapidfuzz.distance import Levenshtein

    ref = chars(reference)
    return Levenshtein.distance(ref, chars(heard)) / max(1, len(ref))
