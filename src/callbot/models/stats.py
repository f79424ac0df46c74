"""Task statistics, kept up to date as calls finish (never by scanning all records)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, JsonType


class TaskStats(Base):
    """Counters over a task's call records. Updated in the same transaction that writes the records."""

    __tablename__ = "task_stats"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    chat_seconds: Mapped[int] = mapped_column(Integer, default=0)  # over answered calls
    # {"A": 3, ...}, {"ANSWERED": 10, ...}, {"LESS_3": ...}, {"LESS_10S": ...}, {"价格": 4, ...}
    levels: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    results: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    rounds: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    durations: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    concerns: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)


class TaskStatsDaily(Base):
    """Per-day counters of a task, the day in the tenant's time zone."""

    __tablename__ = "task_stats_daily"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    chat_seconds: Mapped[int] = mapped_column(Integer, default=0)
