"""Checks a parsed script document and builds the `Script`, collecting every problem with its location.

Validation never stops at the first problem (`nodes.intro.branches.affirm: no node named 'agre_end'`):
a script author fixes a whole file at once, and the store refuses an invalid script with the same list.
The records' shapes are Pydantic models in `script_shape`; this module walks the document in order,
checks what depends on the rest of the script (intent ids, `{variables}`, conditions, tags) and
hands jump targets and reachability to `script_graph`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeGuard, TypeVar

from pydantic_core import PydanticCustomError

from callbot.dialogue import script_shape as shape
from callbot.dialogue.nlu import BUILTIN_INTENTS, IntentDefinition
from callbot.dialogue.script_graph import Targets, check_graph, no_node
from callbot.dialogue.script_model import (
    ALWAYS_AVAILABLE_VARIABLES,
    DTMF_KEYS,
    RESERVED_BRANCHES,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    FaqEntry,
    HasTag,
    IntentCount,
    IntentSeen,
    LevelRule,
    Node,
    NotCond,
    Rounds,
    Script,
    Settings,
    TalkSeconds,
    Visited,
    placeholders,
    without_placeholders,
)
from callbot.dialogue.script_shape import (
    Checked,
    FaqRecord,
    IntentRecord,
    LevelRecord,
    NodeRecord,
    R,
    ScriptRecord,
    SettingsRecord,
    Yaml11Bool,
    describe,
    join,
    key_text,
)

Problems = list[tuple[str, str]]
T = TypeVar("T")

_CONDITION_KEYS = ("visited", "intent", "intent_count", "tag", "rounds", "talk_seconds", "all", "any", "not")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COMPARE = re.compile(r"^\s*(>=|<=|==|>|<)\s*(\d+(?:\.\d+)?)\s*$")


def check_document(data: object, problems: Problems, source: str) -> Script | None:
    """The `Script` of a parsed document, or None when `problems` (appended to) is not empty."""
    return _Checker(problems).script(data, source)


class _Checker:
    """Builds the Script while collecting problems; keeps going after each problem to find the next."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        self.targets = Targets(set(), problems)

    def add(self, location: str, message: str) -> None:
        self.problems.append((location, message))

    # ---- generic shapes

    def record(self, model: type[R], raw: dict[str, Any], location: str) -> Checked[R]:
        """`raw` checked against its record model; its unknown keys are reported now, the rest key by key."""
        checked = Checked(model, raw, location)
        self.problems.extend(checked.unknown)
        return checked

    def mapping(self, value: object, location: str, what: str = "a mapping") -> dict[str, Any] | None:
        """Checks a mapping and its keys' type; returns it with text keys only."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(location or "(document)", f"expected {what}, got {describe(value)}")
            return None
        result: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, Yaml11Bool | bool):
                text = key_text(key)
                self.add(
                    join(location, text),
                    f"key {text!r} is read as a boolean by YAML 1.1 parsers; quote it ('{text}') "
                    "or choose another word",
                )
                continue
            if not isinstance(key, str):
                self.add(join(location, key), f"keys must be text, got {describe(key)}; quote it")
                continue
            result[key] = item
        return result

    def known_keys(self, mapping: Mapping[str, Any], allowed: Sequence[str], location: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.problems.append(shape.unknown_key(key, allowed, location))

    def leaf(self, check: Callable[[object], T], value: object, location: str) -> T | None:
        """`value` checked by a leaf shape of `script_shape`; None, with the problem recorded, when it fails."""
        try:
            return check(value)
        except PydanticCustomError as exc:
            self.add(location, exc.message())
            return None

    def text_list(self, value: object, location: str) -> list[str]:
        items = self.leaf(shape.a_list, value, location) or []
        checked = (self.leaf(shape.text, item, join(location, index)) for index, item in enumerate(items))
        return [item for item in checked if item is not None]

    def prompts(self, value: object, location: str, variables: frozenset[str]) -> tuple[str, ...]:
        """`say`: one text or a non-empty list of variants; every `{placeholder}` must be a variable."""
        if value is None:
            self.add(location, "is required (the text the robot says)")
            return ()
        if isinstance(value, list):
            if not value:
                self.add(location, "empty prompt: give at least one variant")
                return ()
            items = [(item, join(location, i)) for i, item in enumerate(value)]
        else:
            items = [(value, location)]
        result: list[str] = []
        for item, where in items:
            if not isinstance(item, str):
                self.add(where, f"expected text, got {describe(item)}")
                continue
            if not item.strip():
                self.add(where, "empty prompt")
                continue
            self.placeholders(item, where, variables)
            result.append(item)
        return tuple(result)

    def placeholders(self, text: str, location: str, variables: frozenset[str]) -> None:
        for name in placeholders(text):
            if not _IDENT.match(name):
                self.add(location, f"'{{{name}}}' is not a variable name")
            elif name not in variables:
                self.add(location, f"variable '{name}' is not declared in `variables`")
        leftover = without_placeholders(text)
        if "{" in leftover or "}" in leftover:
            self.add(location, "unbalanced brace: write variables as {name}")

    # ---- the document

    def script(self, data: object, source: str) -> Script | None:
        top = self.mapping(data, "", "a mapping of script keys (format, name, start, nodes, ...)")
        if top is None:
            return None
        if not top:
            self.add("(document)", "the script is empty")
            return None
        record = self.record(ScriptRecord, top, "")
        for key in ("format", "name", "industry", "variables"):
            self.problems.extend(record.problems(key))
        name = record.value.name or ""
        industry = record.value.industry

        variables: list[str] = []
        if "variables" in top:
            for index, var in enumerate(record.value.variables or ()):
                where = f"variables.{index}"
                if not _IDENT.match(var):
                    self.add(where, f"'{var}' is not a valid variable name (letters, digits, _)")
                elif var in variables:
                    self.add(where, f"variable '{var}' is declared twice")
                else:
                    variables.append(var)
        available = frozenset(variables) | ALWAYS_AVAILABLE_VARIABLES

        intents = self.intents(top.get("intents"))
        known_intents = frozenset(BUILTIN_INTENTS) | {d.id for d in intents}

        raw_nodes = self.mapping(top.get("nodes"), "nodes", "a mapping of node id -> node")
        node_ids = set(raw_nodes or {})
        self.targets = Targets(node_ids, self.problems)
        if "nodes" not in top or (raw_nodes is not None and not raw_nodes):
            self.add("nodes", "is required: a script needs at least one node")

        settings = self.settings(top.get("settings"), available)

        start = top.get("start")
        if start is None:
            self.add("start", "is required (the id of the first node)")
        elif not isinstance(start, str):
            self.add("start", f"expected a node id, got {describe(start)}")
            start = None
        elif node_ids and start not in node_ids:
            self.add("start", no_node(start, node_ids))

        nodes: dict[str, Node] = {}
        for node_id, raw in (raw_nodes or {}).items():
            node = self.node(node_id, raw, known_intents, available)
            if node is not None:
                nodes[node_id] = node

        global_ = self.jumps(top.get("global"), "global", known_intents)
        faq = self.faq(top.get("faq"), known_intents, available)
        tags = {t for n in nodes.values() for t in n.tags} | {t for e in faq for t in e.tags}
        levels = self.levels(top.get("levels"), known_intents, tags)
        concerns = self.concerns(top.get("concerns"), known_intents)

        if isinstance(start, str) and start in nodes:
            unknown = self.targets.unknown
            self.problems.extend(check_graph(start, nodes, global_, faq, settings, report_unreachable=not unknown))

        if self.problems:
            return None
        assert isinstance(start, str)
        return Script(
            format=1,
            name=name,
            industry=industry,
            variables=tuple(variables),
            settings=settings,
            start=start,
            nodes=MappingProxyType(nodes),
            global_=MappingProxyType(global_),
            faq=tuple(faq),
            levels=tuple(levels),
            concerns=MappingProxyType(concerns),
            intents=tuple(intents),
            source=source,
        )

    def target(self, value: object, location: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.add(location, f"expected a node id, got {describe(value)}")
            return None
        return self.targets.check(value, location)

    def intent_id(self, value: object, location: str, known: frozenset[str], *, branch: bool = False) -> TypeGuard[str]:
        if not isinstance(value, str):
            self.add(location, f"expected an intent id, got {describe(value)}")
            return False
        if branch and value in RESERVED_BRANCHES:
            return True
        if value in RESERVED_BRANCHES:
            self.add(location, f"'{value}' is only a branch key inside a node's `branches`, not an intent")
            return False
        if value not in known:
            close = difflib.get_close_matches(value, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.add(location, f"unknown intent '{value}'{hint}: not built in and not in the script's `intents`")
            return False
        return True

    def settings(self, value: object, variables: frozenset[str]) -> Settings:
        raw = self.mapping(value, "settings")
        if not raw:
            return Settings()
        record = self.record(SettingsRecord, raw, "settings")
        values: dict[str, Any] = {}
        for key in ("silence_timeout_ms", "max_silences", "max_rounds", "interruptible", "voice"):
            self.problems.extend(record.problems(key))
            if getattr(record.value, key) is not None:
                values[key] = getattr(record.value, key)
        if "on_max_silence" in raw:
            values["on_max_silence"] = self.target(raw["on_max_silence"], "settings.on_max_silence")
            if values["on_max_silence"] is None:
                del values["on_max_silence"]
        if "goodbye" in raw:
            goodbye = self.prompts(raw["goodbye"], "settings.goodbye", variables)
            if len(goodbye) > 1:
                self.add("settings.goodbye", "expected one text, not a list")
            elif goodbye:
                values["goodbye"] = goodbye[0]
        return Settings(**values)

    def intents(self, value: object) -> list[IntentDefinition]:
        raw = self.mapping(value, "intents", "a mapping of intent id -> definition")
        result: list[IntentDefinition] = []
        for intent_id, body in (raw or {}).items():
            where = f"intents.{intent_id}"
            if not _IDENT.match(intent_id):
                self.add(where, f"'{intent_id}' is not a valid intent id (letters, digits, _)")
                continue
            if intent_id in RESERVED_BRANCHES:
                self.add(where, f"'{intent_id}' is reserved for branches and cannot be an intent")
                continue
            spec = self.mapping(body, where, "a mapping with name, keywords, examples")
            if spec is None:
                continue
            record = self.record(IntentRecord, spec, where)
            for key in ("name", "keywords", "examples"):
                self.problems.extend(record.problems(key))
            name = record.value.name
            keywords = record.value.keywords or ()
            examples = record.value.examples or ()
            for index, keyword in enumerate(keywords):
                if len(keyword) > 2 and keyword.startswith("/") and keyword.endswith("/"):
                    try:
                        re.compile(keyword[1:-1])
                    except re.error as exc:
                        self.add(f"{where}.keywords.{index}", f"bad regular expression: {exc}")
            if intent_id not in BUILTIN_INTENTS and not keywords and not examples:
                self.add(where, "a new intent needs `keywords` or `examples` so it can be recognised")
            result.append(IntentDefinition(intent_id, name, tuple(keywords), tuple(examples)))
        return result

    def jumps(self, value: object, location: str, known: frozenset[str], *, branch: bool = False) -> dict[str, str]:
        raw = self.mapping(value, location, "a mapping of intent id -> node id")
        result: dict[str, str] = {}
        for intent, target in (raw or {}).items():
            where = f"{location}.{intent}"
            self.intent_id(intent, where, known, branch=branch)
            checked = self.target(target, where)
            if checked is not None:
                # kept even under a bad intent key, so reachability does not pile up follow-on problems
                result[intent] = checked
        return result

    def node(
        self,
        node_id: str,
        value: object,
        known: frozenset[str],
        variables: frozenset[str],
    ) -> Node | None:
        where = f"nodes.{node_id}"
        raw = self.mapping(value, where, "a node (a mapping with at least `say`)")
        if raw is None:
            return None
        if not raw:
            self.add(where, "empty node: give it at least `say`")
            return None
        record = self.record(NodeRecord, raw, where)
        say = self.prompts(raw.get("say"), f"{where}.say", variables)
        self.problems.extend(record.problems("end"))
        end = record.value.end
        self.problems.extend(record.problems("transfer_to"))
        transfer_to = record.value.transfer_to
        if transfer_to is not None and end != "transfer":
            self.add(f"{where}.transfer_to", "only a node with `end: transfer` transfers the call")

        branches = self.jumps(raw.get("branches"), f"{where}.branches", known, branch=True)
        dtmf = self.dtmf(raw.get("dtmf"), f"{where}.dtmf")
        on_max_silence = None
        if "on_max_silence" in raw:
            on_max_silence = self.target(raw["on_max_silence"], f"{where}.on_max_silence")
        for key in ("audio", "interruptible", "tags"):
            self.problems.extend(record.problems(key))
        tags = record.value.tags or ()

        if "end" in raw and end is not None:
            for key in ("branches", "dtmf", "on_max_silence"):
                if raw.get(key):
                    self.add(
                        f"{where}.{key}",
                        f"the node ends the call (`end: {end}`): it never listens, so `{key}` is never used",
                    )
        elif "end" not in raw and not raw.get("branches") and not raw.get("dtmf"):
            self.add(where, "the node neither ends the call nor leads anywhere: add `branches` or `end: hangup`")
        return Node(
            id=node_id,
            say=say,
            end=end,
            transfer_to=transfer_to,
            branches=MappingProxyType(branches),
            dtmf=MappingProxyType(dtmf),
            audio=record.value.audio,
            interruptible=record.value.interruptible,
            tags=tags,
            on_max_silence=on_max_silence,
        )

    def dtmf(self, value: object, location: str) -> dict[str, str]:
        if isinstance(value, dict):
            # keypad digits written bare (`1: node`) are numbers to YAML; accept them as the digit
            value = {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: v for k, v in value.items()}
        raw = self.mapping(value, location, "a mapping of key (0-9, *, #) -> node id")
        result: dict[str, str] = {}
        for key, target in (raw or {}).items():
            where = f"{location}.{key}"
            if key not in DTMF_KEYS:
                self.add(where, f"'{key}' is not a keypad key: use one of 0-9, * or #")
                continue
            checked = self.target(target, where)
            if checked is not None:
                result[key] = checked
        return result

    def faq(self, value: object, known: frozenset[str], variables: frozenset[str]) -> list[FaqEntry]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add("faq", f"expected a list of entries, got {describe(value)}")
            return []
        result: list[FaqEntry] = []
        for index, body in enumerate(value):
            where = f"faq.{index}"
            raw = self.mapping(body, where, "an entry with intents and say")
            if raw is None:
                continue
            record = self.record(FaqRecord, raw, where)
            self.problems.extend(record.problems("intents"))
            intents = [
                intent
                for i, intent in enumerate(record.value.intents)
                if self.intent_id(intent, f"{where}.intents.{i}", known)
            ]
            say = self.prompts(raw.get("say"), f"{where}.say", variables)
            then = self.target(raw["then"], f"{where}.then") if "then" in raw else None
            for key in ("audio", "tags"):
                self.problems.extend(record.problems(key))
            tags = record.value.tags or ()
            result.append(FaqEntry(index, tuple(intents), say, then, record.value.audio, tags))
        return result

    def levels(self, value: object, known: frozenset[str], tags: set[str]) -> list[LevelRule]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add("levels", f"expected a list of rules, got {describe(value)}")
            return []
        result: list[LevelRule] = []
        catch_all: int | None = None
        for index, body in enumerate(value):
            where = f"levels.{index}"
            raw = self.mapping(body, where, "a rule with level and when")
            if raw is None:
                continue
            record = self.record(LevelRecord, raw, where)
            self.problems.extend(record.problems("level"))
            level = record.value.level
            if catch_all is not None:
                self.add(where, f"never tried: rule levels.{catch_all} has no `when` and always matches first")
            when = None
            if "when" in raw:
                when = self.condition(raw["when"], f"{where}.when", known, tags)
            else:
                catch_all = index if catch_all is None else catch_all
            if level is not None:
                result.append(LevelRule(index + 1, level, when))
        return result

    def compare(self, value: object, location: str, *, whole: bool) -> Compare | None:
        text = value if isinstance(value, str) else None
        match = _COMPARE.match(text) if text is not None else None
        if match is None:
            self.add(location, f'expected "OP N" such as ">=3" (OP is one of >= > <= < ==), got {value!r}')
            return None
        number = float(match.group(2))
        if whole and number != int(number):
            self.add(location, f"expected a whole number in {value!r}")
            return None
        return Compare(match.group(1), number)

    def condition(self, value: object, location: str, known: frozenset[str], tags: set[str]) -> Condition | None:
        raw = self.mapping(value, location, "a condition such as {intent: affirm}")
        if raw is None:
            return None
        if len(raw) != 1:
            if not raw:
                self.add(location, "empty condition")
            else:
                self.add(
                    location,
                    "a condition has exactly one key; combine several with `all: [...]` or `any: [...]`",
                )
            self.known_keys(raw, _CONDITION_KEYS, location)
            return None
        ((key, arg),) = raw.items()
        where = f"{location}.{key}"
        if key == "visited":
            node = self.target(arg, where)
            return Visited(node) if node else None
        if key == "intent":
            return IntentSeen(arg) if self.intent_id(arg, where, known) else None
        if key == "intent_count":
            counts = self.mapping(arg, where, 'a mapping of intent id -> "OP N"')
            if counts is not None and not counts:
                self.add(where, "name at least one intent")
            parts: list[Condition] = []
            for intent, op in (counts or {}).items():
                ok = self.intent_id(intent, f"{where}.{intent}", known)
                cmp = self.compare(op, f"{where}.{intent}", whole=True)
                if ok and cmp is not None:
                    parts.append(IntentCount(intent, cmp))
            if not parts:
                return None
            return parts[0] if len(parts) == 1 else AllOf(tuple(parts))
        if key == "tag":
            tag = self.leaf(shape.text, arg, where)
            if tag is not None and tag not in tags:
                self.add(where, f"no node or faq entry sets tag '{tag}', so this never holds")
                return None
            return HasTag(tag) if tag else None
        if key in ("rounds", "talk_seconds"):
            cmp = self.compare(arg, where, whole=key == "rounds")
            if cmp is None:
                return None
            return Rounds(cmp) if key == "rounds" else TalkSeconds(cmp)
        if key in ("all", "any"):
            if not isinstance(arg, list) or not arg:
                self.add(where, f"expected a non-empty list of conditions, got {describe(arg)}")
                return None
            subs = [self.condition(c, f"{where}.{i}", known, tags) for i, c in enumerate(arg)]
            if any(s is None for s in subs):
                return None
            checked = tuple(s for s in subs if s is not None)
            return AllOf(checked) if key == "all" else AnyOf(checked)
        if key == "not":
            sub = self.condition(arg, where, known, tags)
            return NotCond(sub) if sub is not None else None
        self.known_keys(raw, _CONDITION_KEYS, location)
        return None

    def concerns(self, value: object, known: frozenset[str]) -> dict[str, tuple[str, ...]]:
        raw = self.mapping(value, "concerns", "a mapping of concern name -> intent ids")
        result: dict[str, tuple[str, ...]] = {}
        for concern, intents in (raw or {}).items():
            where = f"concerns.{concern}"
            if not isinstance(intents, list) or not intents:
                self.add(where, f"expected a non-empty list of intent ids, got {describe(intents)}")
                continue
            ok = [i for n, i in enumerate(intents) if self.intent_id(i, f"{where}.{n}", known)]
            result[concern] = tuple(ok)
        return result
