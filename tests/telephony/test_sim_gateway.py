"""The sim gateway: dial outcomes, speech that takes time, sim speed, scripted customers, barge-in,
transfer and hang-up, and the gateway registry."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from sim_call import call, talk

from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import load_script_file
from callbot.errors import ValidationFailed
from callbot.kit.clock import FrozenClock
from callbot.telephony.gateway import (
    CallLeg,
    DialRequest,
    DialStatus,
    Gateway,
    GatewayRegistry,
    Hangup,
    Prompt,
    Silence,
    Speech,
    UnknownGateway,
    scaled_sleep,
)
from callbot.telephony.sim.gateway import SimGateway

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"
CARD_VARIABLES = {"name": "张三", "bank": "招商银行", "amount": "8600"}


@cache
def card_engine() -> DialogueEngine:
    script = load_script_file(str(EXAMPLES / "credit_card_instalment.yaml"))
    return DialogueEngine(script, build_recognizer(script.intents))


def sim(speed: float, seed: int = 1) -> tuple[SimGateway, FrozenClock]:
    clock = FrozenClock(T0)
    return SimGateway(clock=clock, speed=speed, seed=seed), clock


def waited(clock: FrozenClock) -> float:
    return (clock.now() - T0).total_seconds()


async def answered(gateway: SimGateway, replies: str | None = None, callee: str = "13800000001") -> CallLeg:
    properties = {"sim_result": "ANSWERED"} | ({"sim_replies": replies} if replies is not None else {})
    outcome = await gateway.dial(DialRequest("call-1", "02100000000", callee, properties=properties))
    assert outcome.status is DialStatus.ANSWERED and outcome.leg is not None
    return outcome.leg


def test_the_sim_gateway_and_its_legs_fit_the_interface() -> None:
    gateway, _ = sim(1)
    assert isinstance(gateway, Gateway)
    assert gateway.name == "sim"


async def test_dial_waits_the_ring_time_and_reports_ringing() -> None:
    gateway, clock = sim(speed=1)
    rang: list[str] = []
    outcome = await gateway.dial(
        DialRequest("c", "02100000000", "13800000001", properties={"sim_result": "ANSWERED"}),
        on_ringing=lambda: rang.append("ring"),
    )
    assert isinstance(outcome.leg, CallLeg) and not outcome.leg.closed
    assert 3 <= outcome.ring_seconds <= 15 and waited(clock) == pytest.approx(outcome.ring_seconds)
    assert rang == ["ring"] and outcome.reason == "forced by sim_result=ANSWERED"
    vacant = await gateway.dial(
        DialRequest("c", "02100000000", "13800000001", properties={"sim_result": "VACANT_NUMBER"}),
        on_ringing=lambda: rang.append("ring"),
    )
    assert (vacant.status, vacant.leg, rang) == (DialStatus.VACANT_NUMBER, None, ["ring"])


async def test_a_bad_sim_result_reaches_the_caller_as_a_system_error() -> None:
    gateway, _ = sim(speed=0)
    outcome = await gateway.dial(DialRequest("c", "0210", "138", properties={"sim_result": "ANSWER"}))
    assert outcome.status is DialStatus.SYSTEM_ERROR and "'ANSWER' is not a dial result" in outcome.reason


async def test_speech_takes_time_in_proportion_to_its_length() -> None:
    gateway, clock = sim(speed=1)
    leg = await answered(gateway, "多少钱啊|")
    start = waited(clock)
    played = await leg.play(Prompt("一" * 45))
    assert played.status == "completed" and played.played_seconds == pytest.approx(10.0)
    assert waited(clock) - start == pytest.approx(10.0)
    assert await leg.listen(5.0) == Speech("多少钱啊")  # 1 s to think, 4 characters at 4 a second
    assert waited(clock) - start == pytest.approx(12.0)
    assert await leg.listen(5.0) == Silence()  # a silence lasts the whole listen timeout
    assert waited(clock) - start == pytest.approx(17.0)
    assert leg.elapsed_s == pytest.approx(17.0) and leg.offset_ms() == 17000


@pytest.mark.parametrize("speed", [1, 10, 0])
async def test_sim_speed_scales_every_wait_but_not_the_call_time(speed: float) -> None:
    gateway, clock = sim(speed)
    outcome = await gateway.dial(DialRequest("c", "02100000000", "13800000002", properties={"sim_result": "ANSWERED",
                                              "sim_replies": "嗯你说||多少钱|那就办吧|十二期"}))  # fmt: skip
    assert outcome.leg is not None
    summary = await talk(outcome.leg, card_engine(), CARD_VARIABLES)
    call_time = outcome.ring_seconds + summary.talk_seconds
    assert summary.grade.level == "A" and summary.talk_seconds > 60
    assert waited(clock) == pytest.approx(call_time / speed if speed else 0.0, abs=0.01)


async def test_same_seed_same_calls() -> None:
    async def campaign(seed: int) -> list[object]:
        gateway, _ = sim(speed=0, seed=seed)
        results: list[object] = []
        for n in range(30):
            summary = await call(gateway, card_engine(), f"1390000{n:04d}", CARD_VARIABLES)
            results.append(None if summary is None else [t.text for t in summary.state.transcript])
        return results

    first = await campaign(4)
    assert first == await campaign(4)
    assert first != await campaign(5)
    assert any(r is None for r in first) and any(r is not None for r in first)


async def test_scripted_replies_with_silences_keys_and_a_hang_up_when_they_run_out() -> None:
    gateway, _ = sim(speed=0)
    summary = await call(gateway, card_engine(), "13800000003", CARD_VARIABLES,
                         {"sim_result": "ANSWERED", "sim_replies": "|好的|/dtmf 1"})  # fmt: skip
    assert summary is not None
    people = [(t.kind, t.text) for t in summary.state.transcript if t.speaker == "PERSON"]
    assert people == [("silence", ""), ("speech", "好的"), ("dtmf", "[按键 1]")]
    assert summary.state.visited == ("opening", "opening_again", "intro", "choose_term")
    assert (summary.state.end, summary.ended_by) == ("customer_hangup", "customer")


async def test_barge_in_interrupts_an_interruptible_prompt_only() -> None:
    gateway, _ = sim(speed=0)
    leg = await answered(gateway, "/barge 多少钱|/barge 不需要")
    played = await leg.play(Prompt("分期以后可以分6期或者12期慢慢还，您看需要帮您办理吗？", interruptible=True))
    assert (played.status, played.heard_text) == ("interrupted", "多少钱")
    assert 0 < played.played_seconds < 13
    held = await leg.play(Prompt("理解的。其实分期不用一次还清，您要不要再考虑一下？", interruptible=False))
    assert held.status == "completed"
    assert await leg.listen(5) == Speech("不需要")  # said over a prompt that did not stop: heard afterwards


async def test_persona_barge_in_happens_with_the_reply_to_the_prompt() -> None:
    gateway, _ = sim(speed=0)
    prompt = Prompt("简单来说就是把8600元分成几个月还，每个月压力小很多，手续费也不高，您要不要试一下？")
    interrupted = []
    for n in range(40):
        properties = {"sim_result": "ANSWERED", "sim_persona": "talkative"}
        outcome = await gateway.dial(DialRequest(f"c{n}", "0210", f"1380000{n:04d}", properties=properties))
        assert outcome.leg is not None
        await outcome.leg.play(Prompt("您好，请问您现在方便吗？"))
        await outcome.leg.listen(5)
        played = await outcome.leg.play(prompt)
        if played.status == "interrupted":
            interrupted.append(played.heard_text)
        await outcome.leg.hangup()
    assert 5 <= len(interrupted) <= 25 and all(interrupted)


async def test_after_the_customer_hangs_up_the_leg_only_reports_the_hang_up() -> None:
    gateway, _ = sim(speed=0)
    leg = await answered(gateway, "/hangup")
    assert await leg.listen(5) == Hangup()
    assert leg.closed and leg.ended_by == "customer"
    assert (await leg.play(Prompt("喂？"))).status == "hangup"
    assert await leg.listen(5) == Hangup()
    assert await leg.transfer("sip:8001@pbx.local") is False
    await leg.hangup()
    assert leg.ended_by == "customer" and gateway.open_legs == 0


async def test_transfer_and_hangup() -> None:
    gateway, _ = sim(speed=0)
    leg = await answered(gateway, "转人工")
    assert await leg.transfer("  ") is False and not leg.closed
    assert await leg.transfer("sip:8001@pbx.local") is True
    assert leg.closed and leg.ended_by == "transfer"
    other = await answered(gateway, "")
    await other.hangup()
    await other.hangup()
    assert other.ended_by == "robot"
    third = await answered(gateway, "")
    assert gateway.open_legs == 1
    await gateway.close()
    assert third.closed and gateway.open_legs == 0


async def test_scaled_sleep_refuses_a_negative_speed() -> None:
    with pytest.raises(ValueError, match="speed"):
        await scaled_sleep(FrozenClock(T0), 1, -1)
    with pytest.raises(ValueError, match="speed"):
        SimGateway(clock=FrozenClock(T0), speed=-1)


def test_registry_finds_gateways_by_name_and_checks_line_settings() -> None:
    gateway, _ = sim(1)
    registry = GatewayRegistry(gateway)
    assert registry.get("sim") is gateway and "sim" in registry and registry.names() == ("sim",)
    with pytest.raises(UnknownGateway, match=r"no gateway named 'sip' \(known: sim\)"):
        registry.get("sip")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(gateway)
    registry.check_line_settings("sim", {"sim": {"answer_rate": 0.5}, "other": 1})
    with pytest.raises(ValidationFailed, match="answer_rate"):
        registry.check_line_settings("sim", {"sim": {"answer_rate": 5}})
