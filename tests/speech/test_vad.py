"""The webrtc VAD on real (espeak-made) speech: onset and end found in padded audio, nothing in silence."""

from __future__ import annotations

import time

import pytest
from phone_line import noise, silence

from callbot.speech.espeak import EspeakTts
from callbot.speech.vad import WebRtcVad, find_speech


async def test_speech_onset_and_end_are_found_in_padded_audio(tts: EspeakTts) -> None:
    speech = await tts.synthesize("您好，请问是张先生吗")
    spoken = find_speech(WebRtcVad(), speech)
    assert len(spoken) == 1
    lead, length = spoken[0].start_ms, spoken[0].duration_ms

    padded = silence(1000) + speech + silence(1500)
    spans = find_speech(WebRtcVad(), padded)
    assert len(spans) == 1
    # One frame of slack either way: the VAD's own smoothing can move an edge by 20 ms.
    assert abs(spans[0].start_ms - (1000 + lead)) <= 40
    assert abs(spans[0].duration_ms - length) <= 60


async def test_two_utterances_with_a_pause_are_two_spans(tts: EspeakTts) -> None:
    first, second = await tts.synthesize("我在开车"), await tts.synthesize("晚点再说")
    spans = find_speech(WebRtcVad(), silence(500) + first + silence(1000) + second + silence(500))
    assert len(spans) == 2
    assert spans[1].start_ms - spans[0].end_ms >= 800


def test_silence_and_faint_line_noise_are_not_speech() -> None:
    assert find_speech(WebRtcVad(), silence(3000)) == []
    assert find_speech(WebRtcVad(3), noise(3000, level=30)) == []


def test_a_frame_of_the_wrong_size_is_named() -> None:
    with pytest.raises(ValueError, match="320 bytes"):
        WebRtcVad().is_speech(bytes(100))
    with pytest.raises(ValueError, match="aggressiveness"):
        WebRtcVad(5)


def test_the_gate_is_cheap_enough_for_every_frame_of_every_call() -> None:
    vad, audio = WebRtcVad(), noise(10_000, level=2000)
    started = time.process_time()
    for offset in range(0, len(audio), 320):
        vad.is_speech(audio[offset : offset + 320])
    per_audio_second_ms = (time.process_time() - started) * 1000 / 10
    # ~0.1-0.2 ms on this kind of machine: 2 ms leaves room for a busy CI box and still means
    # hundreds of calls per core.
    assert per_audio_second_ms < 2.0
