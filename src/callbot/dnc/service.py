"""DNC rules: numbers are stored normalised, once per tenant; a complaint adds the caller's number; the
one check of whether numbers may be called (`listed_numbers`), used by the import and the dialer."""

from __future__ import annotations

from collections.abc import Sequence

from callbot.customer.phone import InvalidPhone, normalise_phone
from callbot.dnc import repository
from callbot.errors import NotFound, ValidationFailed
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest
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
    entry = await repository.find(tx, tenant.id, number)
    if entry is not None:
        return entry
    entry = DncEntry(
        tenant_id=tenant.id, phone=number, source=source, reason=reason, record_id=record_id, created_at=tx.now()
    )
    return await repository.add(tx, entry)


async def remove_number(tx: Tx, tenant: Tenant, phone: str) -> None:
    number = _number(phone)
    if not await repository.remove(tx, tenant.id, number):
        raise DncEntryNotFound(f"{number} is not on the do-not-call list")


async def listed_numbers(tx: Tx, tenant_id: int, numbers: Sequence[str] | None = None) -> set[str]:
    """Which of these normalised numbers are on the tenant's list (all the listed ones when None)."""
    return await repository.listed(tx, tenant_id, numbers)


async def list_numbers(tx: Tx, tenant: Tenant, page: PageRequest) -> Page[DncEntry]:
    return await repository.page(tx, tenant.id, page)
