"""Pagination shared by every list: 1-based pages in the native API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    size: int = 20

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page starts at 1")
        if self.size < 1:
            raise ValueError("size must be at least 1")

    @property
    def limit(self) -> int:
        return min(self.size, MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return (self.total + self.size - 1) // self.size if self.size else 0


async def paginate(session: AsyncSession, query: Select[T], request: PageRequest) -> Page[T]:
    """Run `query` for one page, with the total count of matching rows."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.limit(request.limit).offset(request.offset))
    return Page(items=list(rows), total=total or 0, page=request.page, size=request.limit)
