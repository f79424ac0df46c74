"""Calls on the sim gateway for the tests, through the product's own call session (`callbot.callflow`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from callbot.callflow.session import CallSession
from callbot.dialogue.engine import DialogueEngine, DialogueState
from callbot.dialogue.levels import Grade, grade
from callbot.telephony.gateway import CallLeg, DialRequest, Gateway

TRANSFER_TO = "sip:default@pbx.local"


@dataclass(frozen=True)
class CallSummary:
    state: DialogueState
    grade: Grade
    talk_seconds: float
    ended_by: str | None


async def talk(leg: CallLeg, engine: DialogueEngine, variables: Mapping[str, str]) -> CallSummary:
    end = await CallSession(leg, engine, engine.new_state(variables), transfer_to=TRANSFER_TO).run()
    return CallSummary(end.state, grade(engine.script, end.state, leg.elapsed_s), leg.elapsed_s, leg.ended_by)


async def call(gateway: Gateway, engine: DialogueEngine, callee: str, variables: Mapping[str, str],
               properties: Mapping[str, str] | None = None) -> CallSummary | None:  # fmt: skip
    outcome = await gateway.dial(DialRequest(f"call-{callee}", "02100000000", callee, properties=properties or {}))
    if outcome.leg is None:
        return None
    return await talk(outcome.leg, engine, variables)
