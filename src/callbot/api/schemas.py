"""Shapes shared by every native endpoint."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from callbot.kit.paging import Page

T = TypeVar("T")


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
