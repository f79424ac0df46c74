"""PCM helpers: clauses for streaming synthesis, loudness, WAV reading."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from callbot.speech.audio import frames, read_wav, rms_dbfs, split_clauses


def test_clauses_split_at_punctuation_and_keep_it() -> None:
    assert split_clauses("您好，我是招商银行的客服。请问您现在方便吗？") == [
        "您好，我是招商银行的客服。",
        "请问您现在方便吗？",
    ]


def test_short_clauses_join_the_next_and_a_short_tail_joins_the_last() -> None:
    assert split_clauses("好的，我帮您记录一下。谢谢！") == ["好的，我帮您记录一下。谢谢！"]
    assert split_clauses("嗯") == ["嗯"]
    assert split_clauses("  ") == []


def test_loudness_of_full_scale_silence_and_nothing() -> None:
    full = np.full(800, 32767, dtype="<i2").tobytes()
    assert rms_dbfs(full) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(bytes(1600)) == float("-inf")
    assert rms_dbfs(b"") == float("-inf")
    with pytest.raises(ValueError, match="whole 16-bit samples"):
        rms_dbfs(b"\x00")


def test_frames_are_20_ms_and_drop_a_partial_tail() -> None:
    assert [len(frame) for frame in frames(bytes(320 * 3 + 100))] == [320, 320, 320]


def _wav(rate: int, channels: int, width: int, samples: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def test_wav_at_any_rate_and_stereo_becomes_8k_mono() -> None:
    one_second_stereo = np.zeros((22050, 2), dtype="<i2")
    pcm = read_wav(_wav(22050, 2, 2, one_second_stereo))
    assert len(pcm) == 16000  # 8000 samples of 2 bytes


def test_bad_wav_is_named() -> None:
    with pytest.raises(ValueError, match="not a WAV file"):
        read_wav(b"RIFF nonsense")
    with pytest.raises(ValueError, match="16-bit PCM, got 8-bit"):
        read_wav(_wav(8000, 1, 1, np.zeros(80, dtype=np.uint8)))
