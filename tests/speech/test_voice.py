"""The voice channel over real RTP on loopback: neural-voice customer speech through G.711 into the
turn-taker and the Whisper worker; prompts out, barge-in, backchannels, echo, DTMF, and bad input that
must end in a defined event."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from phone_line import cer, noise, silence
from rtp_pair import Line, rtp_pair
from voice_clips import CLIPS

from callbot.speech.cache import PromptCache
from callbot.speech.espeak import EspeakTts
from callbot.speech.vad import WebRtcVad
from callbot.speech.voice import (
    Pause,
    TurnSettings,
    TurnTaker,
    Utterance,
    VoiceChannel,
    is_backchannel,
    steady_tone_fraction,
)
from callbot.speech.whisper import WhisperAsr
from callbot.telephony.gateway import Dtmf, Hangup, Prompt, Silence, Speech

pytestmark = pytest.mark.slow


PROMPT = CLIPS["prompt"]


@pytest.fixture
def recording(clips: dict[str, bytes], tmp_path: Path) -> str:
    """The long prompt as a recording (8 kHz WAV), as a script's `audio:` is played."""
    path = tmp_path / "prompt.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(clips["prompt"])
    return str(path)


@pytest.fixture
async def line() -> AsyncIterator[Line]:
    async with rtp_pair() as pair:
        yield pair


def channel(line: Line, asr: WhisperAsr, tts: EspeakTts, **settings: int | float) -> VoiceChannel:
    voice = VoiceChannel(line.robot, asr=asr, tts=tts, vad=WebRtcVad(), settings=TurnSettings(**settings))  # type: ignore[arg-type]
    voice.start()
    return voice


def seconds(pcm: bytes) -> float:
    return len(pcm) / 16000


async def say_later(line: Line, pcm: bytes, after_s: float) -> float:
    """The customer starts saying `pcm` after `after_s`; returns the loop time it was queued."""
    await asyncio.sleep(after_s)
    line.customer.play_pcm(pcm)
    return asyncio.get_running_loop().time()


# --------------------------------------------------------------------------- the turn-taker alone


def test_backchannels_are_recognised_as_such() -> None:
    for text in ("嗯", "嗯嗯", "对对对", "好的", "嗯，好", "哦。"):
        assert is_backchannel(text), text
    for text in ("", "不", "等一下", "好的谢谢", "对不起", "我不需要"):
        assert not is_backchannel(text), text


def test_held_tones_are_told_from_speech(clips: dict[str, bytes]) -> None:
    for name in ("question", "refuse", "prompt", "hmm"):
        assert steady_tone_fraction(clips[name]) < 0.5, name
    t = np.arange(8000) / 8000
    assert steady_tone_fraction((np.sin(2 * np.pi * 1000 * t) * 9000).astype("<i2").tobytes()) > 0.9  # a beep
    assert steady_tone_fraction(silence(500)) == 0.0


def test_turn_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="end_silence_ms"):
        TurnSettings(end_silence_ms=0)
    with pytest.raises(ValueError, match="max_utterance_ms"):
        TurnSettings(max_utterance_ms=500)


def test_a_turn_ends_after_the_trailing_silence_and_keeps_its_pre_roll(clips: dict[str, bytes]) -> None:
    taker = TurnTaker(WebRtcVad(), TurnSettings(end_silence_ms=600, pre_roll_ms=300))
    audio = silence(1000) + clips["question"] + silence(1500)
    events = [e for i in range(0, len(audio) - 319, 320) for e in taker.feed(audio[i : i + 320], i / 16000, None)]
    turns = [e for e in events if isinstance(e, Utterance)]
    assert len(turns) == 1
    turn = turns[0]
    assert 0.95 <= turn.start <= 1.25  # the speech starts at 1 s (the voice breathes in first)
    assert turn.audio_start == pytest.approx(turn.start - 0.3, abs=0.021)
    assert not turn.capped and not turn.over_prompt
    speech_end = 1 + seconds(clips["question"])
    assert speech_end - 0.4 <= turn.end <= speech_end + 0.05
    # 300 ms into the quiet the turn as it will end was offered for early recognition.
    pauses = [e for e in events if isinstance(e, Pause)]
    assert pauses and pauses[-1].utterance.pcm == turn.pcm


