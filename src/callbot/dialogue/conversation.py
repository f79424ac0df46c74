"""A whole text conversation with a script (文本对话): replies in, transcript and grading out.

Pure like the engine: `callbot chat`, the tests and the simulated customer all drive calls through
`Conversation` / `run_conversation`. A reply is what the customer says; `""` is a silence,
`/dtmf 1` a key press, `/barge TEXT` speech over the prompt and `/hangup` the customer hanging up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callbot.dialogue.engine import (
    Action,
    AnsweredEvent,
    BargeInEvent,
    DialogueEngine,
    DialogueState,
    DtmfEvent,
    Event,
    HangupEvent,
    Recognizer,
    SilenceEvent,
    SpeechEvent,
    Turn,
)
from callbot.dialogue.levels import Grade, grade
from callbot.dialogue.script_model import DTMF_KEYS, Script, Settings

__all__ = [
    "Conversation",
    "ConversationResult",
    "estimate_talk_seconds",
    "parse_reply",
    "run_conversation",
]

# Rough speaking rates, so `talk_seconds` rules can be tried in a text chat where no clock runs.
_ROBOT_CHARS_PER_SECOND = 4.5
_PERSON_CHARS_PER_SECOND = 4.0
_PERSON_REACTION_SECONDS = 1.0


def parse_reply(reply: str) -> Event:
    """One customer reply as an engine event. Raises ValueError for an unknown `/command`."""
    text = reply.strip()
    if not text:
        return SilenceEvent()
    if not text.startswith("/"):
        return SpeechEvent(text)
    command, _, argument = text.partition(" ")
    argument = argument.strip()
    if command == "/hangup":
        return HangupEvent()
    if command == "/dtmf":
        if argument not in DTMF_KEYS:
            raise ValueError(f"/dtmf takes one key (0-9, *, #), got {argument!r}")
        return DtmfEvent(argument)
    if command == "/barge":
        return BargeInEvent(argument)
    raise ValueError(f"unknown command {command!r}: use /dtmf KEY, /barge TEXT or /hangup")


def estimate_talk_seconds(transcript: Iterable[Turn], settings: Settings) -> float:
    """Talk time of a text conversation, estimated from the length of what was said and the silences."""
    seconds = 0.0
    for turn in transcript:
        if turn.speaker == "ROBOT":
            seconds += len(turn.text) / _ROBOT_CHARS_PER_SECOND
        elif turn.kind == "silence":
            seconds += settings.silence_timeout_ms / 1000
        else:
            seconds += _PERSON_REACTION_SECONDS + len(turn.text) / _PERSON_CHARS_PER_SECOND
    return round(seconds, 1)


@dataclass(frozen=True, slots=True)
class ConversationResult:
    """A finished conversation: the final dialogue state and its grading."""

    state: DialogueState
    grade: Grade
    talk_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary, the shape `callbot chat --json` prints."""
        return {
            "transcript": [_turn_summary(t) for t in self.state.transcript],
            "visited": list(self.state.visited),
            "level": self.grade.level,
            "reason": self.grade.reason,
            "rule": self.grade.rule,
            "concerns": list(self.grade.concerns),
            "tags": list(self.grade.tags),
            "end": self.state.end,
            "rounds": self.state.rounds,
            "intents": dict(self.state.intents),
            "talk_seconds": self.talk_seconds,
        }


def _turn_summary(turn: Turn) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "speaker": turn.speaker,
        "text": turn.text,
        "node": turn.node,
        "intent": turn.intent,
        "kind": turn.kind,
    }
    if turn.evidence is not None:
        summary["evidence"] = turn.evidence
    if turn.interrupted:
        summary["interrupted"] = True
    return summary


class Conversation:
    """One call driven reply by reply. Raises `MissingVariables` if the customer lacks a variable."""

    def __init__(self, script: Script, recognizer: Recognizer, variables: Mapping[str, object]) -> None:
        self.script = script
        self.engine = DialogueEngine(script, recognizer)
        self.state = self.engine.new_state(variables)

    @property
    def ended(self) -> bool:
        return self.state.ended

    def start(self) -> tuple[Action, ...]:
        """The customer answers; returns the robot's opening."""
        return self.event(AnsweredEvent())

    def reply(self, reply: str) -> tuple[Action, ...]:
        """The customer's reply (see `parse_reply`); returns what the robot does."""
        return self.event(parse_reply(reply))

    def event(self, event: Event) -> tuple[Action, ...]:
        self.state, actions = self.engine.step(self.state, event)
        return actions

    def finish(self, talk_seconds: float | None = None) -> ConversationResult:
        """End the call (the customer hangs up if it is still going) and grade it.

        Without `talk_seconds`, the talk time is estimated from the transcript.
        """
        if not self.state.ended:
            self.event(HangupEvent())
        seconds = (
            talk_seconds
            if talk_seconds is not None
            else estimate_talk_seconds(self.state.transcript, self.script.settings)
        )
        return ConversationResult(self.state, grade(self.script, self.state, seconds), seconds)


def run_conversation(
    script: Script,
    recognizer: Recognizer,
    replies: Sequence[str],
    variables: Mapping[str, object],
    *,
    talk_seconds: float | None = None,
) -> ConversationResult:
    """Answer, feed the replies until the call ends, and grade it. When the replies run out while the
    call is still going, the customer hangs up (end `customer_hangup`)."""
    conversation = Conversation(script, recognizer, variables)
    conversation.start()
    for reply in replies:
        if conversation.ended:
            break
        conversation.reply(reply)
    return conversation.finish(talk_seconds)
