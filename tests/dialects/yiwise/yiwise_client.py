"""A Yiwise v1 client written from the spec alone (§1, §2): its own signing, camelCase headers as the 2018
demo sends them, JSON bodies. Reused by the end-to-end campaign test."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


def yiwise_signature(app_key: str, app_secret: str, tenant_sign: str, version: str, timestamp: str) -> str:
    """§2.2: SHA-256 over the tenant sign, then the five pairs in fixed order; lowercase hex."""
    plain = (
        f"{tenant_sign}appKey={app_key}&appSecret={app_secret}&tenantSign={tenant_sign}"
        f"&version={version}&timestamp={timestamp}"
    )
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


@dataclass
class YiwiseClient:
    http: httpx.AsyncClient
    app_key: str
    app_secret: str
    tenant_sign: str
    now_ms: Callable[[], int]
    prefix: str = "/apiOpen/v1"
    # Later (2021) clients send neither appSecret nor tenantSign.
    send_secret: bool = True
    extra_headers: dict[str, str] = field(default_factory=dict)
    # Requests signed so far: each gets its own millisecond, as on a real client's clock, even when the
    # test's clock stands still (a signature is accepted once per request).
    signed: int = 0

    def headers(self, timestamp: int | None = None) -> dict[str, str]:
        if timestamp is None:
            timestamp = self.now_ms() + self.signed
            self.signed += 1
        ts = str(timestamp)
        headers = {
            "Content-Type": "application/json;charset=UTF-8",
            "appKey": self.app_key,
            "version": "v1",
            "timestamp": ts,
            "signature": yiwise_signature(self.app_key, self.app_secret, self.tenant_sign, "v1", ts),
        }
        if self.send_secret:
            headers["appSecret"] = self.app_secret
            headers["tenantSign"] = self.tenant_sign
        headers.update(self.extra_headers)
        return headers

    async def get_raw(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"{self.prefix}/{path}", params=params, headers=self.headers())

    async def post_raw(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(f"{self.prefix}/{path}", json=body, headers=self.headers())

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = (await self.get_raw(path, **params)).json()
        return result

    async def post(self, path: str, body: Any) -> dict[str, Any]:
        result: dict[str, Any] = (await self.post_raw(path, body)).json()
        return result