def test_the_robots_own_echo_never_starts_a_turn(clips: dict[str, bytes]) -> None:
    """The robot's prompt coming back 20 dB down while it talks: no turn; the customer at full level: a turn."""
    taker = TurnTaker(WebRtcVad())
    prompt = np.frombuffer(clips["prompt"], "<i2")
    echo = (prompt.astype(np.float64) * 0.1).astype("<i2").tobytes()
    events = []
    for i in range(0, len(echo) - 319, 320):
        events += taker.feed(echo[i : i + 320], i / 16000, robot_dbfs=-18.0)
    assert events == []
    speech = clips["refuse"]
    for i in range(0, len(speech) - 319, 320):
        events += taker.feed(speech[i : i + 320], 30 + i / 16000, robot_dbfs=-18.0)
    assert any(type(e).__name__ == "BargeIn" for e in events)


# --------------------------------------------------------------------------- listening over RTP


async def test_a_turn_is_heard_with_its_times_confidence_and_words(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes]
) -> None:
    voice = channel(line, asr, tts, end_silence_ms=700)
    said_at = asyncio.ensure_future(say_later(line, silence(200) + clips["question"], 0.5))
    heard = await voice.listen(5.0)
    done = asyncio.get_running_loop().time()
    assert isinstance(heard, Speech), heard
    assert cer("请问多少钱一个月", heard.text) <= 0.25, heard.text
    assert heard.confidence is not None and 0 < heard.confidence <= 1
    # Offsets are on the channel's clock (its origin is now 0): the speech started ~0.7 s in.
    start_ms = (said_at.result() - voice.origin) * 1000 + 200
    assert heard.start_ms is not None and heard.end_ms is not None
    assert start_ms - 100 <= heard.start_ms <= start_ms + 400, (start_ms, heard.start_ms)
    assert heard.end_ms <= start_ms + seconds(clips["question"]) * 1000 + 200
    assert heard.words and heard.words[0][1] >= heard.start_ms - 400
    assert all(a[1] <= b[1] for a, b in zip(heard.words, heard.words[1:], strict=False))
    # The turn ended after the trailing silence, not before; its words were recognised during that silence.
    assert done - voice.origin >= heard.end_ms / 1000 + 0.65
    assert voice.stats.early_used == 1
    await voice.close()


async def test_nothing_said_is_a_silence_after_the_timeout(line: Line, asr: WhisperAsr, tts: EspeakTts) -> None:
    voice = channel(line, asr, tts)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert isinstance(await voice.listen(1.0), Silence)
    assert 0.95 <= loop.time() - started <= 2.0
    await voice.close()


async def test_a_key_press_is_heard_and_a_hang_up_ends_every_wait(line: Line, asr: WhisperAsr, tts: EspeakTts) -> None:
    voice = channel(line, asr, tts)
    line.customer.send_dtmf("5")
    assert await voice.listen(3.0) == Dtmf("5")
    asyncio.get_running_loop().call_later(0.3, voice.hung_up)
    assert isinstance(await voice.listen(10.0), Hangup)
    assert (await voice.play(Prompt("还在吗"))).status == "hangup"
    await voice.close()


# --------------------------------------------------------------------------- speaking and barge-in


async def test_a_prompt_plays_to_its_end_clause_by_clause(line: Line, asr: WhisperAsr, tts: EspeakTts) -> None:
    voice = channel(line, asr, tts)
    loop = asyncio.get_running_loop()
    started = loop.time()
    played = await voice.play(Prompt("您好，我是小美。请问您现在方便吗？"))
    assert played.status == "completed"
    first = voice.first_audio_at
    assert first is not None
    whole = await tts.synthesize("您好，我是小美。请问您现在方便吗？")
    assert played.played_seconds >= seconds(whole) * 0.9
    loud = [t for t, level in line.heard_by_customer if level > -45]
    assert loud and loud[0] - started < played.played_seconds / 2  # it began before the rest was rendered
    await voice.close()


