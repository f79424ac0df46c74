"""The credential store's queries: API credentials, login sessions (api_key) and seen signatures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from callbot.kit.db import Base, Tx
from callbot.models import ApiSession, Credential, SeenSignature, Tenant, User
from callbot.models.enums import CredentialKind, Role


async def add(tx: Tx, row: Base) -> None:
    tx.session.add(row)
    await tx.session.flush()


async def flush(tx: Tx) -> None:
    await tx.session.flush()


# --- credentials ---------------------------------------------------------------------------------------


async def of_tenant(tx: Tx, tenant_id: int) -> list[Credential]:
    query = select(Credential).where(Credential.tenant_id == tenant_id).order_by(Credential.id)
    return list(await tx.session.scalars(query))


async def get(tx: Tx, credential_id: int) -> Credential | None:
    return await tx.session.get(Credential, credential_id)


async def by_digest(tx: Tx, digest: str) -> Credential | None:
    return await tx.session.scalar(select(Credential).where(Credential.secret_digest == digest))


async def by_key(tx: Tx, key: str) -> Credential | None:
    return await tx.session.scalar(select(Credential).where(Credential.key == key))


async def first_enabled(tx: Tx, tenant_id: int, kind: CredentialKind) -> Credential | None:
    return await tx.session.scalar(
        select(Credential)
        .where(Credential.tenant_id == tenant_id, Credential.kind == kind, Credential.enabled.is_(True))
        .order_by(Credential.id)
        .limit(1)
    )


async def tenant(tx: Tx, tenant_id: int) -> Tenant | None:
    return await tx.session.get(Tenant, tenant_id)


async def user(tx: Tx, user_id: int) -> User | None:
    return await tx.session.get(User, user_id)


async def first_admin(tx: Tx, tenant_id: int) -> User | None:
    query = select(User).where(User.tenant_id == tenant_id, User.role == Role.ADMIN).order_by(User.id).limit(1)
    return await tx.session.scalar(query)


# --- sessions ------------------------------------------------------------------------------------------


async def remove_sessions(tx: Tx, subject: str, *, expired_before: datetime | None = None) -> None:
    """Remove the subject's sessions: all of them, or with `expired_before` those that expired before then."""
    removed: list[ColumnElement[bool]] = [ApiSession.subject == subject]
    if expired_before is not None:
        removed.append(ApiSession.expires_at < expired_before)
    await tx.session.execute(delete(ApiSession).where(*removed))


async def session_by_key(tx: Tx, subject: str, api_key: str) -> ApiSession | None:
    query = (
        select(ApiSession)
        .where(ApiSession.subject == subject, ApiSession.api_key == api_key)
        .order_by(ApiSession.id.desc())
        .limit(1)
    )
    return await tx.session.scalar(query)


# --- seen signatures -----------------------------------------------------------------------------------


async def forget_expired_signatures(tx: Tx, credential_id: int, now: datetime) -> None:
    await tx.session.execute(
        delete(SeenSignature).where(SeenSignature.credential_id == credential_id, SeenSignature.expires_at < now)
    )


async def add_signature(
    tx: Tx, credential_id: int, signature: str, request: str, now: datetime, expires_at: datetime
) -> bool:
    """Record a use of the signature; False when this (credential, signature, request) was already seen.
    The primary key decides between concurrent uses on any number of processes: one insert wins."""
    dialect = (await tx.session.connection()).dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    added = await tx.session.execute(
        insert(SeenSignature)
        .values(credential_id=credential_id, signature=signature, request=request, seen_at=now, expires_at=expires_at)
        .on_conflict_do_nothing()
    )
    return bool(added.rowcount)  # type: ignore[attr-defined]


async def first_seen(tx: Tx, credential_id: int, signature: str) -> datetime | None:
    return await tx.session.scalar(
        select(func.min(SeenSignature.seen_at)).where(
            SeenSignature.credential_id == credential_id, SeenSignature.signature == signature
        )
    )
