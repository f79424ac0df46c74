"""Script loading and validation: every problem is reported at once, each with its location."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from callbot.dialogue.script import ScriptInvalid, Visited, load_script, validate_script
from callbot.errors import ValidationFailed

SPEC = Path(__file__).resolve().parents[2] / "docs" / "script-format.md"

BASE = """\
format: 1
name: 测试话术
variables: [amount]
start: opening
nodes:
  opening:
    say: "{name}您好，每月{amount}元，需要吗？"
    branches:
      affirm: agree_end
      default: retain
  retain:
    say: 再见。
    end: hangup
  agree_end:
    say: 好的，再见。
    end: hangup
    tags: [agreed]
levels:
  - level: A
    when: {visited: agree_end}
  - level: C
"""


def problems_of(text: str) -> list[tuple[str, str]]:
    return validate_script(text)


def with_node(extra: str) -> str:
    """BASE with more YAML appended under `nodes.opening` (indented 4)."""
    return BASE.replace("      default: retain\n", "      default: retain\n" + extra)


def test_base_script_is_valid() -> None:
    script = load_script(BASE)
    assert script.name == "测试话术"
    assert script.start == "opening"
    assert script.levels[0].when == Visited("agree_end")
    assert script.required_variables == {"amount", "name"}


def test_the_spec_example_is_valid() -> None:
    if not SPEC.exists():
        pytest.skip("shared spec not available")
    text = SPEC.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    script = load_script(text)
    assert script.nodes["to_agent"].transfer_to == "sip:8001@pbx.local"
    assert [d.id for d in script.intents] == ["ask_rate", "affirm"]
    assert script.intent_name("ask_rate") == "问利率"


def test_json_scripts_load_like_yaml() -> None:
    data = yaml.safe_load(BASE)
    assert load_script(json.dumps(data, ensure_ascii=False)).nodes.keys() == load_script(BASE).nodes.keys()


def test_script_invalid_is_a_validation_failed_listing_every_problem() -> None:
    text = BASE.replace("affirm: agree_end", "affirm: agre_end").replace("say: 再见。", 'say: ""')
    with pytest.raises(ScriptInvalid) as caught:
        load_script(text, source="x.yaml")
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.problems == [
        ("nodes.opening.branches.affirm", "no node named 'agre_end' (did you mean 'agree_end'?)"),
        ("nodes.retain.say", "empty prompt"),
    ]
    assert "x.yaml" in str(caught.value)


def test_the_script_objects_are_immutable() -> None:
    script = load_script(BASE)
    with pytest.raises(TypeError):
        script.nodes["opening"].branches["affirm"] = "retain"  # type: ignore[index]
    with pytest.raises(AttributeError):
        script.start = "retain"  # type: ignore[misc]


CASES: list[tuple[str, str, str, str]] = [
    # (id, script text, location, message fragment)
    ("yaml syntax", BASE.replace("  retain:\n", "  retain: [\n"), "line 13", "YAML syntax error"),
    ("json syntax", '{"name": "x",}', "line 1", "JSON syntax error"),
    ("duplicate key", BASE + "start: retain\n", "line 22", "duplicate key 'start'"),
    ("not a mapping", "- a\n- b\n", "(document)", "expected a mapping of script keys"),
    ("unknown top key", BASE + "globals: {}\n", "globals", "unknown key 'globals' (did you mean 'global'?)"),
    ("unknown node key", with_node("    brnaches: {}\n"), "nodes.opening.brnaches", "did you mean 'branches'"),
    ("yaml 1.1 key", with_node("    on: {affirm: retain}\n"), "nodes.opening.on", "read as a boolean by YAML 1.1"),
    (
        "yaml 1.1 branch",
        BASE.replace("affirm: agree_end", "yes: agree_end"),
        "nodes.opening.branches.yes",
        "quote it ('yes')",
    ),
    (
        "yaml 1.1 value",
        BASE.replace("tags: [agreed]", "tags: [no]"),
        "nodes.agree_end.tags.0",
        "'no' (read as a boolean by YAML 1.1; quote it)",
    ),
    (
        "number key",
        BASE.replace("  retain:\n", "  1:\n    say: x\n    end: hangup\n  retain:\n"),
        "nodes.1",
        "keys must be text",
    ),
    (
        "unknown target",
        BASE.replace("affirm: agree_end", "affirm: agre_end"),
        "nodes.opening.branches.affirm",
        "no node named 'agre_end'",
    ),
    (
        "unknown intent",
        BASE.replace("affirm: agree_end", "afirm: agree_end"),
        "nodes.opening.branches.afirm",
        "unknown intent 'afirm' (did you mean 'affirm'?)",
    ),
    ("global default", BASE + "global: {default: retain}\n", "global.default", "only a branch key"),
    ("global target", BASE + "global: {complaint: sorry}\n", "global.complaint", "no node named 'sorry'"),
    (
        "faq intent",
        BASE + "faq:\n  - intents: [ask_prize]\n    say: 很便宜。\n",
        "faq.0.intents.0",
        "unknown intent 'ask_prize'",
    ),
    (
        "faq then",
        BASE + "faq:\n  - intents: [ask_price]\n    say: 很便宜。\n    then: nowhere\n",
        "faq.0.then",
        "no node named 'nowhere'",
    ),
    ("faq without intents", BASE + "faq:\n  - say: 很便宜。\n", "faq.0.intents", "is required"),
    ("faq empty say", BASE + "faq:\n  - intents: [ask_price]\n    say: []\n", "faq.0.say", "empty prompt"),
    (
        "undeclared variable",
        BASE.replace("{amount}", "{amout}"),
        "nodes.opening.say",
        "variable 'amout' is not declared",
    ),
    ("bad brace", BASE.replace("{amount}元", "{amount}元}"), "nodes.opening.say", "unbalanced brace"),
    (
        "bad variable name",
        BASE.replace("variables: [amount]", "variables: [amount, 2x]"),
        "variables.1",
        "not a valid variable name",
    ),
    ("empty prompt", BASE.replace("say: 再见。", 'say: "  "'), "nodes.retain.say", "empty prompt"),
    ("missing say", BASE.replace("    say: 再见。\n", ""), "nodes.retain.say", "is required"),
    ("missing start", BASE.replace("start: opening\n", ""), "start", "is required"),
    (
        "unknown start",
        BASE.replace("start: opening", "start: opning"),
        "start",
        "no node named 'opning' (did you mean 'opening'?)",
    ),
    ("missing name", BASE.replace("name: 测试话术\n", ""), "name", "is required"),
    ("bad format", BASE.replace("format: 1", "format: 2"), "format", "unsupported format 2"),
    ("no nodes", "name: x\nstart: a\nnodes: {}\n", "nodes", "at least one node"),
    (
        "unreachable",
        BASE.replace("  retain:\n", "  lost:\n    say: 嗯。\n    end: hangup\n  retain:\n"),
        "nodes.lost",
        "unreachable",
    ),
    (
        "dead end",
        BASE.replace("affirm: agree_end", "affirm: stuck").replace(
            "  retain:\n", "  stuck:\n    say: 嗯？\n  retain:\n"
        ),
        "nodes.stuck",
        "neither ends the call nor leads anywhere",
    ),
    (
        "end with branches",
        BASE.replace("    end: hangup\n    tags", "    end: hangup\n    branches: {affirm: retain}\n    tags"),
        "nodes.agree_end.branches",
        "never listens",
    ),
    (
        "bad end",
        BASE.replace("end: hangup\n    tags", "end: hang\n    tags"),
        "nodes.agree_end.end",
        "expected hangup or transfer",
    ),
    (
        "transfer_to without transfer",
        BASE.replace("end: hangup\n    tags", "end: hangup\n    transfer_to: '8001'\n    tags"),
        "nodes.agree_end.transfer_to",
        "only a node with `end: transfer`",
    ),
    ("wrong type", with_node("    interruptible: maybe\n"), "nodes.opening.interruptible", "expected true or false"),
    ("bad setting", BASE + "settings: {max_silences: 0}\n", "settings.max_silences", "must be at least 1"),
    ("unknown setting", BASE + "settings: {max_silence: 3}\n", "settings.max_silence", "did you mean 'max_silences'"),
    (
        "on_max_silence target",
        with_node("    on_max_silence: gone\n"),
        "nodes.opening.on_max_silence",
        "no node named 'gone'",
    ),
    (
        "on_max_silence listens",
        BASE + "settings: {on_max_silence: opening}\n",
        "settings.on_max_silence",
        "must end the call",
    ),
    ("dtmf key", with_node("    dtmf: {x: retain}\n"), "nodes.opening.dtmf.x", "not a keypad key"),
    ("dtmf target", with_node("    dtmf: {1: nowhere}\n"), "nodes.opening.dtmf.1", "no node named 'nowhere'"),
    ("bad level", BASE.replace("level: A", "level: G"), "levels.0.level", "'G' is not a level"),
    ("bad op", BASE.replace("{visited: agree_end}", '{rounds: ">= x"}'), "levels.0.when.rounds", 'expected "OP N"'),
    (
        "bad op symbol",
        BASE.replace("{visited: agree_end}", '{intent_count: {affirm: "=2"}}'),
        "levels.0.when.intent_count.affirm",
        'expected "OP N"',
    ),
    (
        "rounds fraction",
        BASE.replace("{visited: agree_end}", '{rounds: ">=2.5"}'),
        "levels.0.when.rounds",
        "whole number",
    ),
    (
        "unknown condition",
        BASE.replace("{visited: agree_end}", '{talk_secs: ">3"}'),
        "levels.0.when.talk_secs",
        "did you mean 'talk_seconds'",
    ),
    (
        "two keys",
        BASE.replace("{visited: agree_end}", "{visited: agree_end, intent: affirm}"),
        "levels.0.when",
        "exactly one key",
    ),
    (
        "condition intent",
        BASE.replace("{visited: agree_end}", "{intent: complain}"),
        "levels.0.when.intent",
        "unknown intent 'complain'",
    ),
    (
        "condition node",
        BASE.replace("{visited: agree_end}", "{visited: agree}"),
        "levels.0.when.visited",
        "no node named 'agree'",
    ),
    (
        "condition tag",
        BASE.replace("{visited: agree_end}", "{tag: vip}"),
        "levels.0.when.tag",
        "no node or faq entry sets tag 'vip'",
    ),
    (
        "nested condition",
        BASE.replace("{visited: agree_end}", "{any: [{not: {intent: nope}}]}"),
        "levels.0.when.any.0.not.intent",
        "unknown intent 'nope'",
    ),
    ("empty any", BASE.replace("{visited: agree_end}", "{any: []}"), "levels.0.when.any", "non-empty list"),
    ("rule after catch-all", BASE + "  - level: D\n    when: {intent: reject}\n", "levels.2", "never tried"),
    ("concern intent", BASE + "concerns:\n  价格: [ask_price, money]\n", "concerns.价格.1", "unknown intent 'money'"),
    (
        "new intent without words",
        BASE + "intents:\n  ask_rate: {name: 问利率}\n",
        "intents.ask_rate",
        "needs `keywords` or `examples`",
    ),
    (
        "bad intent regex",
        BASE + "intents:\n  ask_rate: {keywords: ['/(利率/']}\n",
        "intents.ask_rate.keywords.0",
        "bad regular expression",
    ),
    ("reserved intent id", BASE + "intents:\n  default: {keywords: [x]}\n", "intents.default", "reserved"),
    (
        "unknown intent key",
        BASE + "intents:\n  ask_rate: {keyword: [利率]}\n",
        "intents.ask_rate.keyword",
        "did you mean 'keywords'",
    ),
]


# Every remaining message, pinned whole: (id, script text, every problem in order).
EXACT_CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "empty document",
        "",
        [("(document)", "the script is empty")],
    ),
    (
        "empty node",
        BASE.replace("  retain:\n    say: 再见。\n    end: hangup\n", "  retain:\n"),
        [("nodes.retain", "empty node: give it at least `say`")],
    ),
    (
        "node not mapping",
        BASE.replace("  retain:\n    say: 再见。\n    end: hangup\n", "  retain: x\n"),
        [("nodes.retain", "expected a node (a mapping with at least `say`), got text")],
    ),
    (
        "format read as a boolean",
        BASE.replace("format: 1", "format: yes"),
        [("format", "unsupported format 'yes': this version reads format 1")],
    ),
    (
        "blank name",
        BASE.replace("name: 测试话术", "name: ' '"),
        [("name", "must not be empty")],
    ),
    (
        "text setting",
        BASE + "settings: {silence_timeout_ms: '5s'}\n",
        [("settings.silence_timeout_ms", "expected a whole number, got text")],
    ),
    (
        "empty say list",
        BASE.replace("say: 再见。", "say: []"),
        [("nodes.retain.say", "empty prompt: give at least one variant")],
    ),
    (
        "bad placeholder",
        BASE.replace("{amount}", "{1x}"),
        [("nodes.opening.say", "'{1x}' is not a variable name")],
    ),
    (
        "variable twice",
        BASE.replace("variables: [amount]", "variables: [amount, amount]"),
        [("variables.1", "variable 'amount' is declared twice")],
    ),
    (
        "start not text",
        BASE.replace("start: opening", "start: [a]"),
        [("start", "expected a node id, got a list")],
    ),
    (
        "faq intents empty",
        BASE + "faq:\n  - intents: []\n    say: 很便宜。\n",
        [("faq.0.intents", "must name at least one intent")],
    ),
    (
        "faq intents text",
        BASE + "faq:\n  - intents: ask_price\n    say: 很便宜。\n",
        [("faq.0.intents", "expected a list of intent ids, got text")],
    ),
    (
        "faq not list",
        BASE + "faq: {a: 1}\n",
        [("faq", "expected a list of entries, got a mapping")],
    ),
    (
        "levels not list",
        BASE.replace("levels:\n  - level: A\n    when: {visited: agree_end}\n  - level: C\n", "levels: A\n"),
        [("levels", "expected a list of rules, got text")],
    ),
    (
        "level missing",
        BASE.replace("  - level: C\n", "  - when: {intent: affirm}\n"),
        [("levels.1.level", "is required (one of A, B, C, D, E, F)")],
    ),
    (
        "empty condition",
        BASE.replace("{visited: agree_end}", "{}"),
        [("levels.0.when", "empty condition")],
    ),
    (
        "intent_count empty",
        BASE.replace("{visited: agree_end}", "{intent_count: {}}"),
        [("levels.0.when.intent_count", "name at least one intent")],
    ),
    (
        "concern not list",
        BASE + "concerns:\n  价格: ask_price\n",
        [("concerns.价格", "expected a non-empty list of intent ids, got text")],
    ),
    (
        "node on_max_silence listens",
        with_node("    on_max_silence: opening\n"),
        [("nodes.opening.on_max_silence", "node 'opening' must end the call (`end: hangup` or `end: transfer`)")],
    ),
    (
        "goodbye list",
        BASE + "settings: {goodbye: [再见, 拜拜]}\n",
        [("settings.goodbye", "expected one text, not a list")],
    ),
    (
        "bad intent id",
        BASE + "intents:\n  ask-rate: {keywords: [x]}\n",
        [("intents.ask-rate", "'ask-rate' is not a valid intent id (letters, digits, _)")],
    ),
    (
        "intent body",
        BASE + "intents:\n  ask_rate: [x]\n",
        [("intents.ask_rate", "expected a mapping with name, keywords, examples, got a list")],
    ),
    (
        "json duplicate",
        '{"name": "x", "name": "y"}',
        [("(document)", "duplicate key 'name': the later one would silently win")],
    ),
    (
        "branch intent not text",
        with_node("    dtmf: {'*': [x]}\n"),
        [("nodes.opening.dtmf.*", "expected a node id, got a list")],
    ),
    (
        "text list item",
        BASE.replace("tags: [agreed]", "tags: [agreed, '']"),
        [("nodes.agree_end.tags.1", "must not be empty")],
    ),
    (
        "tags not list",
        BASE.replace("tags: [agreed]", "tags: agreed"),
        [("nodes.agree_end.tags", "expected a list, got text")],
    ),
    (
        "faq entry not mapping",
        BASE + "faq:\n  - x\n",
        [("faq.0", "expected an entry with intents and say, got text")],
    ),
    (
        "list key",
        BASE.replace("variables: [amount]", "variables: {a: 1}"),
        [
            ("variables", "expected a list, got a mapping"),
            ("nodes.opening.say", "variable 'amount' is not declared in `variables`"),
        ],
    ),
    (
        "transfer end ok",
        BASE.replace("end: hangup\n    tags", "end: transfer\n    transfer_to: 1\n    tags"),
        [("nodes.agree_end.transfer_to", "expected text, got a number (1)")],
    ),
    (
        "global intent not text",
        BASE + "global: {affirm: 3}\n",
        [("global.affirm", "expected a node id, got a number (3)")],
    ),
    (
        "date value",
        BASE.replace("say: 再见。", "say: 2020-01-01"),
        [("nodes.retain.say", "expected text, got date")],
    ),
    (
        "a node's problems in key order",
        with_node(
            "    brnaches: {}\n    audio: 1\n    interruptible: maybe\n    end: hang\n    transfer_to: x\n"
        ).replace("tags: [agreed]", "tags: [agreed, 1, '']"),
        [
            ("nodes.opening.brnaches", "unknown key 'brnaches' (did you mean 'branches'?)"),
            ("nodes.opening.end", "expected hangup or transfer, got 'hang'"),
            ("nodes.opening.transfer_to", "only a node with `end: transfer` transfers the call"),
            ("nodes.opening.audio", "expected text, got a number (1)"),
            ("nodes.opening.interruptible", "expected true or false, got text"),
            ("nodes.agree_end.tags.1", "expected text, got a number (1)"),
            ("nodes.agree_end.tags.2", "must not be empty"),
        ],
    ),
    (
        "a settings record's problems in key order",
        BASE + "settings: {max_rounds: 0, volume: 3, silence_timeout_ms: true, voice: '', interruptible: 2,"
        " on_max_silence: nowhere}\n",
        [
            (
                "settings.volume",
                "unknown key 'volume'; allowed: silence_timeout_ms, max_silences, max_rounds, interruptible, voice,"
                " goodbye, on_max_silence",
            ),
            ("settings.silence_timeout_ms", "expected a whole number, got a boolean"),
            ("settings.max_rounds", "must be at least 1, got 0"),
            ("settings.interruptible", "expected true or false, got a number (2)"),
            ("settings.voice", "must not be empty"),
            ("settings.on_max_silence", "no node named 'nowhere'"),
        ],
    ),
    (
        "an intent's problems with its good keywords",
        BASE + "intents:\n  ask_rate: {keywords: ['/(利率/', 3], examples: x, nmae: y}\n",
        [
            ("intents.ask_rate.nmae", "unknown key 'nmae' (did you mean 'name'?)"),
            ("intents.ask_rate.keywords.1", "expected text, got a number (3)"),
            ("intents.ask_rate.examples", "expected a list, got text"),
            ("intents.ask_rate.keywords.0", "bad regular expression: missing ), unterminated subpattern at position 0"),
        ],
    ),
    (
        "a faq entry's problems",
        BASE + "faq:\n  - intents: [ask_price, nope]\n    say: '{amout}'\n    audio: [x]\n"
        "    tags: [ok, null]\n    than: retain\n",
        [
            ("faq.0.than", "unknown key 'than' (did you mean 'then'?)"),
            ("faq.0.intents.1", "unknown intent 'nope': not built in and not in the script's `intents`"),
            ("faq.0.say", "variable 'amout' is not declared in `variables`"),
            ("faq.0.audio", "expected text, got a list"),
            ("faq.0.tags.1", "is required"),
        ],
    ),
    (
        "the document's problems in key order",
        BASE.replace("format: 1", "format: 3\nglobals: {}\nindustry: [x]")
        .replace("name: 测试话术\n", "")
        .replace("variables: [amount]", "variables: [amount, 4, 'x_y']"),
        [
            ("globals", "unknown key 'globals' (did you mean 'global'?)"),
            ("format", "unsupported format 3: this version reads format 1"),
            ("name", "is required"),
            ("industry", "expected text, got a list"),
            ("variables.1", "expected text, got a number (4)"),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in EXACT_CASES], ids=[c[0] for c in EXACT_CASES])
def test_validation_problems_exactly(text: str, expected: list[tuple[str, str]]) -> None:
    assert problems_of(text) == expected


@pytest.mark.parametrize(("text", "location", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validation_problem(text: str, location: str, fragment: str) -> None:
    problems = problems_of(text)
    assert any(loc == location and fragment in msg for loc, msg in problems), problems


def test_all_problems_are_reported_at_once() -> None:
    text = (
        BASE.replace("affirm: agree_end", "afirm: agre_end")
        .replace("{amount}", "{amout}")
        .replace("level: A", "level: Z")
    )
    locations = [loc for loc, _ in problems_of(text)]
    assert {"nodes.opening.branches.afirm", "nodes.opening.say", "levels.0.level"} <= set(locations)


def test_bad_intent_key_does_not_cascade_into_unreachable_nodes() -> None:
    problems = problems_of(BASE.replace("affirm: agree_end", "afirm: agree_end"))
    assert [loc for loc, _ in problems] == ["nodes.opening.branches.afirm"]


def test_dtmf_digits_may_be_written_bare() -> None:
    script = load_script(with_node("    dtmf: {1: agree_end, '#': retain}\n"))
    assert dict(script.nodes["opening"].dtmf) == {"1": "agree_end", "#": "retain"}


def test_yaml_booleans_are_fine_where_a_boolean_is_expected() -> None:
    assert load_script(with_node("    interruptible: no\n")).nodes["opening"].interruptible is False


def test_script_intents_extend_the_builtin_ids() -> None:
    text = BASE.replace("default: retain", "default: retain\n      ask_rate: retain") + (
        "intents:\n  ask_rate: {name: 问利率, keywords: [利率]}\n  affirm: {keywords: [办吧]}\n"
    )
    script = load_script(text)
    assert "ask_rate" in script.intent_ids
    assert script.intent_name("affirm") == "肯定"
