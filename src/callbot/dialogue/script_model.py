"""The robot script model (话术): immutable objects a running call reads.

`callbot.dialogue.script` builds them from a YAML/JSON document (`load_script`); the format is
fixed by `docs/script-format.md`. Nothing here checks a document: a `Script` is valid by construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias

from callbot.dialogue.nlu import BUILTIN_INTENTS, IntentDefinition

DEFAULT_GOODBYE = "不好意思，可能信号不太好，我们稍后再联系您，祝您生活愉快，再见。"
#: Branch keys that are not intents: `default` (nothing useful recognised) and `silence`.
RESERVED_BRANCHES = frozenset({"default", "silence"})
ALWAYS_AVAILABLE_VARIABLES = frozenset({"name", "phone"})
LEVELS = ("A", "B", "C", "D", "E", "F")
DTMF_KEYS = frozenset("0123456789*#")

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def placeholders(text: str) -> list[str]:
    """The names written as `{name}` in a prompt, in order (not checked: see the validator)."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def without_placeholders(text: str) -> str:
    """The prompt with every `{...}` removed; a brace left over is unbalanced."""
    return _PLACEHOLDER.sub("", text)


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
            used.update(placeholders(text))
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
