"""Task statistics (任务统计): counters kept as calls finish, read back in one place.

The writer folds finished call records into per-task deltas and applies them in the same transaction as
the records, so the figures always agree with the records. `recount` rebuilds them from the records, for
checking that promise and for repair.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from callbot.kit.db import Tx
from callbot.models import CallRecord, Task, TaskStats, TaskStatsDaily, Tenant
from callbot.models.enums import CallResult, Level
from callbot.record import repository
from callbot.task import service as task_service
from callbot.task.states import RUNNING

LEVELS = [level.value for level in Level]
RESULTS = [result.value for result in CallResult]
ROUND_BUCKETS = ["LESS_3", "F3_T6", "F6_T10", "F10_MORE"]
DURATION_BUCKETS = ["LESS_10S", "F10S_T1MIN", "F1MIN_T2MIN", "F2MIN_T3MIN", "F3MIN_TMORE"]


def round_bucket(rounds: int) -> str:
    if rounds < 3:
        return "LESS_3"
    if rounds < 6:
        return "F3_T6"
    if rounds < 10:
        return "F6_T10"
    return "F10_MORE"


def duration_bucket(seconds: int) -> str:
    if seconds < 10:
        return "LESS_10S"
    if seconds < 60:
        return "F10S_T1MIN"
    if seconds < 120:
        return "F1MIN_T2MIN"
    if seconds < 180:
        return "F2MIN_T3MIN"
    return "F3MIN_TMORE"


@dataclass
class DayCounts:
    calls: int = 0
    answered: int = 0
    chat_seconds: int = 0


@dataclass
class StatsDelta:
    """What a batch of finished calls adds to one task's statistics."""

    calls: int = 0
    answered: int = 0
    chat_seconds: int = 0
    levels: Counter[str] = field(default_factory=Counter)
    results: Counter[str] = field(default_factory=Counter)
    rounds: Counter[str] = field(default_factory=Counter)
    durations: Counter[str] = field(default_factory=Counter)
    concerns: Counter[str] = field(default_factory=Counter)
    days: dict[date, DayCounts] = field(default_factory=dict)

    def add(
        self,
        *,
        result: str,
        level: str | None,
        rounds: int,
        chat_seconds: int,
        concerns: list[str],
        day: date,
    ) -> None:
        self.calls += 1
        self.results[result] += 1
        if level:
            self.levels[level] += 1
        today = self.days.setdefault(day, DayCounts())
        today.calls += 1
        if result == CallResult.ANSWERED.value:
            self.answered += 1
            self.chat_seconds += chat_seconds
            self.rounds[round_bucket(rounds)] += 1
            self.durations[duration_bucket(chat_seconds)] += 1
            today.answered += 1
            today.chat_seconds += chat_seconds
        for concern in concerns:
            self.concerns[concern] += 1

    def add_record(self, record: CallRecord, zone: ZoneInfo) -> None:
        self.add(
            result=record.result.value,
            level=record.level.value if record.level else None,
            rounds=record.rounds,
            chat_seconds=record.chat_seconds,
            concerns=list(record.concerns),
            day=record.started_at.astimezone(zone).date(),
        )


def _merged(stored: dict[str, int] | None, delta: Counter[str]) -> dict[str, int]:
    merged = Counter(stored or {})
    merged.update(delta)
    return dict(merged)


async def apply(tx: Tx, task_id: int, delta: StatsDelta) -> None:
    """Add `delta` to the task's counters; the row is locked so concurrent workers add, never overwrite."""
    row = await repository.stats_row(tx, task_id, lock=True)
    if row is None:
        row = TaskStats(
            task_id=task_id,
            calls=0,
            answered=0,
            chat_seconds=0,
            levels={},
            results={},
            rounds={},
            durations={},
            concerns={},
        )
        repository.add(tx, row)
    row.calls += delta.calls
    row.answered += delta.answered
    row.chat_seconds += delta.chat_seconds
    row.levels = _merged(row.levels, delta.levels)
    row.results = _merged(row.results, delta.results)
    row.rounds = _merged(row.rounds, delta.rounds)
    row.durations = _merged(row.durations, delta.durations)
    row.concerns = _merged(row.concerns, delta.concerns)
    for day, counts in delta.days.items():
        await repository.insert_if_missing(
            tx, TaskStatsDaily, {"task_id": task_id, "day": day, "calls": 0, "answered": 0, "chat_seconds": 0}
        )
        daily = await repository.locked_daily(tx, task_id, day)
        assert daily is not None
        daily.calls += counts.calls
        daily.answered += counts.answered
        daily.chat_seconds += counts.chat_seconds
    await repository.flush(tx)


@dataclass(frozen=True)
class DailyStats:
    day: date
    calls: int
    answered: int
    chat_seconds: int