async def test_barge_in_stops_the_prompt_within_100_ms_and_returns_what_was_said(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes], recording: str
) -> None:
    voice = channel(line, asr, tts)
    asyncio.get_running_loop().call_later(1.5, line.customer.play_pcm, clips["refuse"])
    played = await voice.play(Prompt(PROMPT, recording))
    assert played.status == "interrupted"
    assert cer("等一下我不需要谢谢", played.heard_text) <= 0.35, played.heard_text
    assert played.played_seconds < seconds(clips["prompt"]) - 1
    assert voice.stats.barge_ins == 1 and voice.barge_confirmed
    confirmed = voice.barge_confirmed[0]
    # The customer's side hears the robot's last loud frame within 100 ms of the confirmation (plus the
    # customer stream's own 40 ms jitter buffer and one tick of reading).
    loud_after = [t for t, level in line.heard_by_customer if level > -45 and t > confirmed]
    assert not loud_after or loud_after[-1] - confirmed <= 0.1 + 0.06, loud_after[-3:]
    assert voice.barged_turn is not None and voice.barged_turn.text == played.heard_text
    await voice.close()


@pytest.mark.parametrize("word", ["hmm", "right", "ok"])
async def test_a_backchannel_does_not_stop_the_prompt(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes], recording: str, word: str
) -> None:
    voice = channel(line, asr, tts)
    asyncio.get_running_loop().call_later(1.5, line.customer.play_pcm, clips[word])
    played = await voice.play(Prompt(PROMPT, recording))
    assert played.status == "completed", played
    assert played.played_seconds >= seconds(clips["prompt"]) - 0.1
    assert isinstance(await voice.listen(0.5), Silence)  # and it is not a reply either
    await voice.close()


async def test_the_robots_echo_on_the_line_does_not_stop_it(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes], recording: str
) -> None:
    """The customer's phone sends the robot's audio back 20 dB down (a typical handset echo)."""
    voice = channel(line, asr, tts)

    async def echo() -> None:
        while True:
            while line.customer.received:
                frame = line.customer.received.popleft()
                line.customer.play_pcm((frame.pcm.astype(np.float64) * 0.1).astype(np.int16))
            await asyncio.sleep(0.02)

    echoing = asyncio.ensure_future(echo())
    played = await voice.play(Prompt(PROMPT, recording))
    echoing.cancel()
    assert played.status == "completed", played
    assert voice.stats.barge_ins == 0
    await voice.close()


async def test_a_key_press_interrupts_even_a_prompt_that_cannot_be_interrupted(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes], recording: str
) -> None:
    voice = channel(line, asr, tts)
    asyncio.get_running_loop().call_later(1.0, line.customer.send_dtmf, "2")
    played = await voice.play(Prompt(PROMPT, recording, interruptible=False))
    assert played.status == "interrupted" and played.heard_text == ""
    assert played.played_seconds < 2.0
    assert await voice.listen(1.0) == Dtmf("2")
    await voice.close()


async def test_what_is_said_over_a_prompt_that_cannot_be_interrupted_is_kept(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes], recording: str
) -> None:
    voice = channel(line, asr, tts)
    asyncio.get_running_loop().call_later(1.0, line.customer.play_pcm, clips["question"])
    played = await voice.play(Prompt(PROMPT, recording, interruptible=False))
    assert played.status == "completed"
    assert played.played_seconds >= seconds(clips["prompt"]) - 0.1
    heard = await voice.listen(0.1)
    assert isinstance(heard, Speech) and cer("请问多少钱一个月", heard.text) <= 0.25, heard
    await voice.close()


async def test_fixed_clauses_come_from_the_cache_and_only_the_variable_one_is_rendered(
    line: Line, asr: WhisperAsr, tts: EspeakTts
) -> None:
    cache = PromptCache(tts)
    await cache.warm(["您好，{name}先生。我是小美，来自星河银行。"], by_clause=True)
    assert cache.renders == 2  # "我是小美，" and "来自星河银行。"; the clause with a variable is left
    voice = VoiceChannel(line.robot, asr=asr, tts=_Counting(tts), vad=WebRtcVad(), cache=cache)
    voice.start()
    played = await voice.play(Prompt("您好，张三先生。我是小美，来自星河银行。"))
    assert played.status == "completed"
    assert voice.tts.said == ["您好，张三先生。"]  # type: ignore[attr-defined]
    await voice.close()


