"""The reply language: one parser, the same rules in `callbot chat`, a replies file and `sim_replies`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sim_call import talk

from callbot.callflow.chat import chat_replies
from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import Script, load_script
from callbot.kit.clock import FrozenClock
from callbot.telephony.gateway import DialRequest, DialStatus, Dtmf, Hangup, Prompt, Silence, Speech
from callbot.telephony.reply import Reply, ReplyInvalid, parse_replies, parse_reply
from callbot.telephony.sim import SimGateway

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


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


# A node that cannot be interrupted, then one that can.
SCRIPT: Script = load_script(
    """
name: t
start: a
settings: {interruptible: true}
nodes:
  a: {say: 您好请听我说完。, interruptible: false, branches: {affirm: b}}
  b: {say: 您看要办理吗？, branches: {affirm: ok}}
  ok: {say: 好的再见。, end: hangup}
levels: [{level: A, when: {visited: ok}}]
"""
)


async def test_barge_in_follows_the_same_rules_in_a_chat_and_on_a_sim_call() -> None:
    recognizer = build_recognizer(SCRIPT.intents)
    replies = ["/barge 好的", "/barge 可以"]
    chat = await chat_replies(SCRIPT, recognizer, replies, {})
    gateway = SimGateway(clock=FrozenClock(T0), speed=0.0)
    properties = {"sim_result": "ANSWERED", "sim_replies": "|".join(replies)}
    outcome = await gateway.dial(DialRequest("c", "0210", "138", properties=properties))
    assert outcome.leg is not None
    call = await talk(outcome.leg, DialogueEngine(SCRIPT, recognizer), {})
    for state in (chat.state, call.state):
        # Said over a prompt that cannot be interrupted: heard after it. Over one that can: it stops it.
        assert state.visited == ("a", "b", "ok")
        assert [(t.speaker, t.text, t.interrupted) for t in state.transcript] == [
            ("ROBOT", "您好请听我说完。", False),
            ("PERSON", "好的", False),
            ("ROBOT", "您看要办理吗？", True),
            ("PERSON", "可以", False),
            ("ROBOT", "好的再见。", False),
        ]
