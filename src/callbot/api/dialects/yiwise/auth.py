"""Header authentication, the SHA-256 signature and the replay guard of the Yiwise dialect (§2)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from callbot.credential import replay
from callbot.credential import service as credential_service
from callbot.errors import Unauthorized
from callbot.kit.db import Tx
from callbot.models import Tenant
from callbot.models.enums import CredentialKind

VERSION = "v1"

# Accepted header names, matched case-insensitively (§2.1).
_NAMES = {
    "appKey": ("appkey", "app_key"),
    "appSecret": ("appsecret", "app_secret"),
    "tenantSign": ("tenantsign", "company_sign", "tenant_sign", "companysign"),
    "version": ("version",),
    "timestamp": ("timestamp",),
    "signature": ("signature",),
}


def plain_text(app_key: str, app_secret: str, tenant_sign: str, version: str, timestamp: str) -> str:
    """The signed string: the tenant sign as a bare prefix, then the pairs in fixed order (§2.2)."""
    return (
        f"{tenant_sign}appKey={app_key}&appSecret={app_secret}&tenantSign={tenant_sign}"
        f"&version={version}&timestamp={timestamp}"
    )


def sign(app_key: str, app_secret: str, tenant_sign: str, version: str, timestamp: str) -> str:
    """Lowercase hex SHA-256 of the plain text, UTF-8."""
    plain = plain_text(app_key, app_secret, tenant_sign, version, timestamp)
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def read_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The authentication headers under their camelCase names; absent ones are left out."""
    lowered = {name.lower(): value for name, value in headers.items()}
    found: dict[str, str] = {}
    for name, aliases in _NAMES.items():
        for alias in aliases:
            value = lowered.get(alias)
            if value is not None and value.strip():
                found[name] = value.strip()
                break
    return found


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def request_digest(method: str, path: str, query: str, body: bytes) -> str:
    """What a signature is bound to on first use: the request's method, path, query and body."""
    digest = hashlib.sha256(f"{method.upper()} {path}?{query}\n".encode())
    digest.update(body)
    return digest.hexdigest()


async def authenticate(
    tx: Tx,
    headers: Mapping[str, str],
    *,
    window_minutes: int,
    request: str = "",
    reuse_seconds: int = 0,
) -> Tenant:
    """The tenant a request acts for (§2.3). Raises Unauthorized (401) or Forbidden (403).

    With the freshness window on, a signature is accepted once per request (`request`: its digest), and on
    other requests only within `reuse_seconds` of its first use (step 6)."""
    got = read_headers(headers)
    app_key, timestamp, signature = got.get("appKey"), got.get("timestamp"), got.get("signature")
    if app_key is None or timestamp is None or signature is None:
        raise Unauthorized("appKey, timestamp and signature headers are required")
    version = got.get("version")
    if version != VERSION:
        raise Unauthorized("the version header must be v1")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 19:
        raise Unauthorized("timestamp must be epoch milliseconds")
    tenant, credential, secret = await credential_service.find_vendor_credential(tx, CredentialKind.YIWISE, app_key)
    sent_secret, sent_sign = got.get("appSecret"), got.get("tenantSign")
    if sent_secret is not None and not _same(sent_secret, secret):
        raise Unauthorized("appSecret does not match the appKey")
    if sent_sign is not None and not _same(sent_sign, tenant.sign):
        raise Unauthorized("tenantSign does not match the appKey")
    expected = sign(app_key, secret, tenant.sign, version, timestamp)
    if not _same(signature.lower(), expected):
        raise Unauthorized("signature mismatch")
    if window_minutes > 0:
        now_ms = int(tx.now().timestamp() * 1000)
        if abs(now_ms - int(timestamp)) > window_minutes * 60_000:
            raise Unauthorized(f"timestamp is more than {window_minutes} minutes from the server clock")
        # Kept until the timestamp leaves the window: a replay after that is refused as stale.
        stale_at = datetime.fromtimestamp(int(timestamp) / 1000, UTC) + timedelta(minutes=window_minutes)
        await replay.remember(
            tx,
            credential.id,
            signature.lower(),
            request=request,
            expires_at=stale_at,
            reuse=timedelta(seconds=reuse_seconds),
        )
    return tenant
