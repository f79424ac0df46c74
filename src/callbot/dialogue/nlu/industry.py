"""Industry packs (行业包): the vocabulary and example replies of one industry, which a script names with
its ``industry`` key (finance, education, telecom, ...).

A pack lives in data/industries/<industry>.yaml. Its vocabulary joins the homophone lexicon (ASR writes
分期 as 分七, 宽带 as 宽待) and its examples join the script's, on the same calibrated scale as the
model, so industry words stay out of the global rules. An industry without a pack recognises with the
built-in library alone: the script format leaves ``industry`` free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from callbot.dialogue.nlu.intents import BUILTIN_INTENTS, IntentDefinition


@dataclass(frozen=True)
class IndustryPack:
    id: str
    name: str
    vocabulary: tuple[str, ...]
    intents: tuple[IntentDefinition, ...]  # additions (examples) to built-in intents


def _folder() -> Any:
    return resources.files("callbot.dialogue.nlu").joinpath("data", "industries")


def industries() -> list[str]:
    """The industries that have a pack."""
    return sorted(f.name.removesuffix(".yaml") for f in _folder().iterdir() if f.name.endswith(".yaml"))


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: must be a list of non-empty strings")
    return tuple(value)


def parse_pack(industry: str, raw: str) -> IndustryPack:
    """A pack from its YAML text; every problem is named with the file and key."""
    where = f"industries/{industry}.yaml"
    doc = yaml.safe_load(raw) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: must be a mapping with name, vocabulary and intents")
    unknown = set(doc) - {"name", "vocabulary", "intents"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    intents: list[IntentDefinition] = []
    section = doc.get("intents") or {}
    if not isinstance(section, dict):
        raise ValueError(f"{where}: intents must map a built-in intent id to its examples")
    for intent_id, spec in section.items():
        if intent_id not in BUILTIN_INTENTS:
            raise ValueError(f"{where}: intents.{intent_id}: not a built-in intent (docs/intents.md)")
        if not isinstance(spec, dict) or set(spec) - {"keywords", "examples"}:
            raise ValueError(f"{where}: intents.{intent_id}: only keywords and examples may be given")
        intents.append(
            IntentDefinition(
                id=intent_id,
                keywords=_strings(spec.get("keywords"), f"{where}: intents.{intent_id}.keywords"),
                examples=_strings(spec.get("examples"), f"{where}: intents.{intent_id}.examples"),
            )
        )
    return IndustryPack(
        id=industry,
        name=str(doc.get("name") or industry),
        vocabulary=_strings(doc.get("vocabulary"), f"{where}: vocabulary"),
        intents=tuple(intents),
    )


@cache
def industry_pack(industry: str | None) -> IndustryPack | None:
    """The pack of ``industry`` (a script's ``industry`` key, case-insensitive), or None when it has none."""
    if not industry:
        return None
    name = industry.strip().lower()
    if name not in industries():
        return None
    return parse_pack(name, _folder().joinpath(f"{name}.yaml").read_text("utf-8"))
