"""Robot scripts (话术): load a YAML/JSON script into immutable objects, and validate it.

The format is fixed by `docs/script-format.md`; the keys this project adds are documented in
`examples/scripts/README.md`. Validation never stops at the first problem: it collects every
problem with its location (`nodes.intro.branches.affirm: no node named 'agre_end'`), because a
script author fixes a whole file at once and the store refuses an invalid script with the same list.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import yaml

from callbot.dialogue.nlu import BUILTIN_INTENTS, IntentDefinition
from callbot.errors import ValidationFailed

__all__ = [
    "DEFAULT_GOODBYE",
    "RESERVED_BRANCHES",
    "AllOf",
    "AnyOf",
    "Compare",
    "Condition",
    "FaqEntry",
    "HasTag",
    "IntentCount",
    "IntentSeen",
    "LevelRule",
    "Node",
    "NotCond",
    "Rounds",
    "Script",
    "ScriptInvalid",
    "Settings",
    "TalkSeconds",
    "Visited",
    "load_script",
    "load_script_file",
    "validate_script",
]

DEFAULT_GOODBYE = "不好意思，可能信号不太好，我们稍后再联系您，祝您生活愉快，再见。"
#: Branch keys that are not intents: `default` (nothing useful recognised) and `silence`.
RESERVED_BRANCHES = frozenset({"default", "silence"})
ALWAYS_AVAILABLE_VARIABLES = frozenset({"name", "phone"})
LEVELS = ("A", "B", "C", "D", "E", "F")
DTMF_KEYS = frozenset("0123456789*#")

_TOP_KEYS = (
    "format", "name", "industry", "variables", "settings", "start", "intents", "nodes", "global",
    "faq", "levels", "concerns",
)  # fmt: skip
_SETTINGS_KEYS = (
    "silence_timeout_ms", "max_silences", "max_rounds", "interruptible", "voice",
    "goodbye", "on_max_silence",  # extensions
)  # fmt: skip
_NODE_KEYS = (
    "say", "audio", "interruptible", "tags", "branches", "end", "transfer_to",
    "dtmf", "on_max_silence",  # extensions
)  # fmt: skip
_FAQ_KEYS = ("intents", "say", "then", "audio", "tags")
_INTENT_KEYS = ("name", "keywords", "examples")
_LEVEL_KEYS = ("level", "when")
_CONDITION_KEYS = ("visited", "intent", "intent_count", "tag", "rounds", "talk_seconds", "all", "any", "not")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_COMPARE = re.compile(r"^\s*(>=|<=|==|>|<)\s*(\d+(?:\.\d+)?)\s*$")


# --------------------------------------------------------------------------- the script model


@dataclass(frozen=True, slots=True)
class Settings:
    silence_timeout_ms: int = 5000
    max_silences: int = 2
    max_rounds: int = 20
    interruptible: bool = True
    voice: str = "default"
    #: said when the robot ends the call itself (second miss, max_rounds); extension
    goodbye: str = DEFAULT_GOODBYE
    #: script-wide node for too many silences, unless a node names its own; extension
    on_max_silence: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """One step of the script (节点): a prompt, then either the end of the call or listening."""

    id: str
    say: tuple[str, ...]
    end: Literal["hangup", "transfer"] | None = None
    transfer_to: str | None = None
    branches: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    dtmf: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    audio: str | None = None
    interruptible: bool | None = None
    tags: tuple[str, ...] = ()
    on_max_silence: str | None = None

    @property
    def listens(self) -> bool:
        """True when the robot waits for the customer after the prompt (the node does not end the call)."""
        return self.end is None


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """A knowledge-base answer (问答): said when one of `intents` is recognised, then back to the node."""

    index: int
    intents: tuple[str, ...]
    say: tuple[str, ...]
    then: str | None = None
    audio: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Compare:
    """`"OP N"` from a condition, e.g. `>=3`."""

    op: str
    value: float

    def holds(self, actual: float) -> bool:
        if self.op == ">=":
            return actual >= self.value
        if self.op == ">":
            return actual > self.value
        if self.op == "<=":
            return actual <= self.value
        if self.op == "<":
            return actual < self.value
        return actual == self.value

    def __str__(self) -> str:
        number = int(self.value) if self.value == int(self.value) else self.value
        return f"{self.op}{number}"


@dataclass(frozen=True, slots=True)
class Visited:
    node: str


@dataclass(frozen=True, slots=True)
class IntentSeen:
    intent: str


@dataclass(frozen=True, slots=True)
class IntentCount:
    intent: str
    compare: Compare


@dataclass(frozen=True, slots=True)
class HasTag:
    tag: str


@dataclass(frozen=True, slots=True)
class Rounds:
    compare: Compare


@dataclass(frozen=True, slots=True)
class TalkSeconds:
    compare: Compare


@dataclass(frozen=True, slots=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class NotCond:
    condition: Condition


Condition: TypeAlias = Visited | IntentSeen | IntentCount | HasTag | Rounds | TalkSeconds | AllOf | AnyOf | NotCond


@dataclass(frozen=True, slots=True)
class LevelRule:
    """An intent-level rule (意向等级规则); `when` None always holds. `number` counts from 1."""

    number: int
    level: str
    when: Condition | None = None


@dataclass(frozen=True)
class Script:
    """A validated robot script. Immutable: a running call can keep using the version it started with."""

    name: str
    start: str
    nodes: Mapping[str, Node]
    format: int = 1
    industry: str | None = None
    variables: tuple[str, ...] = ()
    settings: Settings = field(default_factory=Settings)
    global_: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    faq: tuple[FaqEntry, ...] = ()
    levels: tuple[LevelRule, ...] = ()
    concerns: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: the script's own intents and its additions to built-in ones, for
    #: `build_recognizer(script.intents, script.industry)`
    intents: tuple[IntentDefinition, ...] = ()
    source: str = "<script>"
    _faq_by_intent: Mapping[str, FaqEntry] = field(init=False, repr=False, compare=False)
    _used_variables: frozenset[str] = field(init=False, repr=False, compare=False)
    _required: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_intent: dict[str, FaqEntry] = {}
        for entry in self.faq:
            for intent in entry.intents:
                by_intent.setdefault(intent, entry)  # the first entry naming an intent answers it
        object.__setattr__(self, "_faq_by_intent", MappingProxyType(by_intent))
        used: set[str] = set()
        for text in self._all_prompts():
            used.update(_placeholders(text))
        object.__setattr__(self, "_used_variables", frozenset(used))
        # Checked for every imported row: computed once.
        object.__setattr__(self, "_required", tuple(sorted(frozenset(self.variables) | frozenset(used))))

    def _all_prompts(self) -> Iterator[str]:
        for node in self.nodes.values():
            yield from node.say
        for entry in self.faq:
            yield from entry.say
        yield self.settings.goodbye

    def faq_for(self, intent: str) -> FaqEntry | None:
        return self._faq_by_intent.get(intent)

    @property
    def intent_ids(self) -> frozenset[str]:
        """Every intent id the script may use: the built-in library plus the script's own."""
        return frozenset(BUILTIN_INTENTS) | {d.id for d in self.intents}

    def intent_name(self, intent: str) -> str:
        """The display name (名称) of an intent: the script's own name first, then the built-in one."""
        for definition in self.intents:
            if definition.id == intent and definition.name:
                return definition.name
        return BUILTIN_INTENTS.get(intent, intent)

    @property
    def required_variables(self) -> frozenset[str]:
        """Customer properties a call needs: declared variables, and `name`/`phone` when prompts use them."""
        return frozenset(self.variables) | self._used_variables

    def missing_variables(self, values: Mapping[str, object]) -> list[str]:
        """The required variables that `values` lacks or leaves empty, sorted."""
        return [v for v in self._required if values.get(v) in (None, "")]


