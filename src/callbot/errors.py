"""The domain error tree. No HTTP here: each surface (native API, dialects, console, CLI) maps these once."""

from __future__ import annotations

from typing import Any


class CallbotError(Exception):
    """Something went wrong."""

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or (self.__doc__ or self.__class__.__name__).strip()
        self.details = details
        super().__init__(self.message)


class NotFound(CallbotError):
    """Not found."""


class Conflict(CallbotError):
    """Conflicts with what is already there."""


class InvalidState(Conflict):
    """Not allowed in the current state."""


class Forbidden(CallbotError):
    """Not allowed."""


class Unauthorized(CallbotError):
    """Not authenticated."""


class QuotaExceeded(CallbotError):
    """Over a limit."""


class ValidationFailed(CallbotError):
    """Invalid input.

    `problems` lists (location, message) pairs; the location is a dotted path such as `body.lines.0`.
    """

    def __init__(self, message: str | None = None, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
