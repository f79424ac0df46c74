"""Callback settings: a tenant has one tenant-level row, however many first reads race to make it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from callbot.callback import service as callback_service
from callbot.kit.db import Store
from callbot.models import CallbackSettings

from factories import make_account


async def test_concurrent_first_reads_make_one_tenant_row(store: Store) -> None:
    account = await make_account(store)

    async def first_read() -> int:
        async with store.transaction() as tx:
            return (await callback_service.get_settings(tx, account.tenant)).id

    ids = await asyncio.gather(*(first_read() for _ in range(8)))
    async with store.transaction() as tx:
        rows = list(await tx.session.scalars(select(CallbackSettings)))
    assert [row.id for row in rows] == [ids[0]] and set(ids) == {ids[0]}


async def test_the_store_refuses_a_second_tenant_row(store: Store) -> None:
    account = await make_account(store)
    async with store.transaction() as tx:
        await callback_service.get_settings(tx, account.tenant)
    with pytest.raises(IntegrityError):
        async with store.transaction() as tx:
            tx.session.add(CallbackSettings(tenant_id=account.tenant.id, user_id=None, updated_at=tx.now()))
            await tx.session.flush()
