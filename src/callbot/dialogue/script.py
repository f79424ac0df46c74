"""Robot scripts (话术): load a YAML/JSON script into immutable objects, and validate it.

The format is fixed by `docs/script-format.md`; the keys this project adds are documented in
`examples/scripts/README.md`. This module reads the document (YAML 1.1 pitfalls and duplicate keys
become problems on their line); `script_validate` checks its shape and builds the `Script` of
`script_model`, and `script_graph` checks jump targets and reachability. Every problem is reported
at once with its location, and the store refuses an invalid script with the same list.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from callbot.dialogue.script_model import (
    DEFAULT_GOODBYE,
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
)
from callbot.dialogue.script_model import DTMF_KEYS as DTMF_KEYS
from callbot.dialogue.script_shape import Yaml11Bool as _Yaml11Bool
from callbot.dialogue.script_validate import check_document
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
    return check_document(data, problems, source)
