"""The line store's queries (主叫线路)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from callbot.kit.db import Tx
from callbot.models import Line


async def add(tx: Tx, line: Line) -> None:
    tx.session.add(line)
    await tx.session.flush()


async def flush(tx: Tx) -> None:
    await tx.session.flush()


async def id_by_phone(tx: Tx, tenant_id: int, phone: str) -> int | None:
    return await tx.session.scalar(select(Line.id).where(Line.tenant_id == tenant_id, Line.phone == phone))


async def get(tx: Tx, line_id: int) -> Line | None:
    return await tx.session.get(Line, line_id)


async def many(tx: Tx, tenant_id: int, line_ids: Sequence[int]) -> dict[int, Line]:
    rows = await tx.session.scalars(select(Line).where(Line.tenant_id == tenant_id, Line.id.in_(line_ids)))
    return {line.id: line for line in rows}


async def by_phone(tx: Tx, tenant_id: int, phone: str) -> Line | None:
    return await tx.session.scalar(select(Line).where(Line.tenant_id == tenant_id, Line.phone == phone))


async def of_tenant(tx: Tx, tenant_id: int) -> list[Line]:
    return list(await tx.session.scalars(select(Line).where(Line.tenant_id == tenant_id).order_by(Line.id)))


async def enabled_of_tenant(tx: Tx, tenant_id: int) -> list[Line]:
    query = select(Line).where(Line.tenant_id == tenant_id, Line.enabled.is_(True)).order_by(Line.id)
    return list(await tx.session.scalars(query))


async def by_phones(tx: Tx, tenant_id: int, phones: Sequence[str]) -> list[Line]:
    return list(await tx.session.scalars(select(Line).where(Line.tenant_id == tenant_id, Line.phone.in_(phones))))


async def enabled_on_gateway(tx: Tx, gateway: str) -> list[Line]:
    return list(await tx.session.scalars(select(Line).where(Line.gateway == gateway, Line.enabled.is_(True))))
