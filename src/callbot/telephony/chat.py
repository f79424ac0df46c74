"""The text chat as a call leg (文本对话): `callbot chat` and the tests talk to a script through the same
call session as a phone call, with replies typed or listed instead of spoken.

Replies are in the reply language (`callbot.telephony.reply`). A `/barge` reply is said over the robot's
next interruptible prompt when it is already known then (a list of replies); a reply typed at the
terminal comes after the robot's turn was shown, so there a `/barge` is heard as the reply to it. No
clock runs in a chat: the leg's call time stays 0 (a chat estimates its talk time from the transcript).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from callbot.telephony.gateway import Hangup, Heard, PlayOutcome, Prompt, Silence, Speech
from callbot.telephony.reply import Reply

__all__ = ["ChatLeg", "ReplyList", "ReplySource"]


class ReplySource(Protocol):
    """Where a chat's replies come from."""

    async def next(self) -> Reply | None:
        """The customer's next reply; None when there is none (the customer hangs up)."""
        ...

    def barge(self) -> Reply | None:
        """Take the next reply if it is known already and said over the robot's prompt (`/barge`)."""
        ...


class ReplyList:
    """Replies given up front (a `--replies` file, a test)."""

    def __init__(self, replies: Sequence[Reply]) -> None:
        self._replies = list(replies)
        self._next = 0

    async def next(self) -> Reply | None:
        if self._next >= len(self._replies):
            return None
        self._next += 1
        return self._replies[self._next - 1]

    def barge(self) -> Reply | None:
        if self._next < len(self._replies) and self._replies[self._next].barge:
            self._next += 1
            return self._replies[self._next - 1]
        return None


class ChatLeg:
    """An answered chat: prompts go to the reader, replies come from `replies`."""

    def __init__(self, replies: ReplySource, call_id: str = "chat") -> None:
        self._replies = replies
        self._call_id = call_id
        self._ended_by: Literal["robot", "customer", "transfer"] | None = None
        self.transferred_to: str | None = None

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def closed(self) -> bool:
        return self._ended_by is not None

    @property
    def ended_by(self) -> Literal["robot", "customer", "transfer"] | None:
        return self._ended_by

    @property
    def elapsed_s(self) -> float:
        return 0.0

    def offset_ms(self) -> int:
        return 0

    def _end(self, by: Literal["robot", "customer", "transfer"]) -> None:
        if self._ended_by is None:
            self._ended_by = by

    async def play(self, prompt: Prompt) -> PlayOutcome:
        if self.closed:
            return PlayOutcome("hangup", 0.0)
        barge = self._replies.barge() if prompt.interruptible else None
        if barge is None:
            return PlayOutcome("completed", 0.0)
        assert isinstance(barge.heard, Speech)
        return PlayOutcome("interrupted", 0.0, barge.heard.text)

    async def listen(self, timeout_s: float) -> Heard:
        if self.closed:
            return Hangup()
        reply = await self._replies.next()
        if reply is None or isinstance(reply.heard, Hangup):
            self._end("customer")
            return Hangup()
        if reply.barge and reply.heard == Speech(""):
            return Silence()  # nothing recognisable was said over the prompt, and nothing after it
        return reply.heard

    async def transfer(self, target: str) -> bool:
        if self.closed or not target.strip():
            return False
        self.transferred_to = target
        self._end("transfer")
        return True

    async def hangup(self) -> None:
        self._end("robot")
