"""What one dial attempt came to (通话结果), ready to become a call record: answered or not, graded.

Pure values: no store, no settings. The campaign writes a `CallOutcome` as the call record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callbot.dialogue.engine import DialogueState
from callbot.dialogue.levels import grade
from callbot.dialogue.script import Script
from callbot.models.enums import RESULT_LABELS, CallResult, HangupBy, Level
from callbot.telephony.gateway import DialStatus

__all__ = ["INTERRUPTED", "CallOutcome", "answered", "interrupted", "unanswered"]

# The end reason of an attempt cut short by the platform (a worker that died, froze or lost its lease).
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class CallOutcome:
    """What happened on one dial attempt, ready to become a call record."""

    result: CallResult
    ring_seconds: float
    chat_seconds: float = 0.0
    rounds: int = 0
    level: Level = Level.F
    reason: str = ""
    concerns: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    intents: Mapping[str, int] = field(default_factory=dict)
    transcript: tuple[dict[str, Any], ...] = ()
    end_reason: str = ""
    hangup_by: HangupBy = HangupBy.NOBODY
    transferred_to: str = ""
    transfer_status: str = ""  # how a transfer went (see `CallRecord.transfer_status`)
    # Recordings of an answered call, relative to the recordings folder: both parties, the customer alone.
    recording_path: str = ""
    customer_recording_path: str = ""

    @property
    def answered(self) -> bool:
        return self.result is CallResult.ANSWERED


def unanswered(result: str, ring_seconds: float, reason: str = "") -> CallOutcome:
    """An attempt that never reached the customer: level F, its result as the analysis basis. `result` is
    a dial status (`DialStatus`, the same names as `CallResult`)."""
    label = RESULT_LABELS.get(result, result)
    return CallOutcome(
        result=CallResult(result),
        ring_seconds=ring_seconds,
        level=Level.F,
        reason=f"{label}{f'：{reason}' if reason else ''}",
    )


def interrupted() -> CallOutcome:
    """An attempt the platform cut short before the customer was reached (its worker died, froze or lost
    the lease): SYSTEM_ERROR, interrupted."""
    outcome = unanswered(DialStatus.SYSTEM_ERROR.value, 0.0, "通话中断（外呼进程失联）")
    return CallOutcome(**{**outcome.__dict__, "end_reason": INTERRUPTED})


def answered(
    script: Script,
    state: DialogueState,
    *,
    ring_seconds: float,
    talk_seconds: float,
    cut: bool,
    failed: bool,
    ended_by_customer: bool,
    transferred_to: str,
    recordings: tuple[str, str] = ("", ""),
    transfer_status: str = "",
) -> CallOutcome:
    """An answered call, graded on what was said. `cut`: the platform stopped it (interrupted);
    `failed`: a fault ended it (system_error, unless the dialogue had already ended)."""
    graded = grade(script, state, talk_seconds=talk_seconds)
    end = INTERRUPTED if cut else state.end or ("system_error" if failed else "customer_hangup")
    by = HangupBy.PERSON if ended_by_customer or end == "customer_hangup" else HangupBy.ROBOT
    return CallOutcome(
        result=CallResult.ANSWERED,
        ring_seconds=ring_seconds,
        chat_seconds=talk_seconds,
        rounds=state.rounds,
        level=Level(graded.level),
        reason=graded.reason,
        concerns=graded.concerns,
        tags=graded.tags,
        intents=dict(state.intents),
        transcript=tuple(_transcript_entry(t.to_dict()) for t in state.transcript),
        end_reason=end,
        hangup_by=HangupBy.NOBODY if transferred_to else by,
        transferred_to=transferred_to,
        transfer_status=transfer_status[:200],
        recording_path=recordings[0],
        customer_recording_path=recordings[1],
    )


def _transcript_entry(turn: dict[str, Any]) -> dict[str, Any]:
    """The record keeps what a reader of the call needs: who, what, where in the script, which intent, when."""
    entry = {
        "speaker": turn["speaker"],
        "text": turn["text"],
        "node": turn["node"],
        "intent": turn["intent"],
        "offset_ms": turn["offset_ms"],
    }
    if turn.get("evidence"):
        entry["evidence"] = turn["evidence"]
    if turn.get("interrupted"):
        entry["interrupted"] = True
    return entry
