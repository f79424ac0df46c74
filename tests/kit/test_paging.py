"""Pagination: 1-based pages, a size capped at MAX_PAGE_SIZE, and the total of all matching rows."""

from __future__ import annotations

import pytest

from callbot.dnc import service as dnc_service
from callbot.kit.db import Store
from callbot.kit.paging import MAX_PAGE_SIZE, Page, PageRequest
from callbot.tenant import service as tenant_service


def test_a_page_request_is_checked_and_capped() -> None:
    with pytest.raises(ValueError, match="page starts at 1"):
        PageRequest(page=0)
    with pytest.raises(ValueError, match="size must be at least 1"):
        PageRequest(size=0)
    big = PageRequest(page=3, size=MAX_PAGE_SIZE * 5)
    assert (big.limit, big.offset) == (MAX_PAGE_SIZE, 2 * MAX_PAGE_SIZE)
    assert Page(items=[], total=41, page=1, size=20).pages == 3


async def test_a_listing_pages_through_every_row_once(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "分页公司")
        for n in range(7):
            await dnc_service.add_number(tx, tenant, f"1390000000{n}")
    seen: list[str] = []
    async with store.transaction() as tx:
        for number in (1, 2, 3):
            page = await dnc_service.list_numbers(tx, tenant, PageRequest(page=number, size=3))
            assert page.total == 7 and page.pages == 3
            seen.extend(entry.phone for entry in page.items)
    assert sorted(seen) == [f"1390000000{n}" for n in range(7)]
