"""What a search of call records may ask for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from callbot.models.enums import CallResult, Level


@dataclass(frozen=True)
class RecordFilter:
    task_id: int | None = None
    results: list[CallResult] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    search: str | None = None  # substring of the customer's number or name, in any case
    phone: str | None = None
    # Times without an offset are the tenant's wall clock.
    started_from: datetime | None = None  # inclusive
    started_to: datetime | None = None  # exclusive
    script_id: int | None = None
    min_rounds: int | None = None
    max_rounds: int | None = None
    min_chat_seconds: int | None = None
    max_chat_seconds: int | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    sns: list[str] | None = None  # public record ids; an empty list matches nothing
    manual_levels: list[Level] = field(default_factory=list)
    customer_id: int | None = None
    direction: str | None = None  # "outbound" (呼出) or "inbound" (呼入); None: both