# --------------------------------------------------------------------------- bad input


async def test_line_noise_and_music_are_not_turns(line: Line, asr: WhisperAsr, tts: EspeakTts) -> None:
    voice = channel(line, asr, tts)
    t = np.arange(4000) / 8000
    tune = np.concatenate(
        [np.sin(2 * np.pi * f * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) for f in (262, 330, 392, 440, 392, 330)]
    )
    line.customer.play_pcm(noise(2000, 300) + (tune * 8000).astype(np.int16).tobytes())
    heard = await voice.listen(5.0)
    # Hiss never makes a turn; the tune passes the VAD, but its held tones are never sent to the ASR.
    assert isinstance(heard, Silence), heard
    assert voice.stats.dropped >= 1
    await voice.close()


async def test_a_customer_who_never_stops_talking_gets_a_capped_turn(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes]
) -> None:
    voice = channel(line, asr, tts, max_utterance_ms=4000)
    line.customer.play_pcm(clips["long"] + clips["long"])
    loop = asyncio.get_running_loop()
    started = loop.time()
    heard = await voice.listen(3.0)
    assert isinstance(heard, Speech) and heard.capped and heard.text
    assert loop.time() - started < 4.0 + 3.0  # the cap plus recognition, under load
    await voice.close()


async def test_clipped_loud_speech_is_still_heard(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes]
) -> None:
    voice = channel(line, asr, tts)
    loud = np.clip(np.frombuffer(clips["question"], "<i2").astype(np.int32) * 8, -32768, 32767).astype(np.int16)
    line.customer.play_pcm(loud)
    heard = await voice.listen(3.0)
    assert isinstance(heard, Speech) and cer("请问多少钱一个月", heard.text) <= 0.5, heard
    await voice.close()


async def test_another_language_ends_in_a_defined_event(line: Line, asr: WhisperAsr, tts: EspeakTts) -> None:
    voice = channel(line, asr, tts)
    english = await EspeakTts(default_voice="en-gb").synthesize("Hello, I would like to speak to your manager please.")
    line.customer.play_pcm(english)
    heard = await voice.listen(3.0)
    assert isinstance(heard, Speech | Silence)  # Mandarin-ish words for the NLU's unknown, or nothing
    await voice.close()


async def test_a_customer_who_talks_over_every_prompt_never_sticks_the_call(
    line: Line, asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes], recording: str
) -> None:
    voice = channel(line, asr, tts)
    for _ in range(2):
        asyncio.get_running_loop().call_later(0.8, line.customer.play_pcm, clips["refuse"])
        played = await asyncio.wait_for(voice.play(Prompt(PROMPT, recording)), 15)
        assert played.status == "interrupted" and played.heard_text
    await voice.close()


# --------------------------------------------------------------------------- helpers


class _Counting:
    """A TTS engine that remembers what it was asked to say (around a real one)."""

    def __init__(self, tts: EspeakTts) -> None:
        self.inner, self.name, self.said = tts, tts.name, list[str]()

    async def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        self.said.append(text)
        return await self.inner.synthesize(text, voice=voice, rate=rate)

    def stream(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> AsyncIterator[bytes]:
        return self.inner.stream(text, voice=voice, rate=rate)

    async def close(self) -> None:
        pass


def test_the_runtime_gives_sip_calls_speech_when_the_settings_name_an_asr(tmp_path: Path) -> None:
    from callbot.config import Settings
    from callbot.kit.clock import SystemClock
    from callbot.runtime import build_gateways
    from callbot.telephony.sip.gateway import SipGateway

    sip = build_gateways(Settings(data_dir=tmp_path), SystemClock()).get("sip")
    assert isinstance(sip, SipGateway) and sip.speech is None
    settings = Settings(data_dir=tmp_path, speech_asr="whisper", speech_tts="espeak")
    sip = build_gateways(settings, SystemClock()).get("sip")
    assert isinstance(sip, SipGateway) and sip.speech is not None
    assert (sip.speech.asr.name, sip.speech.tts.name, sip.speech.vad().name) == ("whisper", "espeak", "webrtc")
