"""A Digelao client written only from the spec (§2, §3): its own md5 sign, PHP-style json_encode and `url`.

Deliberately independent of `callbot.api.dialects.digelao`, so the server is checked against the contract.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def php_json_encode(value: Any) -> str:
    """PHP json_encode with default flags: compact, `/` as `\\/`, non-ASCII as lowercase `\\uXXXX`."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def raw_json_encode(value: Any) -> str:
    """A JavaScript-style encoder: neither escape."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def url_of(params: dict[str, Any], encoder: Any = php_json_encode) -> str:
    return md5(encoder(params))[1:9]


class DigelaoClient:
    def __init__(self, http: httpx.AsyncClient, api_access_id: str, api_access_secret: str) -> None:
        self.http = http
        self.api_access_id = api_access_id
        self.api_access_secret = api_access_secret
        self.user_sn = ""
        self.api_key = ""

    async def login(self, timestamp: str) -> dict[str, Any]:
        body = {
            "api_access_id": self.api_access_id,
            "from": 1,
            "sign": md5(self.api_access_id + self.api_access_secret + timestamp),
            "timestamp": timestamp,
        }
        answer: dict[str, Any] = (await self.http.post("/api/login", json=body)).json()
        if answer.get("code") == 0:
            self.user_sn = answer["data"]["user_sn"]
            self.api_key = answer["data"]["api_key"]
        return answer

    def signed(self, params: dict[str, Any], encoder: Any = php_json_encode) -> dict[str, Any]:
        body = {"user_sn": self.user_sn, "api_key": self.api_key, **params}
        body["url"] = url_of(body, encoder)
        return body

    async def call(self, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a JSON body, the way the vendor's own client does."""
        body = self.signed(params or {})
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        response = await self.http.post(f"/api/{name}", content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def get(self, name: str, params: dict[str, str]) -> dict[str, Any]:
        """GET with query parameters (all strings), as the 9.1 example does."""
        response = await self.http.get(f"/api/{name}", params=self.signed(params))
        result: dict[str, Any] = response.json()
        return result
