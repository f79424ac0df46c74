"""A time of day on the tenant's wall clock (calling hours, a task's daily window): "09:00" or "09:00:00",
never with an offset. The zone is the tenant's, so an offset would contradict it."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

# What the API accepts and what it writes (Python's isoformat: HH:MM:SS, microseconds only when set).
PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _without_offset(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a wall-clock time of day has no offset: the tenant's time zone applies")
    return value


WallTime = Annotated[
    time,
    AfterValidator(_without_offset),
    # Declared as a pattern, not `format: time`: JSON Schema's time (RFC 3339) requires an offset.
    WithJsonSchema({"type": "string", "pattern": PATTERN, "examples": ["09:00", "20:00:00"]}),
]
"""A wall-clock time of day without an offset, documented as HH:MM[:SS]."""
