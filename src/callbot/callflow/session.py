"""A call session: dial through a gateway, converse with the dialogue engine on the answered leg, grade.

Pure orchestration: no store, no settings. It returns a `CallOutcome` that the campaign writes as the
call record. An error inside a live call never unwinds it: the call is hung up and the outcome says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callbot.dialogue.engine import (
    Action,
    AnsweredEvent,
    BargeInEvent,
    DialogueEngine,
    DialogueState,
    DtmfEvent,
    Event,
    HangUpAction,
    HangupEvent,
    SayAction,
    SilenceEvent,
    SpeechEvent,
    TransferAction,
)
from callbot.dialogue.levels import grade
from callbot.dialogue.script import Script
from callbot.models.enums import RESULT_LABELS
from callbot.telephony.gateway import (
    CallLeg,
    DialRequest,
    DialStatus,
    Dtmf,
    Gateway,
    Hangup,
    Prompt,
    Silence,
    Speech,
)

log = logging.getLogger(__name__)

# The end reason of an attempt cut short by the platform (a worker that died, froze or lost its lease).
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class CallOutcome:
    """What happened on one dial attempt, ready to become a call record."""

    result: str
    ring_seconds: float
    chat_seconds: float = 0.0
    rounds: int = 0
    level: str = "F"
    reason: str = ""
    concerns: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    intents: Mapping[str, int] = field(default_factory=dict)
    transcript: tuple[dict[str, Any], ...] = ()
    end_reason: str = ""
    hangup_by: str = ""  # ROBOT | PERSON
    transferred_to: str = ""

    @property
    def answered(self) -> bool:
        return self.result == DialStatus.ANSWERED.value


def unanswered(result: str, ring_seconds: float, reason: str = "") -> CallOutcome:
    """An attempt that never reached the customer: level F, its result as the analysis basis."""
    label = RESULT_LABELS.get(result, result)
    return CallOutcome(
        result=result, ring_seconds=ring_seconds, level="F", reason=f"{label}{f'：{reason}' if reason else ''}"
    )


async def place_call(
    gateway: Gateway,
    request: DialRequest,
    engine: DialogueEngine,
    script: Script,
    variables: Mapping[str, object],
    *,
    transfer_to: str = "",
    held: Callable[[], bool] = lambda: True,
) -> CallOutcome:
    """Dial `request` on `gateway` and, when answered, hold the conversation to its end.

    `held` says whether this process may still act on the call (its lease on the attempt is alive). It is
    asked before dialling, before every prompt and before every listen; once it says no, the call is hung
    up before anything more is said and the outcome ends as interrupted, so a worker that froze or lost
    its lease never talks to a customer another worker may be calling again.
    """
    if not held():
        return interrupted()
    outcome = await gateway.dial(request)
    if outcome.leg is None:
        status = outcome.status.value if outcome.status is not DialStatus.ANSWERED else DialStatus.SYSTEM_ERROR.value
        return unanswered(status, outcome.ring_seconds, outcome.reason)
    leg = outcome.leg
    state = engine.new_state(variables)
    transferred = ""
    failed = cut = False
    try:
        state, transferred, cut = await _converse(leg, engine, script, state, transfer_to, held)
    except Exception:  # a fault must not unwind the call: hang up and grade what was said
        log.exception("call %s failed mid-conversation", request.call_id)
        failed = True
    finally:
        await leg.hangup()
    talk = leg.elapsed_s
    graded = grade(script, state, talk_seconds=talk)
    end = INTERRUPTED if cut else state.end or ("system_error" if failed else "customer_hangup")
    by = "PERSON" if leg.ended_by == "customer" or end == "customer_hangup" else "ROBOT"
    return CallOutcome(
        result=DialStatus.ANSWERED.value,
        ring_seconds=outcome.ring_seconds,
        chat_seconds=talk,
        rounds=state.rounds,
        level=graded.level,
        reason=graded.reason,
        concerns=graded.concerns,
        tags=graded.tags,
        intents=dict(state.intents),
        transcript=tuple(_transcript_entry(t.to_dict()) for t in state.transcript),
        end_reason=end,
        hangup_by="" if transferred else by,
        transferred_to=transferred,
    )


def interrupted() -> CallOutcome:
    """An attempt the platform cut short before the customer was reached (its worker died, froze or lost
    the lease): SYSTEM_ERROR, interrupted."""
    outcome = unanswered(DialStatus.SYSTEM_ERROR.value, 0.0, "通话中断（外呼进程失联）")
    return CallOutcome(**{**outcome.__dict__, "end_reason": INTERRUPTED})


async def _converse(
    leg: CallLeg,
    engine: DialogueEngine,
    script: Script,
    state: DialogueState,
    transfer_to: str,
    held: Callable[[], bool],
) -> tuple[DialogueState, str, bool]:
    """Say, listen, step, until the engine ends the call; the last step's actions (goodbye, hang-up,
    transfer) are carried out before returning. The flag is True when `held` cut the call short."""
    state, actions = engine.step(state, AnsweredEvent(offset_ms=0))
    transferred = ""
    silence_timeout = script.settings.silence_timeout_ms / 1000
    while True:
        event, transferred, cut = await _perform(leg, actions, transfer_to, transferred, held)
        if cut:
            return state, transferred, True
        if state.ended or (leg.closed and event is None):
            return state, transferred, False
        if event is None:
            if not held():
                return state, transferred, True
            event = _event(await leg.listen(silence_timeout), leg)
        state, actions = engine.step(state, event)


async def _perform(
    leg: CallLeg, actions: tuple[Action, ...], transfer_to: str, transferred: str, held: Callable[[], bool]
) -> tuple[Event | None, str, bool]:
    """Carry out the engine's actions; returns the event that cut them short (barge-in, hang-up), if any,
    and whether `held` stopped them."""
    for action in actions:
        if leg.closed:
            return (HangupEvent(offset_ms=leg.offset_ms()) if leg.ended_by == "customer" else None), transferred, False
        if isinstance(action, SayAction):
            if not held():
                return None, transferred, True
            played = await leg.play(Prompt(action.text, action.audio, action.interruptible))
            if played.status == "hangup":
                return HangupEvent(offset_ms=leg.offset_ms()), transferred, False
            if played.status == "interrupted":
                return BargeInEvent(played.heard_text, offset_ms=leg.offset_ms()), transferred, False
        elif isinstance(action, TransferAction):
            target = action.target or transfer_to
            if target and await leg.transfer(target):
                transferred = target
        elif isinstance(action, HangUpAction):
            await leg.hangup()
    return None, transferred, False


def _event(heard: Speech | Silence | Dtmf | Hangup, leg: CallLeg) -> Event:
    offset = leg.offset_ms()
    if isinstance(heard, Speech):
        return SpeechEvent(heard.text, offset_ms=offset)
    if isinstance(heard, Dtmf):
        return DtmfEvent(heard.digit, offset_ms=offset)
    if isinstance(heard, Hangup):
        return HangupEvent(offset_ms=offset)
    return SilenceEvent(offset_ms=offset)


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
