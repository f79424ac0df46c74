"""The do-not-call list's queries (免打扰名单)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import DncEntry


async def find(tx: Tx, tenant_id: int, number: str) -> DncEntry | None:
    return await tx.session.scalar(select(DncEntry).where(DncEntry.tenant_id == tenant_id, DncEntry.phone == number))


async def add(tx: Tx, entry: DncEntry) -> DncEntry:
    tx.session.add(entry)
    await tx.session.flush()
    return entry


async def remove(tx: Tx, tenant_id: int, number: str) -> int:
    result = await tx.session.execute(delete(DncEntry).where(DncEntry.tenant_id == tenant_id, DncEntry.phone == number))
    return int(getattr(result, "rowcount", 0) or 0)


async def listed(tx: Tx, tenant_id: int, numbers: Sequence[str] | None) -> set[str]:
    query = select(DncEntry.phone).where(DncEntry.tenant_id == tenant_id)
    if numbers is not None:
        query = query.where(DncEntry.phone.in_(numbers))
    return set(await tx.session.scalars(query))


async def page(tx: Tx, tenant_id: int, request: PageRequest) -> Page[DncEntry]:
    query = select(DncEntry).where(DncEntry.tenant_id == tenant_id).order_by(DncEntry.id.desc())
    return await paginate(tx.session, query, request)
