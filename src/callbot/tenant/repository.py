"""The tenant store's queries: tenants (租户) and their users."""

from __future__ import annotations

from sqlalchemy import select

from callbot.kit.db import Base, Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import Tenant, User


async def add(tx: Tx, row: Base) -> None:
    tx.session.add(row)
    await tx.session.flush()


async def flush(tx: Tx) -> None:
    await tx.session.flush()


async def tenant_name_taken(tx: Tx, name: str) -> bool:
    return await tx.session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None


async def tenant_sign_taken(tx: Tx, sign: str) -> bool:
    return await tx.session.scalar(select(Tenant.id).where(Tenant.sign == sign)) is not None


async def get_tenant(tx: Tx, tenant_id: int) -> Tenant | None:
    return await tx.session.get(Tenant, tenant_id)


async def tenant_by_name(tx: Tx, name: str) -> Tenant | None:
    return await tx.session.scalar(select(Tenant).where(Tenant.name == name))


async def all_tenants(tx: Tx) -> list[Tenant]:
    return list(await tx.session.scalars(select(Tenant).order_by(Tenant.id)))


async def username_taken(tx: Tx, username: str) -> bool:
    return await tx.session.scalar(select(User.id).where(User.username == username)) is not None


async def users_of(tx: Tx, tenant_id: int) -> list[User]:
    return list(await tx.session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id)))


async def get_user(tx: Tx, user_id: int) -> User | None:
    return await tx.session.get(User, user_id)


async def user_by_name(tx: Tx, username: str) -> User | None:
    return await tx.session.scalar(select(User).where(User.username == username))


async def user_of_tenant_by_name(tx: Tx, tenant_id: int, username: str) -> User | None:
    return await tx.session.scalar(select(User).where(User.tenant_id == tenant_id, User.username == username))


async def sub_accounts_page(
    tx: Tx, tenant_id: int, *, main_user_id: int | None, username: str | None, page: PageRequest
) -> Page[User]:
    query = select(User).where(User.tenant_id == tenant_id)
    if main_user_id is not None:
        query = query.where(User.id != main_user_id)
    if username:
        query = query.where(User.username == username)
    return await paginate(tx.session, query.order_by(User.id), page)