class ScriptInvalid(ValidationFailed):
    """The robot script is invalid."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "<script>") -> None:
        count = len(problems)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''} in the robot script", problems=problems)
        self.source = source


# --------------------------------------------------------------------------- public functions


def load_script(text: str, *, source: str = "<script>") -> Script:
    """Parse and validate a script (YAML, or JSON). Raises `ScriptInvalid` listing every problem."""
    problems: list[tuple[str, str]] = []
    script = _load(text, problems, source)
    if problems or script is None:
        raise ScriptInvalid(problems, source)
    return script


def load_script_file(path: str) -> Script:
    """Read a script file (UTF-8) and load it; the path is the source shown in errors."""
    with open(path, encoding="utf-8") as handle:
        return load_script(handle.read(), source=path)


def validate_script(text: str) -> list[tuple[str, str]]:
    """Every problem of a script as (location, message) pairs; an empty list means it is valid."""
    problems: list[tuple[str, str]] = []
    _load(text, problems, "<script>")
    return problems


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Yaml11Bool:
    """A scalar that YAML 1.1 reads as a boolean although it was written as a word (yes, no, on, off)."""

    value: bool
    text: str


class _Loader(yaml.SafeLoader):
    """SafeLoader that remembers duplicate keys and keeps yes/no/on/off visible instead of True/False."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                marker = (key_node.tag, key_node.value)
                if marker in seen:
                    self.duplicates.append((key_node.start_mark.line + 1, str(key_node.value)))
                seen.add(marker)
        return super().construct_mapping(node, deep=deep)


