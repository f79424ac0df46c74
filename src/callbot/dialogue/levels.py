"""Grading a call at its end: intent level (意向等级 A–F) with the reason, concerns (关注点), tags.

Rules are tried in order and the first whose `when` holds wins; a rule without `when` always holds;
when none holds the level is C (无法判断). Talk seconds come from the caller (the engine reads no clock).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from callbot.dialogue.script_model import (
    AllOf,
    AnyOf,
    Condition,
    HasTag,
    IntentCount,
    IntentSeen,
    Rounds,
    Script,
    TalkSeconds,
    Visited,
)

__all__ = ["LEVEL_NAMES", "CallFacts", "Facts", "Grade", "concerns_of", "grade", "holds"]

#: The A–F meanings of the Yiwise contract.
LEVEL_NAMES: dict[str, str] = {
    "A": "较强", "B": "一般", "C": "无法判断", "D": "很少", "E": "需要再次跟进", "F": "无需再次跟进",
}  # fmt: skip


class Facts(Protocol):
    """What grading reads from a finished call; `DialogueState` provides all but talk seconds."""

    @property
    def visited(self) -> Sequence[str]: ...
    @property
    def intents(self) -> Mapping[str, int]: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def rounds(self) -> int: ...


@dataclass(frozen=True, slots=True)
class CallFacts:
    """Facts given by hand (a stored record, a test)."""

    visited: Sequence[str] = ()
    intents: Mapping[str, int] = field(default_factory=dict)
    tags: Sequence[str] = ()
    rounds: int = 0


@dataclass(frozen=True, slots=True)
class Grade:
    """The grading of one call. `rule` is the 1-based number of the rule that matched (None: default C)."""

    level: str
    reason: str
    rule: int | None
    concerns: tuple[str, ...]
    tags: tuple[str, ...]
    rounds: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "reason": self.reason,
            "rule": self.rule,
            "concerns": list(self.concerns),
            "tags": list(self.tags),
            "rounds": self.rounds,
        }


def grade(script: Script, facts: Facts, talk_seconds: float | None = None) -> Grade:
    """Grade a call by the script's level rules.

    `talk_seconds` is the answered duration; when it is None, `talk_seconds` conditions do not hold.
    """
    level, reason, rule = "C", "无规则命中，默认 C (no rule matched)", None
    for candidate in script.levels:
        if candidate.when is None:
            level, rule = candidate.level, candidate.number
            reason = f"规则{candidate.number}: 无条件 (default rule)"
            break
        if holds(candidate.when, facts, talk_seconds):
            level, rule = candidate.level, candidate.number
            reason = f"规则{candidate.number}: {_explain(script, candidate.when, facts, talk_seconds)}"
            break
    return Grade(
        level=level,
        reason=reason,
        rule=rule,
        concerns=concerns_of(script, facts.intents),
        tags=tuple(facts.tags),
        rounds=facts.rounds,
    )


def concerns_of(script: Script, intents: Mapping[str, int]) -> tuple[str, ...]:
    """Concern names whose intents were recognised, in the script's order."""
    return tuple(name for name, ids in script.concerns.items() if any(intents.get(i, 0) > 0 for i in ids))


def holds(condition: Condition, facts: Facts, talk_seconds: float | None = None) -> bool:
    """Whether one condition holds for a call."""
    if isinstance(condition, Visited):
        return condition.node in facts.visited
    if isinstance(condition, IntentSeen):
        return facts.intents.get(condition.intent, 0) > 0
    if isinstance(condition, IntentCount):
        return condition.compare.holds(facts.intents.get(condition.intent, 0))
    if isinstance(condition, HasTag):
        return condition.tag in facts.tags
    if isinstance(condition, Rounds):
        return condition.compare.holds(facts.rounds)
    if isinstance(condition, TalkSeconds):
        return talk_seconds is not None and condition.compare.holds(talk_seconds)
    if isinstance(condition, AllOf):
        return all(holds(c, facts, talk_seconds) for c in condition.conditions)
    if isinstance(condition, AnyOf):
        return any(holds(c, facts, talk_seconds) for c in condition.conditions)
    return not holds(condition.condition, facts, talk_seconds)


def _explain(script: Script, condition: Condition, facts: Facts, talk_seconds: float | None) -> str:
    """A readable account of why a condition that holds, holds (only the parts that matched)."""
    if isinstance(condition, Visited):
        return f"到达节点 {condition.node}"
    if isinstance(condition, IntentSeen):
        return f"识别到意图 {condition.intent}({script.intent_name(condition.intent)})"
    if isinstance(condition, IntentCount):
        count = facts.intents.get(condition.intent, 0)
        name = script.intent_name(condition.intent)
        return f"意图 {condition.intent}({name}) 次数 {count} {condition.compare}"
    if isinstance(condition, HasTag):
        return f"带有标签 {condition.tag}"
    if isinstance(condition, Rounds):
        return f"对话轮次 {facts.rounds} {condition.compare}"
    if isinstance(condition, TalkSeconds):
        return f"通话时长 {talk_seconds:g}秒 {condition.compare}"
    if isinstance(condition, AllOf):
        return " 且 ".join(_explain(script, c, facts, talk_seconds) for c in condition.conditions)
    if isinstance(condition, AnyOf):
        first = next(c for c in condition.conditions if holds(c, facts, talk_seconds))
        return _explain(script, first, facts, talk_seconds)
    return f"并非({_describe(script, condition.condition)})"


def _describe(script: Script, condition: Condition) -> str:
    """The condition itself, for negations (which hold because their inner condition does not)."""
    if isinstance(condition, Visited):
        return f"到达节点 {condition.node}"
    if isinstance(condition, IntentSeen):
        return f"识别到意图 {condition.intent}({script.intent_name(condition.intent)})"
    if isinstance(condition, IntentCount):
        return f"意图 {condition.intent}({script.intent_name(condition.intent)}) 次数 {condition.compare}"
    if isinstance(condition, HasTag):
        return f"带有标签 {condition.tag}"
    if isinstance(condition, Rounds):
        return f"对话轮次 {condition.compare}"
    if isinstance(condition, TalkSeconds):
        return f"通话时长 {condition.compare}秒"
    if isinstance(condition, AllOf):
        return " 且 ".join(_describe(script, c) for c in condition.conditions)
    if isinstance(condition, AnyOf):
        return " 或 ".join(_describe(script, c) for c in condition.conditions)
    return f"并非({_describe(script, condition.condition)})"
