"""Tenant and user rules: unique names, calling hours, seats, roles, password checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta

from callbot.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest
from callbot.kit.secrets import hash_password, random_hex, random_letters, verify_password
from callbot.models import Tenant, User
from callbot.models.enums import Role
from callbot.tenant import repository

_SIGN = re.compile(r"^[A-Za-z0-9_]{2,64}$")


class TenantNotFound(NotFound):
    """No such tenant."""


class UserNotFound(NotFound):
    """No such user."""


@dataclass(frozen=True)
class TenantChanges:
    calling_hours: tuple[time, time] | None = None
    seats: int | None = None
    freq_cap_calls: int | None = None
    freq_cap_hours: int | None = None
    timezone: str | None = None


async def create_tenant(tx: Tx, name: str, *, sign: str | None = None, seats: int = 20) -> Tenant:
    name = name.strip()
    if not name:
        raise ValidationFailed("tenant name is empty", [("name", "must not be empty")])
    if await repository.tenant_name_taken(tx, name):
        raise Conflict(f"a tenant named {name!r} already exists")
    sign = sign or "cb" + random_letters(8, "abcdefghijkmnpqrstuvwxyz23456789")
    if not _SIGN.match(sign):
        raise ValidationFailed("bad tenant sign", [("sign", "2-64 letters, digits or _")])
    if await repository.tenant_sign_taken(tx, sign):
        raise Conflict(f"a tenant with sign {sign!r} already exists")
    _check_seats(seats)
    now = tx.now()
    tenant = Tenant(name=name, sign=sign, seats=seats, created_at=now, updated_at=now)
    await repository.add(tx, tenant)
    return tenant


async def get_tenant(tx: Tx, tenant_id: int) -> Tenant:
    tenant = await repository.get_tenant(tx, tenant_id)
    if tenant is None:
        raise TenantNotFound(f"no tenant with id {tenant_id}")
    return tenant


async def get_tenant_by_name(tx: Tx, name: str) -> Tenant:
    tenant = await repository.tenant_by_name(tx, name)
    if tenant is None:
        raise TenantNotFound(f"no tenant named {name!r}")
    return tenant


async def list_tenants(tx: Tx) -> list[Tenant]:
    return await repository.all_tenants(tx)


async def update_tenant(tx: Tx, tenant: Tenant, changes: TenantChanges) -> Tenant:
    if changes.calling_hours is not None:
        start, end = changes.calling_hours
        if start >= end:
            raise ValidationFailed("calling hours must start before they end", [("calling_hours", "start >= end")])
        tenant.calling_start, tenant.calling_end = start, end
    if changes.seats is not None:
        _check_seats(changes.seats)
        tenant.seats = changes.seats
    if changes.freq_cap_calls is not None:
        if changes.freq_cap_calls < 0:
            raise ValidationFailed("bad frequency cap", [("freq_cap_calls", "must be 0 (no cap) or more")])
        tenant.freq_cap_calls = changes.freq_cap_calls
    if changes.freq_cap_hours is not None:
        if changes.freq_cap_hours < 1:
            raise ValidationFailed("bad frequency cap", [("freq_cap_hours", "must be at least 1")])
        tenant.freq_cap_hours = changes.freq_cap_hours
    if changes.timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(changes.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationFailed("unknown time zone", [("timezone", f"unknown zone {changes.timezone!r}")]) from exc
        tenant.timezone = changes.timezone
    tenant.updated_at = tx.now()
    await repository.flush(tx)
    return tenant


def _check_seats(seats: int) -> None:
    if not 1 <= seats <= 100_000:
        raise ValidationFailed("bad seat count", [("seats", "must be between 1 and 100000")])


# --- users ------------------------------------------------------------------------------------------


async def create_user(
    tx: Tx, tenant: Tenant, username: str, password: str, role: Role = Role.ADMIN, display_name: str = ""
) -> User:
    username = username.strip()
    problems = []
    if not re.match(r"^[A-Za-z0-9_.@-]{2,64}$", username):
        problems.append(("username", "2-64 letters, digits or _ . @ -"))
    if len(password) < 8:
        problems.append(("password", "at least 8 characters"))
    if problems:
        raise ValidationFailed("invalid user", problems)
    if await repository.username_taken(tx, username):
        raise Conflict(f"a user named {username!r} already exists")
    user = User(
        tenant_id=tenant.id,
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
        sn=random_hex(32),
        created_at=tx.now(),
    )
    await repository.add(tx, user)
    return user


async def list_users(tx: Tx, tenant: Tenant) -> list[User]:
    return await repository.users_of(tx, tenant.id)


async def find_user(tx: Tx, user_id: int) -> User | None:
    """Any tenant's user by id (for a task owner the caller already holds), None when gone."""
    return await repository.get_user(tx, user_id)


