"""Calling windows, pure: the tenant's calling hours ∩ the task's daily window, minus inactive slots,
on the tenant's wall clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    calling_hours: tuple[time, time]  # the tenant's
    daily: tuple[time, time]  # the task's
    inactive: Sequence[tuple[time, time]] = ()

    def slots(self) -> list[tuple[time, time]]:
        """The open slots of a day, in order."""
        start = max(self.calling_hours[0], self.daily[0])
        end = min(self.calling_hours[1], self.daily[1])
        if start >= end:
            return []
        slots = [(start, end)]
        for off_start, off_end in sorted(self.inactive):
            cut: list[tuple[time, time]] = []
            for a, b in slots:
                if off_end <= a or off_start >= b:
                    cut.append((a, b))
                    continue
                if a < off_start:
                    cut.append((a, off_start))
                if off_end < b:
                    cut.append((off_end, b))
            slots = cut
        return slots

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        return any(a <= local < b for a, b in self.slots())
