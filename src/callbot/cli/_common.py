"""What every CLI command shares: opening the store from the environment, JSON output, error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from enum import Enum
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from callbot.errors import CallbotError, ValidationFailed

if TYPE_CHECKING:
    from callbot.kit.db import Store

P = ParamSpec("P")
R = TypeVar("R")


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    """JSON, and only JSON, on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def fail(message: str, problems: list[tuple[str, str]] | None = None, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    for location, text in problems or []:
        click.echo(f"  {location}: {text}", err=True)
    sys.exit(code)


def async_command(func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R | None]:
    """Run an async click callback; domain errors become a clear message on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        import asyncio  # here, not at the top: help and argument errors need no event loop

        try:
            return asyncio.run(func(*args, **kwargs))
        except ValidationFailed as exc:
            fail(exc.message, exc.problems)
        except CallbotError as exc:
            fail(exc.message)
        return None

    return wrapper


@asynccontextmanager
async def cli_store() -> AsyncIterator[Store]:
    # Imported here: the database layer is not needed to parse arguments or print help.
    from callbot.config import Settings
    from callbot.runtime import open_store

    store = await open_store(Settings())
    try:
        yield store
    finally:
        await store.dispose()