@dataclass(frozen=True)
class TaskStatsView:
    """A task's statistics, every bucket present (zeros included)."""

    task_id: int
    customers: int
    finished_customers: int
    calls: int
    answered: int
    chat_seconds: int
    levels: dict[str, int]
    results: dict[str, int]
    rounds: dict[str, int]
    durations: dict[str, int]
    concerns: dict[str, int]  # most frequent first
    daily: list[DailyStats]

    @property
    def progress(self) -> float:
        """Finished customers / customers × 100, 2 decimals."""
        return round(100 * self.finished_customers / self.customers, 2) if self.customers else 0.0

    @property
    def answered_rate(self) -> float:
        return round(100 * self.answered / self.calls, 2) if self.calls else 0.0

    def top_concerns(self, limit: int = 10) -> list[str]:
        return list(self.concerns)[:limit]


def _full(keys: list[str], counts: dict[str, int] | None) -> dict[str, int]:
    counts = counts or {}
    return {key: int(counts.get(key, 0)) for key in keys}


def _view(task: Task, row: TaskStats | None, daily: list[TaskStatsDaily]) -> TaskStatsView:
    concerns = dict(sorted((row.concerns if row else {}).items(), key=lambda kv: (-kv[1], kv[0])))
    return TaskStatsView(
        task_id=task.id,
        customers=task.customer_count,
        finished_customers=task.finished_count,
        calls=row.calls if row else 0,
        answered=row.answered if row else 0,
        chat_seconds=row.chat_seconds if row else 0,
        levels=_full(LEVELS, row.levels if row else None),
        results=_full(RESULTS, row.results if row else None),
        rounds=_full(ROUND_BUCKETS, row.rounds if row else None),
        durations=_full(DURATION_BUCKETS, row.durations if row else None),
        concerns=concerns,
        daily=[DailyStats(d.day, d.calls, d.answered, d.chat_seconds) for d in daily],
    )


async def get_task_stats(tx: Tx, tenant: Tenant, task_id: int, *, include_deleted: bool = False) -> TaskStatsView:
    task = await task_service.get_task(tx, tenant, task_id, include_deleted=include_deleted)
    row = await repository.stats_row(tx, task.id)
    daily = await repository.daily_rows(tx, task.id)
    return _view(task, row, daily)


async def recount(tx: Tx, tenant: Tenant, task_id: int) -> TaskStatsView:
    """The same figures computed by scanning every record of the task (slow; for checks and repair)."""
    task = await task_service.get_task(tx, tenant, task_id)
    zone = ZoneInfo(tenant.timezone)
    delta = StatsDelta()
    for record in await repository.of_task(tx, task.id):
        delta.add_record(record, zone)
    row = TaskStats(
        task_id=task.id,
        calls=delta.calls,
        answered=delta.answered,
        chat_seconds=delta.chat_seconds,
        levels=dict(delta.levels),
        results=dict(delta.results),
        rounds=dict(delta.rounds),
        durations=dict(delta.durations),
        concerns=dict(delta.concerns),
    )
    daily = [
        TaskStatsDaily(task_id=task.id, day=day, calls=c.calls, answered=c.answered, chat_seconds=c.chat_seconds)
        for day, c in sorted(delta.days.items())
    ]
    return _view(task, row, daily)


@dataclass(frozen=True)
class TenantOverview:
    """The console's home page (首页): today's figures and the daily series of the last days."""

    today_calls: int
    today_answered: int
    today_leads: int  # A and B levels
    seats_in_use: int
    seats: int
    running_tasks: int
    daily: list[DailyStats]  # every day of the period, zeros included, oldest first

    @property
    def answered_rate(self) -> float:
        return round(100 * self.today_answered / self.today_calls, 2) if self.today_calls else 0.0


async def tenant_overview(tx: Tx, tenant: Tenant, *, days: int = 30) -> TenantOverview:
    """Read from the per-day counters, plus two indexed counts (today's A/B calls, the calls in flight)."""
    zone = ZoneInfo(tenant.timezone)
    today = tx.now().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    rows = await repository.daily_sums(tx, tenant.id, first)
    by_day = {day: DailyStats(day, int(c or 0), int(a or 0), int(s or 0)) for day, c, a, s in rows}
    daily = [by_day.get(first + timedelta(n), DailyStats(first + timedelta(n), 0, 0, 0)) for n in range(days)]
    today_start = datetime.combine(today, time(0), zone)
    leads = await repository.count_levels_since(tx, tenant.id, today_start, [Level.A, Level.B])
    in_use = await repository.count_in_flight(tx, tenant.id)
    running = await repository.count_tasks_in(tx, tenant.id, RUNNING)
    return TenantOverview(
        today_calls=daily[-1].calls,
        today_answered=daily[-1].answered,
        today_leads=int(leads or 0),
        seats_in_use=int(in_use or 0),
        seats=tenant.seats,
        running_tasks=int(running or 0),
        daily=daily,
    )
