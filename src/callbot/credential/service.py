"""Issuing and checking API credentials. Secrets are returned once, at creation, and never again."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from callbot.credential import repository
from callbot.errors import Forbidden, NotFound, Unauthorized
from callbot.kit.db import Tx
from callbot.kit.secrets import random_alnum, random_hex, random_letters, token_digest
from callbot.models import Credential, Tenant, User
from callbot.models.enums import CredentialKind, TenantStatus

TOKEN_PREFIX = "cbt_"


class CredentialNotFound(NotFound):
    """No such credential."""


class CredentialDisabled(Forbidden):
    """The credential is disabled."""


class TenantSuspended(Forbidden):
    """The tenant is suspended."""


@dataclass(frozen=True)
class IssuedCredential:
    credential: Credential
    # The secrets as the caller must keep them, under the vendor's own field names for vendor kinds.
    secrets: dict[str, str]


async def create_credential(
    tx: Tx, tenant: Tenant, kind: CredentialKind, *, user: User | None = None, label: str = ""
) -> IssuedCredential:
    now = tx.now()
    if kind is CredentialKind.TOKEN:
        token = TOKEN_PREFIX + random_alnum(40)
        credential = Credential(
            tenant_id=tenant.id, kind=kind, key=token[:12], secret_digest=token_digest(token), created_at=now
        )
        shown = {"token": token}
    elif kind is CredentialKind.YIWISE:
        app_key = random_letters(16)
        app_secret = random_letters(32)
        credential = Credential(
            tenant_id=tenant.id,
            kind=kind,
            key=app_key,
            secret_encrypted=tx.secrets.encrypt(app_secret),
            created_at=now,
        )
        shown = {"appKey": app_key, "appSecret": app_secret, "tenantSign": tenant.sign}
    else:
        access_id = random_hex(32)
        access_secret = random_hex(32)
        credential = Credential(
            tenant_id=tenant.id,
            kind=kind,
            key=access_id,
            secret_encrypted=tx.secrets.encrypt(access_secret),
            created_at=now,
        )
        shown = {"api_access_id": access_id, "api_access_secret": access_secret}
    credential.user_id = user.id if user is not None else None
    credential.label = label
    await repository.add(tx, credential)
    return IssuedCredential(credential, shown)


async def list_credentials(tx: Tx, tenant: Tenant) -> list[Credential]:
    return await repository.of_tenant(tx, tenant.id)


async def set_enabled(tx: Tx, tenant: Tenant, credential_id: int, enabled: bool) -> Credential:
    credential = await repository.get(tx, credential_id)
    if credential is None or credential.tenant_id != tenant.id:
        raise CredentialNotFound(f"no credential with id {credential_id}")
    credential.enabled = enabled
    await repository.flush(tx)
    return credential


async def authenticate_token(tx: Tx, token: str) -> tuple[Tenant, Credential]:
    """Resolve a native bearer token to its tenant."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("invalid bearer token")
    credential = await repository.by_digest(tx, token_digest(token))
    if credential is None or credential.kind is not CredentialKind.TOKEN:
        raise Unauthorized("invalid bearer token")
    # The digest lookup already matched; compare again in constant time for good measure.
    if not hmac.compare_digest(credential.secret_digest or "", token_digest(token)):
        raise Unauthorized("invalid bearer token")
    return await check_active(tx, credential), credential


async def find_vendor_credential(tx: Tx, kind: CredentialKind, key: str) -> tuple[Tenant, Credential, str]:
    """Resolve a vendor key (appKey, api_access_id) to tenant, credential and the plain secret."""
    credential = await repository.by_key(tx, key)
    if credential is None or credential.kind is not kind or credential.secret_encrypted is None:
        raise Unauthorized(f"unknown {kind.value} key")
    tenant = await check_active(tx, credential)
    return tenant, credential, tx.secrets.decrypt(credential.secret_encrypted)


async def check_active(tx: Tx, credential: Credential) -> Tenant:
    """The credential's tenant, when both the credential and the tenant may still be used."""
    if not credential.enabled:
        raise CredentialDisabled()
    tenant = await active_tenant(tx, credential.tenant_id)
    now = tx.now()
    # Throttled so that reads do not turn into a write on every request.
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        credential.last_used_at = now
    return tenant


async def active_tenant(tx: Tx, tenant_id: int) -> Tenant:
    """The tenant, when it may still be used (active and not expired)."""
    tenant = await repository.tenant(tx, tenant_id)
    if tenant is None or tenant.status is not TenantStatus.ACTIVE:
        raise TenantSuspended()
    if tenant.expires_on is not None and tenant.expires_on <= tx.now():
        raise TenantSuspended("the tenant's account has expired")
    return tenant


async def vendor_secret(tx: Tx, tenant: Tenant, kind: CredentialKind) -> str:
    """The plain secret of the tenant's first enabled credential of a vendor kind ("" when it has none):
    it signs the callbacks sent in that vendor's dialect."""
    credential = await repository.first_enabled(tx, tenant.id, kind)
    if credential is None or credential.secret_encrypted is None:
        return ""
    return tx.secrets.decrypt(credential.secret_encrypted)