async def get_user(tx: Tx, tenant: Tenant, user_id: int) -> User:
    user = await repository.get_user(tx, user_id)
    if user is None or user.tenant_id != tenant.id:
        raise UserNotFound(f"no user with id {user_id}")
    return user


async def authenticate_user(tx: Tx, username: str, password: str) -> User:
    """Check a console login. The same error for an unknown user and a wrong password."""
    user = await repository.user_by_name(tx, username)
    if user is None or not user.enabled or not verify_password(password, user.password_hash):
        raise Unauthorized("wrong username or password")
    user.last_login_at = tx.now()
    return user


MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class UserLocked(Forbidden):
    """Too many failed sign-ins: this user is locked for a while."""


async def sign_in(tx: Tx, username: str, password: str) -> User:
    """A console sign-in with lockout: after MAX_FAILED_LOGINS failures in a row the user is refused for
    LOCKOUT, even with the right password. The failure count is kept on the user row, so the caller must
    commit the transaction when this raises Unauthorized (the count is the point of the failure)."""
    user = await repository.user_by_name(tx, username.strip())
    now = tx.now()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise UserLocked(f"too many failed sign-ins: try again after {user.locked_until:%H:%M} UTC")
    try:
        user = await authenticate_user(tx, username.strip(), password)
    except Unauthorized:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.failed_logins = 0
                user.locked_until = now + LOCKOUT
            await repository.flush(tx)
        raise
    user.failed_logins = 0
    user.locked_until = None
    await repository.flush(tx)
    return user


async def get_signed_in_user(tx: Tx, user_id: int, epoch: int) -> User:
    """The user a console session names, still enabled, the session not ended by a sign-out or a new
    password (its epoch is the user's); UserNotFound otherwise."""
    user = await repository.get_user(tx, user_id)
    if user is None or not user.enabled or user.session_epoch != epoch:
        raise UserNotFound(f"no user with id {user_id}")
    return user


async def sign_out(tx: Tx, user: User) -> None:
    """End every console session of the user (a stolen cookie stops working too)."""
    user.session_epoch += 1
    await repository.flush(tx)


@dataclass(frozen=True)
class UserChanges:
    display_name: str | None = None
    role: Role | None = None
    password: str | None = None
    enabled: bool | None = None


async def update_user(tx: Tx, tenant: Tenant, user_id: int, changes: UserChanges) -> User:
    user = await get_user(tx, tenant, user_id)
    if changes.password is not None:
        if len(changes.password) < 8:
            raise ValidationFailed("invalid password", [("password", "at least 8 characters")])
        user.password_hash = hash_password(changes.password)
        user.session_epoch += 1  # a new password ends the sessions signed in with the old one
    if changes.display_name is not None:
        user.display_name = changes.display_name
    if changes.role is not None:
        user.role = changes.role
    if changes.enabled is not None:
        user.enabled = changes.enabled
    await repository.flush(tx)
    return user


def seat_quota(tenant: Tenant, user: User | None) -> int:
    """The AI seats an account may use: a sub-account's own limit, else the tenant's seats."""
    return user.max_seats if user is not None and user.max_seats is not None else tenant.seats


async def get_user_by_name(tx: Tx, tenant: Tenant, username: str) -> User:
    user = await repository.user_of_tenant_by_name(tx, tenant.id, username)
    if user is None:
        raise UserNotFound(f"no user named {username}")
    return user


async def list_sub_accounts(
    tx: Tx, tenant: Tenant, *, main_user_id: int | None, username: str | None, page: PageRequest
) -> Page[User]:
    """The tenant's users other than its main account, optionally one username, one page of them."""
    return await repository.sub_accounts_page(tx, tenant.id, main_user_id=main_user_id, username=username, page=page)
