"""Speech fixtures: the local engines for real (espeak-ng TTS, Whisper ASR in its worker process)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from callbot.speech.espeak import EspeakTts
from callbot.speech.whisper import WhisperAsr


@pytest.fixture(scope="session")
def tts() -> EspeakTts:
    return EspeakTts()


@pytest.fixture(scope="session")
def asr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhisperAsr]:
    """One Whisper engine for the session (its worker loads the model once, ~5 s)."""
    engine = WhisperAsr(Path(tmp_path_factory.mktemp("models")), workers=1, threads=2)
    asyncio.run(engine.start())
    yield engine
    asyncio.run(engine.close())
