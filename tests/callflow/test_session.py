"""The call session: one pipeline per answered call, its task named and owned by one task group, a stop
that ends the call at its next step or cancels it after the graceful-stop timeout, and a fault inside the
call that hangs up with a result instead of unwinding it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from callbot.callflow.session import CallSession, place_call
from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import load_script_file
from callbot.kit.clock import FrozenClock, SystemClock
from callbot.telephony.gateway import CallLeg, DialRequest, Heard, PlayOutcome, Prompt
from callbot.telephony.sim import SimGateway

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "scripts" / "credit_card_instalment.yaml"
VARIABLES = {"name": "王先生", "bank": "招商银行", "amount": "3200"}
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@cache
def engine() -> DialogueEngine:
    script = load_script_file(str(SCRIPT))
    return DialogueEngine(script, build_recognizer(script.intents))


async def answered(gateway: SimGateway, replies: str, call_id: str = "c1") -> CallLeg:
    properties = {"sim_result": "ANSWERED", "sim_replies": replies}
    outcome = await gateway.dial(DialRequest(call_id, "057188880001", "13900004001", properties=properties))
    assert outcome.leg is not None
    return outcome.leg


async def test_the_call_runs_as_a_named_task_of_its_session() -> None:
    gateway = SimGateway(clock=SystemClock(), speed=50.0, seed=3)
    leg = await answered(gateway, "嗯你说|多少钱", call_id="named-1")
    session = CallSession(leg, engine(), engine().new_state(VARIABLES))
    run = asyncio.create_task(session.run())
    await asyncio.sleep(0.05)
    assert "dialogue:named-1" in {task.get_name() for task in asyncio.all_tasks()}
    end = await run
    assert end.state.ended and not end.cut and not end.failed
    assert "dialogue:named-1" not in {task.get_name() for task in asyncio.all_tasks()}
    assert leg.closed and gateway.open_legs == 0


async def test_stop_ends_the_call_at_its_next_step_without_a_further_word() -> None:
    gateway = SimGateway(clock=SystemClock(), speed=20.0, seed=3)
    leg = await answered(gateway, "嗯你说|多少钱|利息怎么算|我再想想|好的")
    session = CallSession(leg, engine(), engine().new_state(VARIABLES), stop_timeout_s=10.0)
    run = asyncio.create_task(session.run())
    while len(session.state.transcript) < 2:  # the opening was said and answered
        await asyncio.sleep(0.01)
    said = len(session.state.transcript)
    await asyncio.gather(session.stop(), session.stop())  # idempotent, from two places at once
    end = await run
    assert end.cut and not end.failed and not end.state.ended
    assert len(end.state.transcript) <= said + 1  # at most the reply to the step already under way
    assert leg.ended_by == "robot" and gateway.open_legs == 0
    await session.stop()  # after the end: returns at once


async def test_a_step_that_outlasts_the_graceful_stop_is_cancelled() -> None:
    gateway = SimGateway(clock=SystemClock(), speed=1.0, seed=3)  # real time: a silence lasts 5 s
    leg = await answered(gateway, "|||")
    session = CallSession(leg, engine(), engine().new_state(VARIABLES), stop_timeout_s=0.2)
    run = asyncio.create_task(session.run())
    await asyncio.sleep(0.1)  # inside the opening prompt (several seconds long)
    started = time.monotonic()
    await session.stop()
    assert time.monotonic() - started < 2.0
    end = await run
    assert end.cut and leg.closed and gateway.open_legs == 0


async def test_a_session_stopped_before_it_runs_never_speaks() -> None:
    gateway = SimGateway(clock=FrozenClock(T0), speed=0.0, seed=3)
    leg = await answered(gateway, "嗯你说")
    session = CallSession(leg, engine(), engine().new_state(VARIABLES))
    await session.stop()
    end = await session.run()
    assert end.cut and end.state.transcript == () and leg.closed


class BrokenLeg:
    """A sim leg whose second listen fails the way a broken transport would."""

    def __init__(self, leg: CallLeg) -> None:
        self._leg = leg
        self.listens = 0
        self.call_id = leg.call_id

    @property
    def closed(self) -> bool:
        return self._leg.closed

    @property
    def ended_by(self):  # type: ignore[no-untyped-def]
        return self._leg.ended_by

    @property
    def elapsed_s(self) -> float:
        return self._leg.elapsed_s

    def offset_ms(self) -> int:
        return self._leg.offset_ms()

    async def play(self, prompt: Prompt) -> PlayOutcome:
        return await self._leg.play(prompt)

    async def listen(self, timeout_s: float) -> Heard:
        self.listens += 1
        if self.listens == 2:
            raise ConnectionError("media stream lost")
        return await self._leg.listen(timeout_s)

    async def transfer(self, target: str) -> bool:
        return await self._leg.transfer(target)

    async def hangup(self) -> None:
        await self._leg.hangup()


async def test_a_fault_inside_the_call_hangs_up_with_a_result() -> None:
    gateway = SimGateway(clock=FrozenClock(T0), speed=0.0, seed=3)
    leg = BrokenLeg(await answered(gateway, "嗯你说|多少钱|好的"))
    end = await CallSession(leg, engine(), engine().new_state(VARIABLES)).run()
    assert end.failed and not end.cut and leg.listens == 2
    assert [t.speaker for t in end.state.transcript] == ["ROBOT", "PERSON", "ROBOT"]
    assert leg.closed and gateway.open_legs == 0


async def test_place_call_grades_a_failed_call_as_a_system_error() -> None:
    class BrokenGateway(SimGateway):
        async def dial(self, request, on_ringing=None):  # type: ignore[no-untyped-def]
            outcome = await super().dial(request, on_ringing)
            assert outcome.leg is not None
            return type(outcome)(outcome.status, outcome.ring_seconds, BrokenLeg(outcome.leg), outcome.reason)

    gateway = BrokenGateway(clock=FrozenClock(T0), speed=0.0, seed=3)
    request = DialRequest("c2", "057188880001", "13900004001", properties={"sim_result": "ANSWERED",
                          "sim_replies": "嗯你说|多少钱|好的"})  # fmt: skip
    outcome = await place_call(gateway, request, engine(), engine().script, VARIABLES)
    assert (outcome.result, outcome.end_reason, outcome.hangup_by) == ("ANSWERED", "system_error", "ROBOT")
    assert len(outcome.transcript) == 3 and gateway.open_legs == 0
