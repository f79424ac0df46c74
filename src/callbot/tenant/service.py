"""Tenant and user rules: unique names, calling hours, seats, roles, password checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta

from sqlalchemy import select

from callbot.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from callbot.kit.db import Tx
from callbot.kit.secrets import hash_password, random_hex, random_letters, verify_password
from callbot.models import Tenant, User
from callbot.models.enums import Role

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
    if await tx.session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None:
        raise Conflict(f"a tenant named {name!r} already exists")
    sign = sign or "cb" + random_letters(8, "abcdefghijkmnpqrstuvwxyz23456789")
    if not _SIGN.match(sign):
        raise ValidationFailed("bad tenant sign", [("sign", "2-64 letters, digits or _")])
    if await tx.session.scalar(select(Tenant.id).where(Tenant.sign == sign)) is not None:
        raise Conflict(f"a tenant with sign {sign!r} already exists")
    _check_seats(seats)
    now = tx.now()
    tenant = Tenant(name=name, sign=sign, seats=seats, created_at=now, updated_at=now)
    tx.session.add(tenant)
    await tx.session.flush()
    return tenant


async def get_tenant(tx: Tx, tenant_id: int) -> Tenant:
    tenant = await tx.session.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantNotFound(f"no tenant with id {tenant_id}")
    return tenant


async def get_tenant_by_name(tx: Tx, name: str) -> Tenant:
    tenant = await tx.session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        raise TenantNotFound(f"no tenant named {name!r}")
    return tenant


async def list_tenants(tx: Tx) -> list[Tenant]:
    return list(await tx.session.scalars(select(Tenant).order_by(Tenant.id)))


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
    await tx.session.flush()
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
    if await tx.session.scalar(select(User.id).where(User.username == username)) is not None:
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
    tx.session.add(user)
    await tx.session.flush()
    return user


async def list_users(tx: Tx, tenant: Tenant) -> list[User]:
    return list(await tx.session.scalars(select(User).where(User.tenant_id == tenant.id).order_by(User.id)))


async def get_user(tx: Tx, tenant: Tenant, user_id: int) -> User:
    user = await tx.session.get(User, user_id)
    if user is None or user.tenant_id != tenant.id:
        raise UserNotFound(f"no user with id {user_id}")
    return user


async def authenticate_user(tx: Tx, username: str, password: str) -> User:
    """Check a console login. The same error for an unknown user and a wrong password."""
    user = await tx.session.scalar(select(User).where(User.username == username))
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
    user = await tx.session.scalar(select(User).where(User.username == username.strip()))
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
            await tx.session.flush()
        raise
    user.failed_logins = 0
    user.locked_until = None
    await tx.session.flush()
    return user


async def get_signed_in_user(tx: Tx, user_id: int) -> User:
    """The user a console session names, still enabled; UserNotFound otherwise."""
    user = await tx.session.get(User, user_id)
    if user is None or not user.enabled:
        raise UserNotFound(f"no user with id {user_id}")
    return user


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
    if changes.display_name is not None:
        user.display_name = changes.display_name
    if changes.role is not None:
        user.role = changes.role
    if changes.enabled is not None:
        user.enabled = changes.enabled
    await tx.session.flush()
    return user
