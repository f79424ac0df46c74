"""The dialogue engine's rules, one test per rule, with a table recognizer standing in for NLU."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from callbot.dialogue.engine import (
    AnsweredEvent,
    BargeInEvent,
    DialogueEngine,
    DialogueState,
    DtmfEvent,
    Event,
    HangUpAction,
    HangupEvent,
    MissingVariables,
    SayAction,
    SilenceEvent,
    SpeechEvent,
    TransferAction,
)
from callbot.dialogue.script import Script

from dialogue_fakes import TableRecognizer

SCRIPT = """
format: 1
name: 测试话术
variables: [amount]
settings: {max_silences: 2, max_rounds: 8}
start: opening
nodes:
  opening:
    say: ["{name}您好，方便吗？", "您好，请问现在方便吗？"]
    branches: {affirm: intro, busy: busy_end, silence: opening_again}
  opening_again:
    say: "喂，能听到吗？"
    branches: {affirm: intro, default: retain}
  intro:
    say: "每月只需{amount}元，需要办理吗？"
    tags: [heard_intro]
    interruptible: false
    audio: prompts/intro.wav
    branches: {affirm: agree_end, reject: retain}
    dtmf: {"1": agree_end, "2": retain}
  retain: {say: "那不打扰了，再见。", end: hangup}
  agree_end: {say: "好的，再见。", end: hangup, tags: [agreed]}
  busy_end: {say: "那我稍后再联系您。", end: hangup}
  sorry_end: {say: "抱歉打扰。", end: hangup}
  to_agent: {say: "正在转人工。", end: transfer, transfer_to: "sip:8001@pbx"}
global: {complaint: sorry_end, ask_human: to_agent}
faq:
  - intents: [ask_price]
    say: "手续费很低。"
    tags: [asked_price]
  - intents: [is_robot]
    say: "我是智能助理。"
    then: to_agent
