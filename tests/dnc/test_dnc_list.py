"""The do-not-call list: numbers kept normalised, once per tenant, and the one check the import and the
dialer ask (`listed_numbers`)."""

from __future__ import annotations

import pytest

from callbot.dnc import service as dnc_service
from callbot.errors import ValidationFailed
from callbot.kit.db import Store
from callbot.kit.paging import PageRequest

from factories import make_account


async def test_a_number_is_listed_once_normalised_and_per_tenant(store: Store) -> None:
    mine = await make_account(store, "甲公司")
    theirs = await make_account(store, "乙公司")
    async with store.transaction() as tx:
        first = await dnc_service.add_number(tx, mine.tenant, "+86 139 0000 0001", reason="客户要求")
        again = await dnc_service.add_number(tx, mine.tenant, "13900000001")
        assert again.id == first.id and first.phone == "13900000001" and again.reason == "客户要求"
        assert await dnc_service.listed_numbers(tx, mine.tenant.id, ["13900000001", "13900000002"]) == {"13900000001"}
        assert await dnc_service.listed_numbers(tx, theirs.tenant.id) == set()
        listed = await dnc_service.list_numbers(tx, mine.tenant, PageRequest())
        assert [entry.phone for entry in listed.items] == ["13900000001"] and listed.total == 1


async def test_removing_and_bad_numbers_say_what_is_wrong(store: Store) -> None:
    account = await make_account(store)
    async with store.transaction() as tx:
        await dnc_service.add_number(tx, account.tenant, "13900000001")
        await dnc_service.remove_number(tx, account.tenant, "139 0000 0001")
        assert await dnc_service.listed_numbers(tx, account.tenant.id) == set()
        with pytest.raises(dnc_service.DncEntryNotFound, match="13900000001 is not on the do-not-call list"):
            await dnc_service.remove_number(tx, account.tenant, "13900000001")
        with pytest.raises(ValidationFailed) as failed:
            await dnc_service.add_number(tx, account.tenant, "not a number")
        assert failed.value.problems[0][0] == "phone"
