"""Shapes shared by every native endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict

from callbot.kit.paging import Page

T = TypeVar("T")

# Ids are 32-bit integer columns on both backends: a bigger one is refused (422) before it reaches a query,
# where PostgreSQL would fail on it.
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A row id in a path."""
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
"""An optional row id in a query string."""


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
    pages: int


M = TypeVar("M", bound=BaseModel)


def page_out(page: Page[Any], schema: type[M]) -> PageOut[M]:
    """Turn a service Page of rows into the API's page of `schema`."""
    return PageOut[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(item) for item in page.items],
        total=page.total,
        page=page.page,
        size=page.size,
        pages=page.pages,
    )
