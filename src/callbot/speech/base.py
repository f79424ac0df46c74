"""The speech interfaces: voice activity (VAD), recognition (ASR, 语音识别) and synthesis (TTS, 语音合成).

Audio everywhere in this package is telephone audio: 8 kHz, mono, signed 16-bit little-endian PCM
(`bytes`), the form a G.711 frame decodes to. A VAD frame is 20 ms (320 bytes).

Engine-layer code: no store, no settings, no dialogue imports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from callbot.errors import CallbotError, NotFound

__all__ = [
    "BYTES_PER_FRAME",
    "FRAME_MS",
    "SAMPLE_RATE",
    "AsrEngine",
    "SpeechEngineUnavailable",
    "Transcript",
    "TtsEngine",
    "UnknownSpeechEngine",
    "VadEngine",
    "Word",
]

SAMPLE_RATE = 8000
FRAME_MS = 20
BYTES_PER_FRAME = SAMPLE_RATE * FRAME_MS // 1000 * 2


class UnknownSpeechEngine(NotFound):
    """No speech engine by that name."""


class SpeechEngineUnavailable(CallbotError):
    """A speech engine cannot run here: a package, program or model it needs is missing."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word (for Mandarin usually one or two characters) and where it was said,
    in milliseconds from the start of the utterance's audio."""

    text: str
    start_ms: int
    end_ms: int
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """What an ASR engine heard in one utterance.

    `text` is simplified Chinese ("" when nothing usable was heard); `confidence` is 0..1. When the
    engine refused the audio or its output, `dropped` says why ("silence", "no speech", "hallucination",
    "error: ...") and `text` is "". `queued_ms` is how long the utterance waited for a free recogniser
    and `cpu_ms` the CPU time recognition took, for logs and metrics; `truncated` is True when the audio
    was longer than the engine's cap and only its start was recognised.
    """

    text: str
    confidence: float = 0.0
    words: tuple[Word, ...] = ()
    duration_ms: int = 0
    dropped: str = ""
    queued_ms: int = 0
    cpu_ms: int = 0
    truncated: bool = False
    engine: str = ""

    def chars(self) -> list[tuple[str, int, int]]:
        """Each character of the words with its (start_ms, end_ms): a word's time is shared evenly
        among its characters (Whisper times words, not characters)."""
        out: list[tuple[str, int, int]] = []
        for word in self.words:
            text = word.text.strip()
            if not text:
                continue
            step = (word.end_ms - word.start_ms) / len(text)
            for i, char in enumerate(text):
                out.append((char, round(word.start_ms + i * step), round(word.start_ms + (i + 1) * step)))
        return out


@runtime_checkable
class VadEngine(Protocol):
    """Voice activity on one call's audio, one 20 ms frame at a time.

    One instance per call and direction: an engine may keep state from frame to frame. Cheap enough to
    run on every frame of every call on the event loop (the webrtc engine costs ~0.1 ms per audio second).
    """

    @property
    def name(self) -> str: ...

    def speech_probability(self, frame: bytes) -> float:
        """How likely `frame` (20 ms, 320 bytes of 8 kHz PCM) holds speech, 0..1. Engines with a
        yes/no decision answer 0.0 or 1.0. Raises ValueError for a frame of the wrong size."""
        ...

    def is_speech(self, frame: bytes) -> bool:
        """The engine's decision for `frame` at its own threshold."""
        ...


@runtime_checkable
class AsrEngine(Protocol):
    """Speech to text for whole utterances (the caller cuts turns with a `VadEngine`).

    One instance serves every call of a process; heavy engines run their model outside the event loop
    (worker processes at a lower priority than media). `transcribe` never raises for bad audio
    (silence, noise, clipping, another language): it returns a `Transcript` with empty `text` and the
    reason in `dropped`. An overloaded engine answers later, never not at all.
    """

    @property
    def name(self) -> str: ...

    async def start(self) -> None:
        """Load models and warm up, so the first call's first turn does not pay for it. Idempotent."""
        ...

    async def transcribe(self, pcm: bytes) -> Transcript:
        """Recognise one utterance of 8 kHz 16-bit PCM."""
        ...

    async def close(self) -> None:
        """Release workers and models. Idempotent."""
        ...


@runtime_checkable
class TtsEngine(Protocol):
    """Text to 8 kHz 16-bit PCM, whole or clause by clause.

    `voice` is an engine-specific voice id (None: the engine's default; a script's `settings.voice`
    "default" means the same); `rate` scales the speaking rate (1.0 normal, 1.2 faster).
    """

    @property
    def name(self) -> str: ...

    async def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        """The whole of `text` as one PCM buffer. Raises ValueError for empty text or a bad rate."""
        ...

    def stream(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> AsyncIterator[bytes]:
        """`text` clause by clause (split at punctuation), so playback can start after the first one."""
        ...

    async def close(self) -> None:
        """Release what the engine holds. Idempotent."""
        ...
