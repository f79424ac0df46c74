"""Simulated customers: prompts sorted by stage, personas stable per number and spread by weight, scripted
replies, and a realistic spread of outcomes through the real recogniser and engine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from sim_call import talk

from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import load_script_file
from callbot.kit.clock import FrozenClock
from callbot.telephony.gateway import DialRequest, Dtmf, Hangup, Prompt, Silence, Speech
from callbot.telephony.sim.customer import (
    PERSONAS,
    PersonaCustomer,
    ScriptedCustomer,
    Stage,
    classify_prompt,
    customer_for,
    persona_for,
)
from callbot.telephony.sim.gateway import SimGateway

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"
CARD_VARIABLES = {"name": "张三", "bank": "招商银行", "amount": "8600"}


@pytest.mark.parametrize(
    ("prompt", "first", "stage"),
    [
        ("张三您好，我是招商银行信用卡中心的客服，请问您现在方便听我简单介绍一下吗？", True, Stage.OPENING),
        ("您好，这里是安心消费金融的还款提醒服务，请问您是李四本人吗？", True, Stage.IDENTITY),
        ("简单来说就是把8600元分成几个月还，每个月压力小很多，手续费也不高，您要不要试一下？", False, Stage.OFFER),
        ("好的，您想分6期、12期，还是24期呢？", False, Stage.CHOICE),
        ("太好了，这周六上午十点的体验课还有位置，您看周六上午带孩子过来可以吗？", False, Stage.TIME),
        ("好的，我跟您确认一下：续费两年，每月79元，确认办理的话请说确认，或者按1。", False, Stage.CONFIRM),
        ("理解的。其实分期不用一次还清，这个月还有手续费八折的活动，您要不要再考虑一下？", False, Stage.RETAIN),
        ("分期手续费每期0.6%，分12期的话总共是7.2%，具体以短信为准。", False, Stage.INFO),
        ("好的，那不打扰您了，如果后面有需要可以随时联系我们，再见。", False, Stage.GOODBYE),
        ("好的，正在为您转接人工客服，请稍等。", False, Stage.GOODBYE),
    ],
)
def test_prompts_are_sorted_by_stage(prompt: str, first: bool, stage: Stage) -> None:
    assert classify_prompt(prompt, first=first) is stage


def test_a_number_always_has_the_same_persona_and_the_personas_follow_their_weights() -> None:
    numbers = [f"137{n * 104729 % 10**8:08d}" for n in range(5000)]
    assert [persona_for(n).name for n in numbers[:50]] == [persona_for(n).name for n in numbers[:50]]
    counts = Counter(persona_for(n).name for n in numbers)
    total = sum(p.weight for p in PERSONAS)
    for persona in PERSONAS:
        assert abs(counts[persona.name] / len(numbers) - persona.weight / total) < 0.02, persona.name


def test_replies_are_reproducible_per_seed_and_attempt() -> None:
    def replies(seed: int, attempt: int) -> list[object]:
        customer = customer_for("13912345678", {"sim_persona": "talkative"}, seed=seed, attempt=attempt)
        out: list[object] = []
        for text in ["您好，请问您现在方便吗？", "您看需要帮您办理吗？", "您看需要帮您办理吗？"]:
            customer.hear(Prompt(text, interruptible=False))
            out.append(customer.reply())
        return out

    assert replies(1, 1) == replies(1, 1)
    assert any(replies(1, 1) != replies(seed, attempt) for seed, attempt in [(2, 1), (1, 2), (3, 3)])


def test_sim_persona_picks_a_persona_and_sim_replies_script_the_customer() -> None:
    assert isinstance(customer_for("1", {"sim_persona": "busy"}), PersonaCustomer)
    assert customer_for("1", {"sim_persona": "busy"}).label == "busy"
    assert customer_for("1", {"sim_persona": "nobody"}).label == persona_for("1").name  # unknown: the number's own
    scripted = customer_for("1", {"sim_replies": "好的||/dtmf 1|多少钱|/hangup|还在吗"})
    assert isinstance(scripted, ScriptedCustomer)
    heard = [scripted.reply() for _ in range(6)]
    assert heard == [Speech("好的"), Silence(), Dtmf("1"), Speech("多少钱"), Hangup(), Speech("还在吗")]
    assert scripted.reply() == Hangup()  # the script ran out


def test_busy_customer_says_so_and_silent_customer_says_nothing() -> None:
    opening = Prompt("张三您好，我是招商银行信用卡中心的客服，请问您现在方便听我简单介绍一下吗？", interruptible=False)
    checks: list[tuple[str, Callable[[object], object]]] = [
        ("busy", lambda h: isinstance(h, Speech) and h.text),
        ("silent", lambda h: h == Silence()),
    ]
    for persona, check in checks:
        customer = customer_for("13900000000", {"sim_persona": persona})
        customer.hear(opening)
        assert check(customer.reply()), persona


@cache
def card_engine() -> DialogueEngine:
    script = load_script_file(str(EXAMPLES / "credit_card_instalment.yaml"))
    return DialogueEngine(script, build_recognizer(script.intents))


async def test_personas_make_a_realistic_spread_on_the_credit_card_script() -> None:
    engine = card_engine()
    gateway = SimGateway(clock=FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)), speed=0, seed=11)
    levels: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    ends: Counter[str | None] = Counter()
    interrupted = 0
    for n in range(300):
        phone = f"139{n * 7919 % 10**8:08d}"
        outcome = await gateway.dial(DialRequest(f"c{n}", "02100000000", phone, properties={"sim_result": "ANSWERED"}))
        assert outcome.leg is not None
        summary = await talk(outcome.leg, engine, CARD_VARIABLES)
        levels[summary.grade.level] += 1
        intents.update(summary.state.intents)
        ends[summary.state.end] += 1
        interrupted += any(t.interrupted for t in summary.state.transcript)
    assert set(levels) == {"A", "B", "C", "D", "E", "F"}
    assert all(levels[level] >= 10 for level in "ABCDEF"), levels
    assert levels["A"] < 100 and levels["E"] + levels["D"] > levels["A"]  # a cold list is not a sales dream
    for intent in ["affirm", "reject", "consider", "ask_price", "busy", "complaint", "wrong_person", "pick_term"]:
        assert intents[intent] >= 5, (intent, intents)
    assert intents["unknown"] < 15
    assert ends["silence"] >= 5 and ends["customer_hangup"] >= 5 and ends["hangup"] > 200
    assert interrupted >= 10  # barge-in happens
    assert gateway.open_legs == 0
