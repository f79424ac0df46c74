"""Intent levels (意向等级): first matching rule wins, with a readable reason; concerns and tags."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callbot.dialogue.levels import CallFacts, grade
from callbot.dialogue.script import Script

SCRIPT = """
name: 等级测试
start: opening
nodes:
  opening:
    say: 您好，需要吗？
    tags: [heard]
    branches: {affirm: agree_end, default: bye}
  agree_end: {say: 好的。, end: hangup}
  bye: {say: 再见。, end: hangup}
levels:
  - level: A
    when: {visited: agree_end}
  - level: F
    when: {any: [{intent: complaint}, {intent: abuse}]}
  - level: B
    when: {all: [{intent_count: {affirm: ">=2"}}, {rounds: ">3"}]}
  - level: D
    when: {not: {tag: heard}}
  - level: E
    when: {talk_seconds: "<10"}
  - level: C
    when: {intent_count: {reject: "==1"}}
concerns:
  价格: [ask_price]
  身份: [ask_identity, is_robot]
"""


@pytest.fixture
def script(make_script: Callable[[str], Script]) -> Script:
    return make_script(SCRIPT)


def facts(**kwargs: object) -> CallFacts:
    kwargs.setdefault("tags", ("heard",))
    return CallFacts(**kwargs)  # type: ignore[arg-type]


def test_visited_rule(script: Script) -> None:
    result = grade(script, facts(visited=("opening", "agree_end")))
    assert (result.level, result.rule, result.reason) == ("A", 1, "规则1: 到达节点 agree_end")


def test_any_explains_the_part_that_matched(script: Script) -> None:
    result = grade(script, facts(intents={"abuse": 1}))
    assert result.reason == "规则2: 识别到意图 abuse(辱骂)"


def test_first_match_wins(script: Script) -> None:
    assert grade(script, facts(visited=("agree_end",), intents={"complaint": 1})).level == "A"


def test_all_with_counts_and_rounds(script: Script) -> None:
    result = grade(script, facts(intents={"affirm": 2}, rounds=4))
    assert result.level == "B"
    assert result.reason == "规则3: 意图 affirm(肯定) 次数 2 >=2 且 对话轮次 4 >3"
    assert grade(script, facts(intents={"affirm": 2}, rounds=3)).level == "C"


def test_not_and_tags(script: Script) -> None:
    result = grade(script, facts(tags=()))
    assert result.level == "D"
    assert result.reason == "规则4: 并非(带有标签 heard)"


def test_talk_seconds_come_from_the_caller(script: Script) -> None:
    assert grade(script, facts(), talk_seconds=8).level == "E"
    assert grade(script, facts(), talk_seconds=8).reason == "规则5: 通话时长 8秒 <10"
    assert grade(script, facts(), talk_seconds=None).level == "C"  # unknown duration never matches


def test_no_rule_matches_means_c(script: Script) -> None:
    result = grade(script, facts(), talk_seconds=60)
    assert (result.level, result.rule) == ("C", None)
    assert "默认" in result.reason


def test_rule_without_when_always_holds(make_script: Callable[[str], Script]) -> None:
    script = make_script(SCRIPT.replace('  - level: C\n    when: {intent_count: {reject: "==1"}}\n', "  - level: E\n"))
    result = grade(script, facts(), talk_seconds=60)
    assert (result.level, result.rule) == ("E", 6)


def test_concerns_and_tags_are_reported(script: Script) -> None:
    result = grade(script, facts(intents={"is_robot": 1, "affirm": 1}, tags=("heard", "x")), talk_seconds=60)
    assert result.concerns == ("身份",)
    assert result.tags == ("heard", "x")
    assert result.to_dict()["concerns"] == ["身份"]
