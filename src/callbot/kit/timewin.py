"""Daily wall-clock windows ("09:00-20:00"), parsed and checked in one place."""

from __future__ import annotations

from datetime import time


def parse_time_of_day(value: str) -> time:
    """Parse HH:MM or HH:MM:SS (24 h). Raises ValueError with the offending text."""
    parts = value.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"{value!r} is not a time of day (HH:MM or HH:MM:SS)")
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) == 3 else 0
    if hour == 24 and minute == 0 and second == 0:
        return time(23, 59, 59)
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60):
        raise ValueError(f"{value!r} is not a time of day (HH:MM or HH:MM:SS)")
    return time(hour, minute, second)


def parse_window(value: str) -> tuple[time, time]:
    """Parse "HH:MM-HH:MM" into (start, end) with start before end."""
    if "-" not in value:
        raise ValueError(f"{value!r} is not a window: write it as HH:MM-HH:MM")
    start_text, end_text = value.split("-", 1)
    start, end = parse_time_of_day(start_text), parse_time_of_day(end_text)
    if start >= end:
        raise ValueError(f"window {value!r} must start before it ends")
    return start, end
