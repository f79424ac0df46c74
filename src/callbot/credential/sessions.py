"""Vendor API sessions (Digelao `api_key`): who a login acts as, issuing, checking and revoking keys.

The rules: a key is 8 characters [A-Za-z0-9]; it lasts `lifetime` seconds (7200 by default) from issue on
the store's clock, with no sliding renewal; by default a user has one live key, so a new login removes the
previous one. A request finds its session by (subject, key) through an index, so its cost does not grow
with the number of logins; a login removes the subject's superseded keys and its keys expired for a day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from callbot.credential import repository
from callbot.credential import service as credential_service
from callbot.errors import Unauthorized
from callbot.kit.db import Tx
from callbot.kit.secrets import random_alnum
from callbot.models import ApiSession, Credential, Tenant, User

KEY_LENGTH = 8
DEFAULT_LIFETIME = 7200
# Expired keys are kept this long (to answer 20006 "expired" rather than 20005 "unknown"), then removed.
_KEEP_EXPIRED = timedelta(days=1)


class SessionKeyInvalid(Unauthorized):
    """The api_key is not the current key of that user."""


class SessionKeyExpired(Unauthorized):
    """The api_key has expired."""


@dataclass(frozen=True)
class Acting:
    """Who a login acts as: a user (None when the tenant has none) and its stable public sn."""

    user: User | None
    sn: str
    main: bool  # the tenant's main account (主账号) rather than a sub-account


async def main_user(tx: Tx, tenant: Tenant) -> User | None:
    """The tenant's main account: its first admin user (by creation), or None when it has no admin."""
    return await repository.first_admin(tx, tenant.id)


def derived_sn(credential: Credential) -> str:
    """A stable sn for a credential of a tenant without users (32 lowercase hex)."""
    return hashlib.md5(f"callbot-credential:{credential.key}".encode()).hexdigest()


async def acting_for_credential(tx: Tx, tenant: Tenant, credential: Credential) -> Acting:
    """The credential's user; without one, the tenant's main account; without users, a derived identity."""
    main = await main_user(tx, tenant)
    if credential.user_id is not None:
        user = await repository.user(tx, credential.user_id)
        if user is None or user.tenant_id != tenant.id or not user.enabled:
            raise SessionKeyInvalid("the credential's user is gone or disabled")
        return Acting(user, user.sn, main is not None and main.id == user.id)
    if main is not None:
        return Acting(main, main.sn, True)
    return Acting(None, derived_sn(credential), True)


async def acting_for_user(tx: Tx, tenant: Tenant, user: User) -> Acting:
    main = await main_user(tx, tenant)
    return Acting(user, user.sn, main is not None and main.id == user.id)


async def issue(
    tx: Tx,
    tenant: Tenant,
    acting: Acting,
    *,
    credential: Credential | None = None,
    lifetime: int = DEFAULT_LIFETIME,
    single_session: bool = True,
) -> ApiSession:
    """A new api_key for `acting`; with `single_session`, every other key of the same subject is removed
    (a superseded key then answers as unknown, 20005)."""
    now = tx.now()
    await repository.remove_sessions(tx, acting.sn, expired_before=None if single_session else now - _KEEP_EXPIRED)
    session = ApiSession(
        tenant_id=tenant.id,
        credential_id=credential.id if credential is not None else None,
        user_id=acting.user.id if acting.user is not None else None,
        subject=acting.sn,
        api_key=random_alnum(KEY_LENGTH),
        issued_at=now,
        expires_at=now + timedelta(seconds=lifetime),
        revoked=False,
    )
    await repository.add(tx, session)
    return session


async def verify(tx: Tx, subject: str, api_key: str) -> ApiSession:
    """The live session of `subject` whose key is `api_key`.

    Raises SessionKeyInvalid for an unknown subject, a wrong key or a revoked (superseded) one, and
    SessionKeyExpired for the right key past its expiry. One indexed lookup, however many logins the
    subject made.
    """
    found = await repository.session_by_key(tx, subject, api_key)
    if found is None or found.revoked:
        raise SessionKeyInvalid()
    if found.expires_at <= tx.now():
        raise SessionKeyExpired()
    return found


async def session_tenant(tx: Tx, session: ApiSession) -> Tenant:
    """The tenant a live session acts for, refusing a disabled credential or user or a suspended tenant."""
    if session.credential_id is not None:
        credential = await repository.get(tx, session.credential_id)
        if credential is None:
            raise SessionKeyInvalid()
        return await credential_service.check_active(tx, credential)
    if session.user_id is not None:
        user = await repository.user(tx, session.user_id)
        if user is None or not user.enabled:
            raise SessionKeyInvalid()
    return await credential_service.active_tenant(tx, session.tenant_id)
