"""The example scripts: each is valid, and pinned conversations through the REAL recognizer end where
and how a business would expect (path, end reason, level)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from callbot.callflow.chat import chat_replies
from callbot.dialogue.nlu import IntentRecognizer, build_recognizer
from callbot.dialogue.script import Script, load_script_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"

VARIABLES = {
    "credit_card_instalment": {"name": "张三", "bank": "招商银行", "amount": "8600"},
    "course_trial": {"name": "王女士", "school": "启明星少儿英语", "campus": "徐汇区漕溪北路88号3楼"},
    "loan_reminder": {"name": "李四", "company": "安心消费金融", "amount": "1280", "due_date": "6月15日"},
    "broadband_renewal": {"name": "赵先生", "address": "幸福小区3栋", "expire_date": "7月1日", "price": "79"},
}


@cache
def example(name: str) -> tuple[Script, IntentRecognizer]:
    script = load_script_file(str(EXAMPLES / f"{name}.yaml"))
    return script, build_recognizer(script.intents, script.industry)


# (script, replies, visited path, end, level, concerns)
CONVERSATIONS = [
    ("credit_card_instalment", ["可以你说吧", "手续费多少啊", "那就办吧", "分十二期吧"],
     ["opening", "intro", "choose_term", "agree_end"], "hangup", "A", ["价格"]),
    ("credit_card_instalment", ["你是谁啊", "好的你说", "有没有免息的", "我再考虑考虑吧"],
     ["opening", "intro", "consider_end"], "hangup", "B", ["价格", "身份"]),
    ("credit_card_instalment", ["嗯", "/dtmf 1", "六期"],
     ["opening", "intro", "choose_term", "agree_end"], "hangup", "A", []),
    ("credit_card_instalment", ["", "", ""], ["opening", "opening_again", "silence_end"], "silence", "E", []),
    ("credit_card_instalment", ["你们天天打烦不烦啊再打我就投诉了"], ["opening", "apologise_end"], "hangup", "F", []),
    ("credit_card_instalment", ["好的", "我要转人工"], ["opening", "intro", "to_agent"], "transfer", "C", []),
    ("course_trial", ["好啊", "可以"], ["opening", "pick_time", "confirm_saturday"], "hangup", "A", []),
    ("course_trial", ["具体是什么课", "你们在哪里啊", "孩子才五岁能学吗", "那我考虑一下"],
     ["opening", "intro", "consider_end"], "hangup", "E", ["地址", "适合年龄"]),
    ("course_trial", ["不需要", "不用了"], ["opening", "retain", "reject_end"], "hangup", "D", []),
    ("course_trial", ["孩子已经在别的地方报了"], ["opening", "already_end"], "hangup", "F", []),
    ("loan_reminder", ["是我", "可以的按时还"], ["confirm_identity", "remind", "promise_end"], "hangup", "A", []),
    ("loan_reminder", ["是的", "我已经还了啊"], ["confirm_identity", "remind", "paid_end"], "hangup", "F", []),
    ("loan_reminder", ["对", "最近手头有点紧", "好的"],
     ["confirm_identity", "remind", "hardship", "to_agent"], "transfer", "D", ["还款困难"]),
    ("loan_reminder", ["你打错了"], ["confirm_identity", "wrong_end"], "hangup", "F", []),
    ("loan_reminder", ["是我", "/dtmf 0"], ["confirm_identity", "remind", "to_agent"], "transfer", "E", []),
    ("broadband_renewal", ["可以", "多少钱一个月", "行办了吧", "确认"],
     ["opening", "offer", "confirm", "done_end"], "hangup", "A", ["价格"]),
    ("broadband_renewal", ["你们这网速太慢了老掉线", "好的"],
     ["opening", "network", "to_engineer"], "transfer", "E", ["网络质量"]),
    ("broadband_renewal", ["你说", "我要搬家了"], ["opening", "offer", "move_end"], "hangup", "E", ["搬家"]),
    ("broadband_renewal", ["不需要", "不需要了"], ["opening", "retain", "reject_end"], "hangup", "D", []),
    ("broadband_renewal", ["你说"], ["opening", "offer"], "customer_hangup", "C", []),
    # an application is registered on a named term, an explicit 确认 or a key, never on a bare 嗯 or a default
    ("credit_card_instalment", ["好的", "嗯", "嗯"],
     ["opening", "intro", "choose_term", "choose_term_again"], "customer_hangup", "C", []),
    ("credit_card_instalment", ["好的", "办吧", "我想分36期"],
     ["opening", "intro", "choose_term", "choose_term_again"], "customer_hangup", "C", []),
    ("credit_card_instalment", ["好的", "办吧", "那就12期"],
     ["opening", "intro", "choose_term", "agree_end"], "hangup", "A", []),
    ("broadband_renewal", ["可以", "行办了吧", "嗯"], ["opening", "offer", "confirm", "confirm_again"],
     "customer_hangup", "B", []),
    ("broadband_renewal", ["可以", "行办了吧", "今天天气不错", "确认"],
     ["opening", "offer", "confirm", "confirm_again", "done_end"], "hangup", "A", []),
    # a day named for the visit is the answer, not a request to call later
    ("course_trial", ["好啊", "周日可以吗"], ["opening", "pick_time", "confirm_sunday"], "hangup", "A", []),
    ("course_trial", ["好啊", "周六可以吗"], ["opening", "pick_time", "confirm_saturday"], "hangup", "A", []),
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_example_script_is_valid_and_needs_its_variables(name: str) -> None:
    script, _ = example(name)
    assert script.missing_variables(VARIABLES[name]) == []
    assert {r.level for r in script.levels} == {"A", "B", "C", "D", "E", "F"}
    assert any(n.end == "transfer" for n in script.nodes.values())
    assert script.faq and script.concerns and "complaint" in script.global_


@pytest.mark.parametrize(
    ("name", "replies", "visited", "end", "level", "concerns"),
    CONVERSATIONS,
    ids=[f"{c[0]}:{'|'.join(c[1])}" for c in CONVERSATIONS],
)
async def test_example_conversation(
    name: str, replies: list[str], visited: list[str], end: str, level: str, concerns: list[str]
) -> None:
    script, recognizer = example(name)
    result = (await chat_replies(script, recognizer, replies, VARIABLES[name])).to_dict()
    assert (result["visited"], result["end"], result["level"], result["concerns"]) == (
        visited, end, level, concerns,
    ), result["transcript"]  # fmt: skip
