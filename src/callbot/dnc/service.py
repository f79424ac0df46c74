"""DNC rules: numbers are stored normalised, once per tenant; a complaint adds the caller's number."""

from __future__ import annotations

from sqlalchemy import delete, select

from callbot.customer.phone import InvalidPhone, normalise_phone
from callbot.errors import NotFound, ValidationFailed
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import DncEntry, Tenant


class DncEntryNotFound(NotFound):
    """The number is not on the do-not-call list."""


def _number(phone: str) -> str:
    try:
        return normalise_phone(phone).number
    except InvalidPhone as exc:
        raise ValidationFailed(str(exc), [("phone", str(exc))]) from exc


async def add_number(
    tx: Tx, tenant: Tenant, phone: str, *, source: str = "manual", reason: str = "", record_id: int | None = None
) -> DncEntry:
    """Put a number on the list; adding one already there returns the existing entry unchanged."""
    number = _number(phone)
    entry = await tx.session.scalar(select(DncEntry).where(DncEntry.tenant_id == tenant.id, DncEntry.phone == number))
    if entry is not None:
        return entry
    entry = DncEntry(
        tenant_id=tenant.id, phone=number, source=source, reason=reason, record_id=record_id, created_at=tx.now()
    )
    tx.session.add(entry)
    await tx.session.flush()
    return entry


async def remove_number(tx: Tx, tenant: Tenant, phone: str) -> None:
    number = _number(phone)
    result = await tx.session.execute(delete(DncEntry).where(DncEntry.tenant_id == tenant.id, DncEntry.phone == number))
    if not getattr(result, "rowcount", 0):
        raise DncEntryNotFound(f"{number} is not on the do-not-call list")


async def is_listed(tx: Tx, tenant_id: int, number: str) -> bool:
    found = await tx.session.scalar(
        select(DncEntry.id).where(DncEntry.tenant_id == tenant_id, DncEntry.phone == number)
    )
    return found is not None


async def list_numbers(tx: Tx, tenant: Tenant, page: PageRequest) -> Page[DncEntry]:
    query = select(DncEntry).where(DncEntry.tenant_id == tenant.id).order_by(DncEntry.id.desc())
    return await paginate(tx.session, query, page)
