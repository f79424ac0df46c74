"""A text chat with a script (文本对话测试), run through the call session like a phone call.

`callbot chat` and the tests drive a script here: replies in (typed or listed, in the reply language),
transcript and grading out. Only the transport differs from a call: a `ChatLeg` instead of a gateway's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from callbot.callflow.session import CallSession, StepObserver
from callbot.dialogue.conversation import ConversationResult, estimate_talk_seconds
from callbot.dialogue.engine import DialogueEngine, HangupEvent, Recognizer
from callbot.dialogue.levels import grade
from callbot.dialogue.script import Script
from callbot.telephony.chat import ChatLeg, ReplyList, ReplySource
from callbot.telephony.reply import parse_replies

__all__ = ["chat", "chat_replies"]


async def chat(
    script: Script,
    recognizer: Recognizer,
    variables: Mapping[str, object],
    replies: ReplySource,
    *,
    talk_seconds: float | None = None,
    on_step: StepObserver | None = None,
) -> ConversationResult:
    """Answer, take the customer's replies until the call ends, and grade it. When the replies run out
    while the call goes on, the customer hangs up (end `customer_hangup`). Without `talk_seconds` the
    talk time is estimated from the transcript. Raises `MissingVariables` before the call starts."""
    engine = DialogueEngine(script, recognizer)
    state = engine.new_state(variables)
    end = await CallSession(ChatLeg(replies), engine, state, on_step=on_step).run()
    state = end.state
    if not state.ended:  # a call cut short is graded as if the customer had hung up there
        state, _ = engine.step(state, HangupEvent())
    seconds = talk_seconds if talk_seconds is not None else estimate_talk_seconds(state.transcript, script.settings)
    return ConversationResult(state, grade(script, state, seconds), seconds)


async def chat_replies(
    script: Script,
    recognizer: Recognizer,
    replies: Sequence[str],
    variables: Mapping[str, object],
    *,
    talk_seconds: float | None = None,
) -> ConversationResult:
    """`chat` with a list of replies; `ReplyInvalid` names a bad one before the call starts."""
    return await chat(script, recognizer, variables, ReplyList(parse_replies(replies)), talk_seconds=talk_seconds)
