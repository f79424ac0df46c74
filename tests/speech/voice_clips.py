"""The speech tests' voice clips: what each says, and a TTS engine that speaks them by their text."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
