"""The result of a text conversation with a script (文本对话): its final state, grading and talk time.

Pure like the engine. The chat itself runs through the call session (`callbot.callflow.chat`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from callbot.dialogue.engine import DialogueState, Turn
from callbot.dialogue.levels import Grade
from callbot.dialogue.script_model import Settings

__all__ = ["ConversationResult", "estimate_talk_seconds"]

# Rough speaking rates, so `talk_seconds` rules can be tried in a text chat where no clock runs.
_ROBOT_CHARS_PER_SECOND = 4.5
_PERSON_CHARS_PER_SECOND = 4.0
_PERSON_REACTION_SECONDS = 1.0


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
