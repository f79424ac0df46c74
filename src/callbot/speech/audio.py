"""PCM helpers for the speech engines: frames, loudness, resampling (soxr), WAV parsing, clauses.

8 kHz mono signed 16-bit little-endian PCM throughout, as in `callbot.speech.base`.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from callbot.speech.base import BYTES_PER_FRAME, SAMPLE_RATE

__all__ = ["frames", "read_wav", "resample", "rms_dbfs", "split_clauses", "to_float", "to_pcm"]


def to_float(pcm: bytes) -> npt.NDArray[np.float32]:
    """16-bit PCM to float samples in [-1, 1)."""
    if len(pcm) % 2:
        raise ValueError(f"PCM must be whole 16-bit samples, got {len(pcm)} bytes")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def to_pcm(samples: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> bytes:
    """Float samples in [-1, 1) (clipped) or int16 samples to 16-bit little-endian PCM."""
    if np.issubdtype(samples.dtype, np.floating):
        samples = np.clip(np.round(samples * 32768.0), -32768, 32767)
    return np.asarray(samples).astype("<i2").tobytes()


def resample(samples: npt.NDArray[np.float32], from_rate: int, to_rate: int) -> npt.NDArray[np.float32]:
    """Float samples from one rate to another (soxr, high quality)."""
    if from_rate == to_rate:
        return samples
    import soxr

    return np.asarray(soxr.resample(samples, from_rate, to_rate), dtype=np.float32)


def rms_dbfs(pcm: bytes) -> float:
    """Loudness of `pcm` in dB below full scale (-inf for digital silence or no audio)."""
    samples = to_float(pcm)
    if samples.size == 0:
        return float("-inf")
    power = float(np.mean(samples.astype(np.float64) ** 2))
    return 10.0 * np.log10(power) if power > 0 else float("-inf")


def frames(pcm: bytes, frame_bytes: int = BYTES_PER_FRAME) -> Iterator[bytes]:
    """Whole 20 ms frames of `pcm`; a partial last frame is dropped."""
    for start in range(0, len(pcm) - frame_bytes + 1, frame_bytes):
        yield pcm[start : start + frame_bytes]


def read_wav(data: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """A 16-bit PCM WAV file (mono or stereo, any rate) as 8 kHz mono PCM. ValueError names what is wrong."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            width, channels, source_rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a WAV file: {exc}") from None
    if width != 2:
        raise ValueError(f"WAV must be 16-bit PCM, got {8 * width}-bit")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.float32)
    return to_pcm(resample(samples, source_rate, rate))


# Clause ends: Chinese and Western sentence and clause punctuation. 、 (enumeration comma) is not one:
# breaking a list there sounds choppy.
_CLAUSE_END = re.compile(r"(?<=[，。！？；：,.!?;:…\n])")
_MIN_CLAUSE_CHARS = 4


def split_clauses(text: str) -> list[str]:
    """`text` cut after clause punctuation, for synthesis clause by clause. Clauses shorter than four
    characters are joined to the next, so a short "好的，" does not become a clause of its own."""
    parts = [part.strip() for part in _CLAUSE_END.split(text)]
    clauses: list[str] = []
    pending = ""
    for part in parts:
        if not part:
            continue
        pending += part
        if len(re.sub(r"\W", "", pending)) >= _MIN_CLAUSE_CHARS:
            clauses.append(pending)
            pending = ""
    if pending:  # a short tail joins the clause before it
        if clauses:
            clauses[-1] += pending
        else:
            clauses.append(pending)
    return clauses
