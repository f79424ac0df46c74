"""espeak-ng TTS: 8 kHz PCM, whole or clause by clause, speaking rate, clear errors."""

from __future__ import annotations

import pytest

from callbot.speech.audio import rms_dbfs
from callbot.speech.espeak import EspeakTts
from callbot.speech.vad import WebRtcVad, find_speech


def seconds(pcm: bytes) -> float:
    return len(pcm) / 16000


async def test_text_becomes_8k_speech(tts: EspeakTts) -> None:
    pcm = await tts.synthesize("您好，请问您现在方便接听电话吗？")
    assert len(pcm) % 2 == 0
    assert 1.5 < seconds(pcm) < 8
    assert rms_dbfs(pcm) > -30
    assert find_speech(WebRtcVad(), pcm)


async def test_streaming_yields_each_clause_and_the_first_comes_sooner(tts: EspeakTts) -> None:
    text = "您好，我是招商银行信用卡中心的客服，您的账单可以办理分期，请问您现在方便吗？"
    clauses = [pcm async for pcm in tts.stream(text)]
    assert len(clauses) == 3  # the short 您好， joins the clause after it
    whole = await tts.synthesize(text)
    # The first clause is a fraction of the whole sentence, so playback starts long before it is done.
    assert seconds(clauses[0]) < seconds(whole) / 2
    assert abs(sum(map(seconds, clauses)) - seconds(whole)) < 1.5  # clause pauses differ a little


async def test_speaking_rate_changes_the_length(tts: EspeakTts) -> None:
    text = "请您尽快还款，以免影响征信"
    normal, fast = await tts.synthesize(text), await tts.synthesize(text, rate=1.5)
    assert seconds(fast) < seconds(normal) * 0.8


async def test_bad_input_is_named(tts: EspeakTts) -> None:
    with pytest.raises(ValueError, match="empty"):
        await tts.synthesize("  ")
    with pytest.raises(ValueError, match=r"rate must be between 0.5 and 2.0, got 3"):
        await tts.synthesize("你好", rate=3)
    with pytest.raises(ValueError, match="no-such-voice"):
        await tts.synthesize("你好", voice="no-such-voice")
