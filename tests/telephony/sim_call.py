"""A minimal call session for the tests: drives a gateway leg with the real dialogue engine, the way
the gateway module's docstring describes (play prompts, listen, step the engine)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from callbot.dialogue.engine import (
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
from callbot.dialogue.levels import Grade, grade
from callbot.telephony.gateway import CallLeg, Dtmf, Gateway, Hangup, Heard, Prompt, Silence, Speech


@dataclass(frozen=True)
class CallSummary:
    state: DialogueState
    grade: Grade
    talk_seconds: float
    ended_by: str | None


def to_event(heard: Heard, offset_ms: int) -> Event:
    if isinstance(heard, Speech):
        return SpeechEvent(heard.text, offset_ms)
    if isinstance(heard, Silence):
        return SilenceEvent(offset_ms)
    if isinstance(heard, Dtmf):
        return DtmfEvent(heard.digit, offset_ms)
    assert isinstance(heard, Hangup)
    return HangupEvent(offset_ms)


async def talk(leg: CallLeg, engine: DialogueEngine, variables: Mapping[str, str]) -> CallSummary:
    timeout_s = engine.script.settings.silence_timeout_ms / 1000
    state, actions = engine.step(engine.new_state(variables), AnsweredEvent(offset_ms=0))
    try:
        while True:
            event: Event | None = None
            for action in actions:
                if isinstance(action, SayAction):
                    played = await leg.play(Prompt(action.text, action.audio, action.interruptible))
                    if played.status == "hangup":
                        event = HangupEvent(leg.offset_ms())
                        break
                    if played.status == "interrupted":
                        event = BargeInEvent(played.heard_text, leg.offset_ms())
                        break
                elif isinstance(action, TransferAction):
                    await leg.transfer(action.target or "sip:default@pbx.local")
                elif isinstance(action, HangUpAction):
                    await leg.hangup()
            if state.ended and event is None:
                break
            if event is None:
                event = to_event(await leg.listen(timeout_s), leg.offset_ms())
            state, actions = engine.step(state, event)
            if state.ended and not actions:
                break
    finally:
        await leg.hangup()
    return CallSummary(state, grade(engine.script, state, leg.elapsed_s), leg.elapsed_s, leg.ended_by)


async def call(gateway: Gateway, engine: DialogueEngine, callee: str, variables: Mapping[str, str],
               properties: Mapping[str, str] | None = None) -> CallSummary | None:  # fmt: skip
    from callbot.telephony.gateway import DialRequest

    outcome = await gateway.dial(DialRequest(f"call-{callee}", "02100000000", callee, properties=properties or {}))
    if outcome.leg is None:
        return None
    return await talk(outcome.leg, engine, variables)
