"""The shape of a script document's records (settings, intents, nodes, faq entries, level rules) as Pydantic models.

A record model says which keys a record has and what each value must look like; `check_record`
turns Pydantic's errors into problems in the script author's words (`expected text, got a list`,
`unknown key 'brnaches' (did you mean 'branches'?)`) and keeps the valid part of the record, so the
validator can go on to check references and report every problem at once. Fields whose meaning
depends on the rest of the script (jump targets, intent ids, placeholders, conditions) pass through
as `object` and are checked by `script_validate` and `script_graph`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Generic, Literal, NoReturn, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from callbot.dialogue.script_model import LEVELS

Problems = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Yaml11Bool:
    """A scalar that YAML 1.1 reads as a boolean although it was written as a word (yes, no, on, off)."""

    value: bool
    text: str


def describe(value: object) -> str:
    """What a value is, as the messages name it (`text`, `a list`, `a number (3)`)."""
    if isinstance(value, Yaml11Bool):
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


def key_text(key: object) -> str:
    """A key or value as the author wrote it (`yes`, not True)."""
    return key.text if isinstance(key, Yaml11Bool) else str(key)


def join(location: str, key: object) -> str:
    return f"{location}.{key}" if location else str(key)


def unknown_key(key: str, allowed: Sequence[str], location: str) -> tuple[str, str]:
    """The problem of a key the record does not have, with the closest allowed key as a hint."""
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed: {', '.join(allowed)}"
    return join(location, key), f"unknown key '{key}'{hint}"


def _fail(message: str) -> NoReturn:
    # The message goes through the context so that braces in it are not read as a template.
    raise PydanticCustomError("script", "{message}", {"message": message})


# ---- leaf shapes (Pydantic validators that speak the author's words)


def text(value: object) -> str:
    """Text that must be there and not blank."""
    if value is None:
        _fail("is required")
    if not isinstance(value, str):
        _fail(f"expected text, got {describe(value)}")
    if not value.strip():
        _fail("must not be empty")
    return value


def optional_text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        _fail(f"expected text, got {describe(value)}")
    return value


def flag(value: object) -> bool:
    if isinstance(value, Yaml11Bool):
        return value.value  # unambiguous where a boolean is expected
    if not isinstance(value, bool):
        _fail(f"expected true or false, got {describe(value)}")
    return value


def whole(minimum: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(f"expected a whole number, got {describe(value)}")
        if value < minimum:
            _fail(f"must be at least {minimum}, got {value}")
        return value

    return check


def a_list(value: object) -> list[Any]:
    if not isinstance(value, list):
        _fail(f"expected a list, got {describe(value)}")
    return value


def call_end(value: object) -> Literal["hangup", "transfer"]:
    if value == "hangup" or value == "transfer":
        return value
    _fail(f"expected hangup or transfer, got {key_text(value)!r}")


def intent_level(value: object) -> str:
    if value is None:
        _fail("is required (one of A, B, C, D, E, F)")
    if value not in LEVELS:
        _fail(f"{key_text(value)!r} is not a level: use one of A, B, C, D, E, F")
    return str(value)


def script_format(value: object) -> int:
    if value != 1 or isinstance(value, bool):
        shown = repr(value.text) if isinstance(value, Yaml11Bool) else repr(value)
        _fail(f"unsupported format {shown}: this version reads format 1")
    return 1


def intent_list(value: object) -> list[Any]:
    """The intents a faq entry answers: a non-empty list (each id is checked against the script's intents)."""
    if not isinstance(value, list):
        _fail(f"expected a list of intent ids, got {describe(value)}")
    if not value:
        _fail("must name at least one intent")
    return value


Text = Annotated[str, BeforeValidator(text)]
OptionalText = Annotated[str | None, BeforeValidator(optional_text)]
Flag = Annotated[bool | None, BeforeValidator(flag)]
TextList = Annotated[tuple[Text, ...] | None, BeforeValidator(a_list)]


# ---- records


class Record(BaseModel):
    """A mapping of a script document; its fields, in order, are the keys it may have."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: fields whose absence is a problem, with the message for it
    required: ClassVar[dict[str, str]] = {}


class ScriptRecord(Record):
    """The document itself; its sections are records of their own, checked one by one."""

    required: ClassVar[dict[str, str]] = {"name": "is required"}

    format: Annotated[int, BeforeValidator(script_format)] = 1
    name: Annotated[str | None, BeforeValidator(text)] = None
    industry: OptionalText = None
    variables: TextList = None
    settings: object = None
    start: object = None
    intents: object = None
    nodes: object = None
    global_: object = Field(default=None, alias="global")
    faq: object = None
    levels: object = None
    concerns: object = None


class SettingsRecord(Record):
    silence_timeout_ms: Annotated[int | None, BeforeValidator(whole(100))] = None
    max_silences: Annotated[int | None, BeforeValidator(whole(1))] = None
    max_rounds: Annotated[int | None, BeforeValidator(whole(1))] = None
    interruptible: Flag = None
    voice: Annotated[str | None, BeforeValidator(text)] = None
    goodbye: object = None  # extension; placeholders are checked against the variables
    on_max_silence: object = None  # extension; a jump target


class IntentRecord(Record):
    name: OptionalText = None
    keywords: TextList = None
    examples: TextList = None


class NodeRecord(Record):
    say: object = None  # prompts; placeholders are checked against the variables
    audio: OptionalText = None
    interruptible: Flag = None
    tags: TextList = None
    branches: object = None
    end: Annotated[Literal["hangup", "transfer"] | None, BeforeValidator(call_end)] = None
    transfer_to: OptionalText = None
    dtmf: object = None  # extension
    on_max_silence: object = None  # extension


class FaqRecord(Record):
    required: ClassVar[dict[str, str]] = {"intents": "is required (the intents this entry answers)"}

    intents: Annotated[tuple[object, ...], BeforeValidator(intent_list)] = ()
    say: object = None
    then: object = None
    audio: OptionalText = None
    tags: TextList = None


class LevelRecord(Record):
    required: ClassVar[dict[str, str]] = {"level": "is required (one of A, B, C, D, E, F)"}

    level: Annotated[str | None, BeforeValidator(intent_level)] = None
    when: object = None


R = TypeVar("R", bound=Record)


class Checked(Generic[R]):
    """A record checked against its model: the valid part, and the problems of each key in hand."""

    def __init__(self, model: type[R], raw: dict[str, Any], location: str) -> None:
        self.location = location
        self.raw = raw
        self.by_key: dict[str, Problems] = {}
        self.unknown: Problems = []
        try:
            self.value = model.model_validate(raw)
            return
        except ValidationError as exc:
            errors = exc.errors()
        allowed = tuple(field.alias or name for name, field in model.model_fields.items())
        valid: dict[str, Any] = dict(raw)
        bad_items: dict[str, set[int]] = {}
        for error in errors:
            key = str(error["loc"][0])
            if error["type"] == "extra_forbidden":
                self.unknown.append(unknown_key(key, allowed, location))
                valid.pop(key, None)
                continue
            where = location
            for part in error["loc"]:
                where = join(where, part)
            self.by_key.setdefault(key, []).append((where, error["msg"]))
            item = error["loc"][1] if len(error["loc"]) > 1 else None
            if isinstance(item, int) and isinstance(raw.get(key), list):
                bad_items.setdefault(key, set()).add(item)
            else:
                valid.pop(key, None)
        for key, items in bad_items.items():
            if key in valid:  # a list keeps its good items, as the author meant them
                valid[key] = [v for i, v in enumerate(raw[key]) if i not in items]
        self.value = model.model_validate(valid)

    def problems(self, key: str) -> Problems:
        """The problems of `key`, including its absence when the record requires it."""
        message = type(self.value).required.get(key)
        if message is not None and key not in self.raw:
            return [(join(self.location, key), message)]
        return self.by_key.get(key, [])
