"""The reply language: one parser with one set of rules (here: `sim_replies`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import load_script_file
from callbot.kit.clock import FrozenClock
from callbot.telephony.gateway import DialRequest, DialStatus, Dtmf, Hangup, Prompt, Silence, Speech
from callbot.telephony.reply import Reply, ReplyInvalid, parse_replies, parse_reply
from callbot.telephony.sim import SimGateway
from conftest import T0

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"
CARD_VARIABLES = {"name": "张三", "bank": "招商银行", "amount": "8600"}


def test_every_form_of_the_reply_language() -> None:
    assert parse_reply("") == parse_reply("  ") == Reply(Silence())
    assert parse_reply(" 好的 ") == Reply(Speech("好的"))
    assert parse_reply("/dtmf 1") == Reply(Dtmf("1")) and parse_reply("/dtmf #") == Reply(Dtmf("#"))
    assert parse_reply("/dtmf first", keys=("1", "2")) == Reply(Dtmf("1"))
    assert parse_reply("/dtmf last", keys=("1", "2")) == Reply(Dtmf("2"))
    assert parse_reply("/barge 多少钱") == Reply(Speech("多少钱"), barge=True)
    assert parse_reply("/barge") == Reply(Speech(""), barge=True)
    assert parse_reply("/hangup") == Reply(Hangup())


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("/foo", "unknown command '/foo': use /dtmf KEY, /barge TEXT or /hangup"),
        ("/dmtf 1", "unknown command '/dmtf'"),
        ("/dtmf 12", "/dtmf takes one key (0-9, *, #), got '12'"),
        ("/dtmf", "/dtmf takes one key (0-9, *, #), got ''"),
        ("/dtmf first", "/dtmf first: the prompt offered no key"),
        ("/hangup now", "/hangup takes nothing, got 'now'"),
    ],
)
def test_a_reply_outside_the_language_is_named(reply: str, message: str) -> None:
    with pytest.raises(ReplyInvalid) as caught:
        parse_reply(reply)
    assert message in str(caught.value)


def test_a_list_of_replies_names_the_bad_one_by_position() -> None:
    assert parse_replies(["好的", "", "/hangup"]) == [Reply(Speech("好的")), Reply(Silence()), Reply(Hangup())]
    with pytest.raises(ReplyInvalid, match=r"^reply 2 \('/dtmf x'\): /dtmf takes one key"):
        parse_replies(["好的", "/dtmf x"])


@cache
def card_engine() -> DialogueEngine:
    script = load_script_file(str(EXAMPLES / "credit_card_instalment.yaml"))
    return DialogueEngine(script, build_recognizer(script.intents))


async def test_a_bad_sim_reply_is_a_system_error_naming_it_not_a_customer_saying_it() -> None:
    gateway = SimGateway(clock=FrozenClock(T0), speed=0.0)
    properties = {"sim_result": "ANSWERED", "sim_replies": "嗯你说|/dmtf 1"}
    outcome = await gateway.dial(DialRequest("c", "02100000000", "13800000001", properties=properties))
    assert (outcome.status, outcome.leg) == (DialStatus.SYSTEM_ERROR, None)
    assert (
        outcome.reason
        == "sim_replies element 2 ('/dmtf 1'): unknown command '/dmtf': use /dtmf KEY, /barge TEXT or /hangup"
    )


async def test_a_sim_barge_in_with_nothing_recognised_does_not_hang_up() -> None:
    gateway = SimGateway(clock=FrozenClock(T0), speed=0.0)
    properties = {"sim_result": "ANSWERED", "sim_replies": "/barge|好的"}
    outcome = await gateway.dial(DialRequest("c", "02100000000", "13800000001", properties=properties))
    assert outcome.leg is not None
    played = await outcome.leg.play(Prompt("分期以后可以分6期或者12期慢慢还，您看需要帮您办理吗？"))
    assert (played.status, played.heard_text) == ("interrupted", "")
    assert not outcome.leg.closed and await outcome.leg.listen(5) == Speech("好的")
