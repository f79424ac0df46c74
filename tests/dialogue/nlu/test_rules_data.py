"""The near-certain rules are data (data/rules.yaml): read in order of precedence, every mistake in the
file named with where it is."""

from __future__ import annotations

import re

import pytest

from callbot.dialogue.nlu import build_recognizer, rules


def test_the_shipped_rules_keep_the_precedence_of_the_intent_spec() -> None:
    assert [intent for intent, _ in rules.CERTAIN] == ["abuse", "complaint", "hold_on", "repeat", "ask_human"]
    assert rules.ORDER[: len(rules.CERTAIN)] == rules.CERTAIN


@pytest.mark.parametrize(
    ("reply", "intent"),
    [
        ("神经病啊你", "abuse"),
        ("你再打我就投诉你们", "complaint"),
        ("稍等一下我换个地方", "hold_on"),
        ("等一下我没听清", "hold_on"),
        ("信号不好听不清", "repeat"),
        ("给我转人工", "ask_human"),
    ],
)
def test_a_certain_rule_decides_with_its_pattern_as_evidence(reply: str, intent: str) -> None:
    r = build_recognizer().recognize(reply)
    assert r.intent == intent
    assert r.evidence.startswith("关键词")


def test_patterns_of_one_entry_are_alternatives() -> None:
    (only,) = rules.parse_certain("rules:\n  - intent: abuse\n    patterns: ['滚', '笨蛋']\n")
    assert only[0] == "abuse"
    assert only[1].search("你个笨蛋") and only[1].search("滚") and not only[1].search("你好")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("- intent: abuse\n", "rules.yaml: must be a mapping with one key, rules"),
        ("rules:\n  - intent: abuse\n", "rules.yaml: rules[0]: must have exactly intent and patterns"),
        ("rules:\n  - intent: angry\n    patterns: ['滚']\n", "rules.yaml: rules[0].intent: 'angry' is not a built-in"),
        ("rules:\n  - intent: abuse\n    patterns: []\n", "rules.yaml: rules[0].patterns: must be a non-empty list"),
        (
            "rules:\n  - intent: abuse\n    patterns: ['滚']\n  - intent: repeat\n    patterns: ['听不清', '(再说']\n",
            "rules.yaml: rules[1].patterns[1]: not a regular expression",
        ),
        (
            "rules:\n  - intent: abuse\n    patterns: ['滚']\n  - intent: abuse\n    patterns: ['笨蛋']\n",
            "rules.yaml: rules[1].intent: 'abuse' has an entry already",
        ),
        (
            "rules:\n  - intent: abuse\n    patterns: ['']\n",
            "rules.yaml: rules[0].patterns[0]: must be a non-empty string",
        ),
    ],
)
def test_a_mistake_in_the_file_is_named_with_its_place(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        rules.parse_certain(raw)
