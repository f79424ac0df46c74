"""An honest fake recognizer for the engine tests: exact lookup in a table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FakeRecognition:
    intent: str
    confidence: float
    evidence: str


class TableRecognizer:
    """Recognises by exact lookup: enough to test the engine's rules without the real NLU."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)
        self.contexts: list[str | None] = []

    def recognize(self, text: str, context: str | None = None) -> FakeRecognition:
        self.contexts.append(context)
        intent = self.table.get(text, "unknown")
        return FakeRecognition(intent, 1.0 if intent != "unknown" else 0.0, text)