"""

TABLE = {
    "好的": "affirm",
    "在忙": "busy",
    "不需要": "reject",
    "投诉": "complaint",
    "转人工": "ask_human",
    "多少钱": "ask_price",
    "机器人吗": "is_robot",
    "什么": "repeat",
}
VARIABLES = {"name": "张三", "amount": "300"}


def texts(actions: tuple[object, ...]) -> list[str]:
    return [a.text for a in actions if isinstance(a, SayAction)]


class Call:
    """Drives one call through the engine and keeps the latest state."""

    def __init__(self, script: Script, **overrides: str) -> None:
        self.recognizer = TableRecognizer(TABLE)
        self.engine = DialogueEngine(script, self.recognizer)
        self.state = self.engine.new_state({**VARIABLES, **overrides})

    def send(self, event: Event) -> tuple[object, ...]:
        self.state, actions = self.engine.step(self.state, event)
        return actions

    def say(self, text: str) -> tuple[object, ...]:
        return self.send(SpeechEvent(text))


@pytest.fixture
def script(make_script: Callable[[str], Script]) -> Script:
    return make_script(SCRIPT)


@pytest.fixture
def call(script: Script) -> Call:
    c = Call(script)
    c.send(AnsweredEvent())
    return c


def test_answer_says_the_start_node_with_variables(script: Script) -> None:
    c = Call(script)
    actions = c.send(AnsweredEvent())
    assert actions == (SayAction("张三您好，方便吗？", "opening", None, True),)
    assert c.state.status == "listening"
    assert c.state.visited == ("opening",)
    assert c.state.rounds == 1


def test_branch_follows_the_recognised_intent_and_tags_the_customer(call: Call) -> None:
    actions = call.say("好的")
    assert actions == (SayAction("每月只需300元，需要办理吗？", "intro", "prompts/intro.wav", False),)
    assert call.state.node == "intro"
    assert call.state.tags == ("heard_intro",)


def test_end_hangup_node_says_then_hangs_up(call: Call) -> None:
    call.say("好的")
    actions = call.say("好的")
    assert actions == (SayAction("好的，再见。", "agree_end", None, True), HangUpAction())
    assert call.state.end == "hangup"
    assert call.state.ended


def test_global_intent_jumps_from_any_node(call: Call) -> None:
    call.say("好的")
    actions = call.say("投诉")
    assert texts(actions) == ["抱歉打扰。"]
    assert actions[-1] == HangUpAction()
    assert call.state.visited == ("opening", "intro", "sorry_end")


def test_global_transfer_ends_with_transfer_to_the_target(call: Call) -> None:
    actions = call.say("转人工")
    assert actions[-1] == TransferAction("sip:8001@pbx")
    assert call.state.end == "transfer"


def test_faq_answers_then_repeats_the_question_with_the_next_variant(call: Call) -> None:
    actions = call.say("多少钱")
    assert texts(actions) == ["手续费很低。", "您好，请问现在方便吗？"]
    assert call.state.node == "opening"
    assert call.state.rounds == 2  # one robot turn, two prompts
    assert call.state.tags == ("asked_price",)
    assert [t.kind for t in call.state.transcript[-2:]] == ["faq", "repeat"]


def test_faq_then_jumps_instead_of_returning(call: Call) -> None:
    actions = call.say("机器人吗")
    assert texts(actions) == ["我是智能助理。", "正在转人工。"]
    assert actions[-1] == TransferAction("sip:8001@pbx")


def test_default_branch_takes_what_nothing_else_matched(call: Call) -> None:
    call.send(SilenceEvent())  # -> opening_again
    actions = call.say("今天天气不错")
    assert texts(actions) == ["那不打扰了，再见。"]
    assert call.state.visited[-1] == "retain"


def test_first_miss_repeats_the_node_second_miss_ends_politely(call: Call) -> None:
    call.say("好的")
    first = call.say("今天天气不错")
    assert texts(first) == ["每月只需300元，需要办理吗？"]
    assert call.state.misses == 1
    second = call.say("嗯那个")
    assert second[-1] == HangUpAction()
    assert "再见" in texts(second)[0]
    assert call.state.transcript[-1].kind == "goodbye"
    assert call.state.end == "hangup"


def test_repeat_intent_says_the_prompt_again_without_counting_a_miss(call: Call) -> None:
    call.say("好的")
    actions = call.say("什么")
    assert texts(actions) == ["每月只需300元，需要办理吗？"]
    assert call.state.misses == 0
    call.say("天气")  # first real miss: still going
    assert not call.state.ended


def test_silence_takes_the_silence_branch(call: Call) -> None:
    actions = call.send(SilenceEvent())
    assert texts(actions) == ["喂，能听到吗？"]
    assert call.state.silences == 1


def test_silence_without_branch_repeats_the_prompt(call: Call) -> None:
    call.say("好的")
    actions = call.send(SilenceEvent())
    assert texts(actions) == ["每月只需300元，需要办理吗？"]
    assert call.state.transcript[-1].kind == "repeat"


def test_max_silences_in_a_row_hangs_up_with_end_silence(call: Call) -> None:
    call.send(SilenceEvent())
    actions = call.send(SilenceEvent())
    assert actions == (HangUpAction(),)
    assert call.state.end == "silence"


def test_speech_resets_the_silence_count(call: Call) -> None:
    call.say("好的")
    call.send(SilenceEvent())
    call.say("什么")
    call.send(SilenceEvent())
    assert not call.state.ended
    assert call.state.silences == 1


def test_on_max_silence_node_ends_the_call_with_its_prompt(make_script: Callable[[str], Script]) -> None:
    script = make_script(
        SCRIPT.replace("settings: {max_silences: 2", "settings: {on_max_silence: sorry_end, max_silences: 2")
    )
    c = Call(script)
    c.send(AnsweredEvent())
    c.send(SilenceEvent())
    actions = c.send(SilenceEvent())
    assert actions == (SayAction("抱歉打扰。", "sorry_end", None, True), HangUpAction())
    assert c.state.end == "silence"


def test_node_on_max_silence_wins_over_the_settings_one(make_script: Callable[[str], Script]) -> None:
    text = SCRIPT.replace("settings: {max_silences: 2", "settings: {on_max_silence: sorry_end, max_silences: 2")
    text = text.replace("    interruptible: false\n", "    interruptible: false\n    on_max_silence: busy_end\n")
    c = Call(make_script(text))
    c.send(AnsweredEvent())
    c.say("好的")
    c.send(SilenceEvent())
    actions = c.send(SilenceEvent())
    assert texts(actions) == ["那我稍后再联系您。"]


def test_max_rounds_ends_politely_instead_of_another_listening_turn(make_script: Callable[[str], Script]) -> None:
    c = Call(make_script(SCRIPT.replace("max_rounds: 8", "max_rounds: 2")))
    c.send(AnsweredEvent())
    c.say("多少钱")  # round 2
    actions = c.say("什么")  # a third listening turn is not allowed
    assert actions[-1] == HangUpAction()
    assert c.state.end == "max_rounds"
    assert c.state.transcript[-1].kind == "goodbye"


def test_max_rounds_still_lets_a_reply_reach_an_end_node(make_script: Callable[[str], Script]) -> None:
    c = Call(make_script(SCRIPT.replace("max_rounds: 8", "max_rounds: 2")))
    c.send(AnsweredEvent())
    c.say("好的")
    c.say("好的")
    assert c.state.visited[-1] == "agree_end"
    assert c.state.end == "hangup"


def test_dtmf_key_follows_the_node_dtmf_branch(call: Call) -> None:
    call.say("好的")
    actions = call.send(DtmfEvent("1"))
    assert texts(actions) == ["好的，再见。"]
    assert call.state.transcript[-2].kind == "dtmf"


def test_unmapped_dtmf_key_is_a_miss(call: Call) -> None:
    call.say("好的")
    actions = call.send(DtmfEvent("9"))
    assert texts(actions) == ["每月只需300元，需要办理吗？"]
    assert call.state.misses == 1


def test_barge_in_on_an_interruptible_prompt_marks_it_and_handles_the_reply(call: Call) -> None:
    actions = call.send(BargeInEvent("好的"))
    assert call.state.transcript[0].interrupted
    assert texts(actions) == ["每月只需300元，需要办理吗？"]


def test_barge_in_on_a_non_interruptible_prompt_is_ignored(call: Call) -> None:
    call.say("好的")
    before = call.state
    actions = call.send(BargeInEvent("不需要"))
    assert actions == ()
    assert call.state == before


def test_customer_hangup_ends_the_call_and_later_events_are_ignored(call: Call) -> None:
    assert call.send(HangupEvent()) == ()
    assert call.state.end == "customer_hangup"
    assert call.send(SpeechEvent("好的")) == ()


def test_nothing_is_heard_before_the_answer(script: Script) -> None:
    c = Call(script)
    assert c.send(SpeechEvent("好的")) == ()
    assert c.state.status == "ready"
    c.send(HangupEvent())
    assert c.state.end == "customer_hangup"


def test_recognizer_gets_the_robot_last_prompt_as_context(call: Call) -> None:
    call.say("好的")
    assert call.recognizer.contexts == ["张三您好，方便吗？"]


def test_transcript_records_speakers_intents_evidence_and_offsets(call: Call) -> None:
    call.send(SpeechEvent("好的", offset_ms=3200))
    person = call.state.transcript[1]
    assert (person.speaker, person.text, person.node, person.intent, person.evidence, person.offset_ms) == (
        "PERSON", "好的", "opening", "affirm", "好的", 3200,
    )  # fmt: skip
    assert call.state.transcript[2].speaker == "ROBOT"
    assert call.state.intents == {"affirm": 1}


def test_intents_are_counted(call: Call) -> None:
    call.say("多少钱")
    call.say("多少钱")
    assert call.state.intents == {"ask_price": 2}


def test_state_survives_json_and_resumes_in_another_engine(script: Script, call: Call) -> None:
    call.say("多少钱")
    restored = DialogueState.from_dict(json.loads(json.dumps(call.state.to_dict(), ensure_ascii=False)))
    assert restored == call.state
    other = DialogueEngine(script, TableRecognizer(TABLE))
    assert other.step(restored, SpeechEvent("好的")) == call.engine.step(call.state, SpeechEvent("好的"))


def test_missing_variables_are_named(script: Script) -> None:
    with pytest.raises(MissingVariables) as caught:
        DialogueEngine(script, TableRecognizer(TABLE)).new_state({"amount": ""})
    assert caught.value.names == ["amount", "name"]


def test_engine_imports_nothing_outside_the_dialogue_package() -> None:
    code = (
        "import sys, callbot.dialogue.engine, callbot.dialogue.levels, callbot.dialogue.conversation;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('sqlalchemy','fastapi','httpx','pydantic')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_a_step_takes_tens_of_microseconds(call: Call) -> None:
    engine, state = call.engine, call.state
    started = time.perf_counter()
    for _ in range(2000):
        engine.step(state, SpeechEvent("多少钱"))
    per_step = (time.perf_counter() - started) / 2000
    assert per_step < 200e-6  # generous for slow CI; measured ~15 µs