def _construct_bool(loader: yaml.SafeLoader, node: yaml.Node) -> bool | _Yaml11Bool:
    text = str(node.value)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return _Yaml11Bool(text.lower() in ("yes", "on"), text)


_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


_TOO_DEEP = "the document is nested too deeply"


def _unprintable(exc: yaml.reader.ReaderError) -> str:
    character = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return f"character U+{character:04X} is not allowed (control characters cannot appear in YAML)"


def _parse_document(text: str, problems: list[tuple[str, str]]) -> object:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        duplicates: list[str] = []

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            result: dict[str, Any] = {}
            for key, value in items:
                if key in result:
                    duplicates.append(key)
                result[key] = value
            return result

        try:
            data = json.loads(text, object_pairs_hook=pairs)
        except json.JSONDecodeError as exc:
            problems.append((f"line {exc.lineno}", f"JSON syntax error: {exc.msg} (column {exc.colno})"))
            return None
        except RecursionError:
            problems.append(("(document)", _TOO_DEEP))
            return None
        for key in duplicates:
            problems.append(("(document)", f"duplicate key '{key}': the later one would silently win"))
        return data
    try:
        # The reader checks every character when it is made: a control character fails here.
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problems.append((f"line {line}", f"YAML syntax error: {_unprintable(exc)}"))
        return None
    try:
        data = loader.get_single_data()
    except RecursionError:
        problems.append(("(document)", _TOO_DEEP))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        column = f" (column {mark.column + 1})" if mark is not None else ""
        what = exc.problem or exc.context or "invalid YAML"
        problems.append((where, f"YAML syntax error: {what}{column}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(("(document)", f"YAML syntax error: {exc}"))
        return None
    finally:
        loader.dispose()
    for line, key in loader.duplicates:
        problems.append((f"line {line}", f"duplicate key '{key}': the later one would silently win"))
    return data


def _load(text: str, problems: list[tuple[str, str]], source: str) -> Script | None:
    data = _parse_document(text, problems)
    if problems:
        return None
    return _Checker(problems).script(data, source)


# --------------------------------------------------------------------------- validation


def _placeholders(text: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def _describe(value: object) -> str:
    if isinstance(value, _Yaml11Bool):
        return f"'{value.text}' (read as a boolean by YAML 1.1; quote it)"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _join(location: str, key: object) -> str:
    return f"{location}.{key}" if location else str(key)


def _key_text(key: object) -> str:
    return key.text if isinstance(key, _Yaml11Bool) else str(key)


class _Checker:
    """Builds the Script while collecting problems; keeps going after each problem to find the next."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        self.unknown_targets = 0

    def add(self, location: str, message: str) -> None:
        self.problems.append((location, message))

    # ---- generic shapes

    def mapping(self, value: object, location: str, what: str = "a mapping") -> dict[str, Any] | None:
        """Checks a mapping and its keys' type; returns it with text keys only."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(location or "(document)", f"expected {what}, got {_describe(value)}")
            return None
        result: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, _Yaml11Bool | bool):
                text = _key_text(key)
                self.add(
                    _join(location, text),
                    f"key {text!r} is read as a boolean by YAML 1.1 parsers; quote it ('{text}') "
                    "or choose another word",
                )
                continue
            if not isinstance(key, str):
                self.add(_join(location, key), f"keys must be text, got {_describe(key)}; quote it")
                continue
            result[key] = item
        return result

    def known_keys(self, mapping: Mapping[str, Any], allowed: Sequence[str], location: str) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed: {', '.join(allowed)}"
                self.add(_join(location, key), f"unknown key '{key}'{hint}")

    def text(self, value: object, location: str, *, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.add(location, "is required")
            return None
        if not isinstance(value, str):
            self.add(location, f"expected text, got {_describe(value)}")
            return None
        if required and not value.strip():
            self.add(location, "must not be empty")
            return None
        return value

    def integer(self, value: object, location: str, minimum: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(location, f"expected a whole number, got {_describe(value)}")
            return None
        if value < minimum:
            self.add(location, f"must be at least {minimum}, got {value}")
            return None
        return value

    def boolean(self, value: object, location: str) -> bool | None:
        if isinstance(value, _Yaml11Bool):
            return value.value  # unambiguous where a boolean is expected
        if not isinstance(value, bool):
            self.add(location, f"expected true or false, got {_describe(value)}")
            return None
        return value

    def text_list(self, value: object, location: str, *, allow_single: bool = False) -> list[str]:
        if allow_single and isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            self.add(location, f"expected a list, got {_describe(value)}")
            return []
        result: list[str] = []
        for index, item in enumerate(value):
            checked = self.text(item, _join(location, index))
            if checked is not None:
                result.append(checked)
        return result

    def prompts(self, value: object, location: str, variables: frozenset[str]) -> tuple[str, ...]:
        """`say`: one text or a non-empty list of variants; every `{placeholder}` must be a variable."""
        if value is None:
            self.add(location, "is required (the text the robot says)")
            return ()
        if isinstance(value, list):
            if not value:
                self.add(location, "empty prompt: give at least one variant")
                return ()
            items = [(item, _join(location, i)) for i, item in enumerate(value)]
        else:
            items = [(value, location)]
        result: list[str] = []
        for item, where in items:
            if not isinstance(item, str):
                self.add(where, f"expected text, got {_describe(item)}")
                continue
            if not item.strip():
                self.add(where, "empty prompt")
                continue
            self.placeholders(item, where, variables)
            result.append(item)
        return tuple(result)

    def placeholders(self, text: str, location: str, variables: frozenset[str]) -> None:
        for name in _placeholders(text):
            if not _IDENT.match(name):
                self.add(location, f"'{{{name}}}' is not a variable name")
            elif name not in variables:
                self.add(location, f"variable '{name}' is not declared in `variables`")
        leftover = _PLACEHOLDER.sub("", text)
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
        self.known_keys(top, _TOP_KEYS, "")

        fmt = top.get("format", 1)
        if fmt != 1 or isinstance(fmt, bool):
            self.add("format", f"unsupported format {fmt!r}: this version reads format 1")
        name = self.text(top.get("name"), "name") or ""
        industry = self.text(top.get("industry"), "industry", required=False)

        variables: list[str] = []
        if "variables" in top:
            for index, var in enumerate(self.text_list(top["variables"], "variables")):
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
        if "nodes" not in top or (raw_nodes is not None and not raw_nodes):
            self.add("nodes", "is required: a script needs at least one node")

        settings = self.settings(top.get("settings"), node_ids, available)

        start = top.get("start")
        if start is None:
            self.add("start", "is required (the id of the first node)")
        elif not isinstance(start, str):
            self.add("start", f"expected a node id, got {_describe(start)}")
            start = None
        elif node_ids and start not in node_ids:
            self.add("start", self.no_node(start, node_ids))

        nodes: dict[str, Node] = {}
        for node_id, raw in (raw_nodes or {}).items():
            node = self.node(node_id, raw, node_ids, known_intents, available)
            if node is not None:
                nodes[node_id] = node

        global_ = self.jumps(top.get("global"), "global", node_ids, known_intents)
        faq = self.faq(top.get("faq"), node_ids, known_intents, available)
        tags = {t for n in nodes.values() for t in n.tags} | {t for e in faq for t in e.tags}
        levels = self.levels(top.get("levels"), node_ids, known_intents, tags)
        concerns = self.concerns(top.get("concerns"), known_intents)

        if isinstance(start, str) and start in nodes:
            self.reachability(start, nodes, global_, faq, settings)

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

    def no_node(self, target: str, node_ids: Iterable[str]) -> str:
        close = difflib.get_close_matches(target, list(node_ids), n=1)
        return f"no node named '{target}'" + (f" (did you mean '{close[0]}'?)" if close else "")

    def target(self, value: object, location: str, node_ids: set[str]) -> str | None:
        if not isinstance(value, str) or not value:
            self.add(location, f"expected a node id, got {_describe(value)}")
            return None
        if value not in node_ids:
            self.add(location, self.no_node(value, node_ids))
            self.unknown_targets += 1
            return None
        return value

    def intent_id(self, value: object, location: str, known: frozenset[str], *, branch: bool = False) -> bool:
        if not isinstance(value, str):
            self.add(location, f"expected an intent id, got {_describe(value)}")
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

    def settings(self, value: object, node_ids: set[str], variables: frozenset[str]) -> Settings:
        raw = self.mapping(value, "settings")
        if not raw:
            return Settings()
        self.known_keys(raw, _SETTINGS_KEYS, "settings")
        values: dict[str, Any] = {}
        checks: dict[str, Any] = {
            "silence_timeout_ms": lambda v, loc: self.integer(v, loc, 100),
            "max_silences": lambda v, loc: self.integer(v, loc, 1),
            "max_rounds": lambda v, loc: self.integer(v, loc, 1),
            "interruptible": self.boolean,
            "voice": lambda v, loc: self.text(v, loc),
            "on_max_silence": lambda v, loc: self.target(v, loc, node_ids),
        }
        for key, check in checks.items():
            if key in raw:
                checked = check(raw[key], f"settings.{key}")
                if checked is not None:
                    values[key] = checked
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
            self.known_keys(spec, _INTENT_KEYS, where)
            name = self.text(spec.get("name"), f"{where}.name", required=False)
            keywords = self.text_list(spec["keywords"], f"{where}.keywords") if "keywords" in spec else []
            examples = self.text_list(spec["examples"], f"{where}.examples") if "examples" in spec else []
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

    def jumps(
        self, value: object, location: str, node_ids: set[str], known: frozenset[str], *, branch: bool = False
    ) -> dict[str, str]:
        raw = self.mapping(value, location, "a mapping of intent id -> node id")
        result: dict[str, str] = {}
        for intent, target in (raw or {}).items():
            where = f"{location}.{intent}"
            self.intent_id(intent, where, known, branch=branch)
            checked = self.target(target, where, node_ids)
            if checked is not None:
                # kept even under a bad intent key, so reachability does not pile up follow-on problems
                result[intent] = checked
        return result

    def node(
        self,
        node_id: str,
        value: object,
        node_ids: set[str],
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
        self.known_keys(raw, _NODE_KEYS, where)
        say = self.prompts(raw.get("say"), f"{where}.say", variables)

        end: Literal["hangup", "transfer"] | None = None
        if "end" in raw:
            if raw["end"] == "hangup" or raw["end"] == "transfer":
                end = raw["end"]
            else:
                self.add(f"{where}.end", f"expected hangup or transfer, got {_key_text(raw['end'])!r}")
        transfer_to = self.text(raw.get("transfer_to"), f"{where}.transfer_to", required=False)
        if transfer_to is not None and end != "transfer":
            self.add(f"{where}.transfer_to", "only a node with `end: transfer` transfers the call")

        branches = self.jumps(raw.get("branches"), f"{where}.branches", node_ids, known, branch=True)
        dtmf = self.dtmf(raw.get("dtmf"), f"{where}.dtmf", node_ids)
        on_max_silence = None
        if "on_max_silence" in raw:
            on_max_silence = self.target(raw["on_max_silence"], f"{where}.on_max_silence", node_ids)
        audio = self.text(raw.get("audio"), f"{where}.audio", required=False)
        interruptible = None
        if "interruptible" in raw:
            interruptible = self.boolean(raw["interruptible"], f"{where}.interruptible")
        tags = tuple(self.text_list(raw["tags"], f"{where}.tags")) if "tags" in raw else ()

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
            audio=audio,
            interruptible=interruptible,
            tags=tags,
            on_max_silence=on_max_silence,
        )

    def dtmf(self, value: object, location: str, node_ids: set[str]) -> dict[str, str]:
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
            checked = self.target(target, where, node_ids)
            if checked is not None:
                result[key] = checked
        return result

    def faq(
        self, value: object, node_ids: set[str], known: frozenset[str], variables: frozenset[str]
    ) -> list[FaqEntry]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add("faq", f"expected a list of entries, got {_describe(value)}")
            return []
        result: list[FaqEntry] = []
        for index, body in enumerate(value):
            where = f"faq.{index}"
            raw = self.mapping(body, where, "an entry with intents and say")
            if raw is None:
                continue
            self.known_keys(raw, _FAQ_KEYS, where)
            intents: list[str] = []
            if "intents" not in raw:
                self.add(f"{where}.intents", "is required (the intents this entry answers)")
            elif isinstance(raw["intents"], list) and not raw["intents"]:
                self.add(f"{where}.intents", "must name at least one intent")
            elif not isinstance(raw["intents"], list):
                self.add(f"{where}.intents", f"expected a list of intent ids, got {_describe(raw['intents'])}")
            else:
                for i, intent in enumerate(raw["intents"]):
                    if self.intent_id(intent, f"{where}.intents.{i}", known):
                        intents.append(intent)
            say = self.prompts(raw.get("say"), f"{where}.say", variables)
            then = self.target(raw["then"], f"{where}.then", node_ids) if "then" in raw else None
            audio = self.text(raw.get("audio"), f"{where}.audio", required=False)
            tags = tuple(self.text_list(raw["tags"], f"{where}.tags")) if "tags" in raw else ()
            result.append(FaqEntry(index, tuple(intents), say, then, audio, tags))
        return result

    def levels(self, value: object, node_ids: set[str], known: frozenset[str], tags: set[str]) -> list[LevelRule]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add("levels", f"expected a list of rules, got {_describe(value)}")
            return []
        result: list[LevelRule] = []
        catch_all: int | None = None
        for index, body in enumerate(value):
            where = f"levels.{index}"
            raw = self.mapping(body, where, "a rule with level and when")
            if raw is None:
                continue
            self.known_keys(raw, _LEVEL_KEYS, where)
            level = raw.get("level")
            if level is None:
                self.add(f"{where}.level", "is required (one of A, B, C, D, E, F)")
            elif level not in LEVELS:
                self.add(f"{where}.level", f"{_key_text(level)!r} is not a level: use one of A, B, C, D, E, F")
                level = None
            if catch_all is not None:
                self.add(where, f"never tried: rule levels.{catch_all} has no `when` and always matches first")
            when = None
            if "when" in raw:
                when = self.condition(raw["when"], f"{where}.when", node_ids, known, tags)
            else:
                catch_all = index if catch_all is None else catch_all
            if level is not None:
                result.append(LevelRule(index + 1, str(level), when))
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

    def condition(
        self, value: object, location: str, node_ids: set[str], known: frozenset[str], tags: set[str]
    ) -> Condition | None:
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
            node = self.target(arg, where, node_ids)
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
            tag = self.text(arg, where)
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
                self.add(where, f"expected a non-empty list of conditions, got {_describe(arg)}")
                return None
            subs = [self.condition(c, f"{where}.{i}", node_ids, known, tags) for i, c in enumerate(arg)]
            if any(s is None for s in subs):
                return None
            checked = tuple(s for s in subs if s is not None)
            return AllOf(checked) if key == "all" else AnyOf(checked)
        if key == "not":
            sub = self.condition(arg, where, node_ids, known, tags)
            return NotCond(sub) if sub is not None else None
        self.known_keys(raw, _CONDITION_KEYS, location)
        return None

    def concerns(self, value: object, known: frozenset[str]) -> dict[str, tuple[str, ...]]:
        raw = self.mapping(value, "concerns", "a mapping of concern name -> intent ids")
        result: dict[str, tuple[str, ...]] = {}
        for concern, intents in (raw or {}).items():
            where = f"concerns.{concern}"
            if not isinstance(intents, list) or not intents:
                self.add(where, f"expected a non-empty list of intent ids, got {_describe(intents)}")
                continue
            ok = [i for n, i in enumerate(intents) if self.intent_id(i, f"{where}.{n}", known)]
            result[concern] = tuple(ok)
        return result

    def reachability(
        self,
        start: str,
        nodes: Mapping[str, Node],
        global_: Mapping[str, str],
        faq: Sequence[FaqEntry],
        settings: Settings,
    ) -> None:
        # Jumps that work from any listening node: global intents, faq `then`, the script-wide silence end.
        anywhere = list(global_.values()) + [e.then for e in faq if e.then]
        if settings.on_max_silence:
            anywhere.append(settings.on_max_silence)
        seen = {start}
        todo = [start]
        anywhere_added = False
        while todo:
            node = nodes.get(todo.pop())
            if node is None:
                continue
            targets = [*node.branches.values(), *node.dtmf.values()]
            if node.on_max_silence:
                targets.append(node.on_max_silence)
            if node.listens and not anywhere_added:
                targets.extend(anywhere)
                anywhere_added = True
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        # With a mistyped target, "unreachable" is usually its echo; report it once the targets are fixed.
        for node_id in nodes if not self.unknown_targets else ():
            if node_id not in seen:
                self.add(f"nodes.{node_id}", f"unreachable: no path leads here from the start node '{start}'")
        for node_id, node in nodes.items():
            if node.on_max_silence and nodes[node.on_max_silence].listens:
                self.add(
                    f"nodes.{node_id}.on_max_silence",
                    f"node '{node.on_max_silence}' must end the call (`end: hangup` or `end: transfer`)",
                )
        if settings.on_max_silence and nodes[settings.on_max_silence].listens:
            self.add(
                "settings.on_max_silence",
                f"node '{settings.on_max_silence}' must end the call (`end: hangup` or `end: transfer`)",
            )
