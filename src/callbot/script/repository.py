"""The script store's queries (话术): scripts and their versions."""

from __future__ import annotations

from sqlalchemy import select

from callbot.kit.db import Base, Tx
from callbot.models import Script, ScriptVersion


async def add(tx: Tx, row: Base) -> None:
    tx.session.add(row)
    await tx.session.flush()


async def flush(tx: Tx) -> None:
    await tx.session.flush()


async def by_name(tx: Tx, tenant_id: int, name: str) -> Script | None:
    return await tx.session.scalar(select(Script).where(Script.tenant_id == tenant_id, Script.name == name))


async def get(tx: Tx, script_id: int) -> Script | None:
    return await tx.session.get(Script, script_id)


async def of_tenant(tx: Tx, tenant_id: int) -> list[Script]:
    return list(await tx.session.scalars(select(Script).where(Script.tenant_id == tenant_id).order_by(Script.id)))


async def first_by_sn_or_name(tx: Tx, tenant_id: int, *, sn: str | None, name: str | None) -> Script | None:
    query = select(Script).where(Script.tenant_id == tenant_id)
    query = query.where(Script.sn == sn) if sn else query.where(Script.name == name)
    return await tx.session.scalar(query.order_by(Script.id).limit(1))


async def approved_of_tenant(tx: Tx, tenant_id: int) -> list[Script]:
    query = select(Script).where(Script.tenant_id == tenant_id, Script.approved_version.is_not(None))
    return list(await tx.session.scalars(query.order_by(Script.id)))


async def versions(tx: Tx, script_id: int) -> list[ScriptVersion]:
    query = select(ScriptVersion).where(ScriptVersion.script_id == script_id).order_by(ScriptVersion.version)
    return list(await tx.session.scalars(query))


async def version(tx: Tx, script_id: int, number: int) -> ScriptVersion | None:
    return await tx.session.scalar(
        select(ScriptVersion).where(ScriptVersion.script_id == script_id, ScriptVersion.version == number)
    )
