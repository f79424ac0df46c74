"""Industry packs: a script's `industry` brings its vocabulary and examples, and nothing else changes."""

from __future__ import annotations

import pytest

from callbot.dialogue.nlu import build_recognizer, rules
from callbot.dialogue.nlu.industry import industries, industry_pack, parse_pack


def test_industry_words_are_in_their_packs_not_in_the_global_rules() -> None:
    packs = [industry_pack(name) for name in industries()]
    vocabulary = {w for pack in packs if pack is not None for w in pack.vocabulary}
    # interest is named by docs/intents.md itself (利息怎么算): every campaign may be asked about it
    assert vocabulary & set(rules.LEXICON) == {"利息", "利率"}
    # a property word is read as the question it is in a property campaign, by that pack's keywords
    estate = build_recognizer(industry="real_estate").recognize("是哪个小区的房子")
    assert (estate.intent, estate.evidence) == ("ask_detail", "正则「/哪(个|家|一个)(楼盘|小区)/」")
    assert build_recognizer(industry="finance").recognize("能贷多少").intent == "ask_detail"


def test_the_example_scripts_industries_have_packs() -> None:
    assert {"finance", "education", "telecom"} <= set(industries())
    for name in industries():
        pack = industry_pack(name)
        assert pack is not None and pack.vocabulary and pack.intents


def test_an_industry_without_a_pack_recognises_with_the_builtin_library() -> None:
    assert industry_pack("aquaculture") is None
    assert industry_pack(None) is None
    assert build_recognizer(industry="aquaculture").recognize("不需要").intent == "reject"


def test_a_pack_word_heard_as_a_homophone_is_corrected_and_its_examples_count() -> None:
    plain = build_recognizer().recognize("那个征心会不会受影响")
    finance = build_recognizer(industry="finance").recognize("那个征心会不会受影响")
    assert finance.intent == "ask_detail"
    assert finance.confidence >= 0.9 > plain.confidence
    assert "会不会影响征信" in finance.evidence  # the pack's example, reached after 征心 -> 征信
    assert build_recognizer(industry="finance").recognize("分七手续费怎么算").evidence.startswith("相似例句「分期")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("intents:\n  ask_rate:\n    examples: [利率多少]\n", "intents.ask_rate: not a built-in intent"),
        ("vocabulary: 分期\n", "vocabulary: must be a list"),
        ("intents:\n  ask_price:\n    name: 问价\n", "intents.ask_price: only keywords and examples"),
        ("colour: blue\n", "unknown keys ['colour']"),
    ],
)
def test_a_bad_pack_is_refused_naming_the_file_and_key(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"industries/x\.yaml") as err:
        parse_pack("x", raw)
    assert problem in str(err.value)
