"""HTTP Digest authentication for SIP (RFC 2617, RFC 7616 algorithms; RFC 3261 §22), client side, pure.

A 401 carries WWW-Authenticate, a 407 Proxy-Authenticate; the retried request carries Authorization
or Proxy-Authorization computed here. MD5, MD5-sess, SHA-256 and SHA-256-sess; qop "auth" (or none,
the RFC 2069 form many trunks still send).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

__all__ = ["Challenge", "DigestCredentials", "authorization"]

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    username: str
    password: str
    realm: str | None = None  # None: answer whatever realm the challenge names


@dataclass(frozen=True, slots=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, header: str) -> Challenge:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "digest":
            raise ValueError(f"not a Digest challenge: {header[:40]!r}")
        params = _parse_auth_params(rest)
        if "nonce" not in params or "realm" not in params:
            raise ValueError("Digest challenge without realm or nonce")
        algorithm = params.get("algorithm", "MD5").upper()
        if algorithm.removesuffix("-SESS") not in _HASHES:
            raise ValueError(f"unsupported Digest algorithm {algorithm}")
        qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
        return cls(
            realm=params["realm"],
            nonce=params["nonce"],
            algorithm=algorithm,
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
        )


def _parse_auth_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    i = 0
    n = len(text)
    while i < n:
        while i < n and text[i] in " ,\t":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        name = text[i:eq].strip().lower()
        i = eq + 1
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise ValueError("Digest challenge with an unterminated quoted value")
            value = text[i + 1 : end]
            i = end + 1
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            value = text[i:end].strip()
            i = end
        params[name] = value
    return params


def authorization(
    challenge: Challenge,
    credentials: DigestCredentials,
    method: str,
    uri: str,
    *,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The Authorization / Proxy-Authorization value answering `challenge` for `method` on `uri`."""
    algorithm = challenge.algorithm
    digest = _HASHES[algorithm.removesuffix("-SESS")]

    def h(text: str) -> str:
        return digest(text.encode()).hexdigest()

    cnonce = cnonce or secrets.token_hex(8)
    ha1 = h(f"{credentials.username}:{challenge.realm}:{credentials.password}")
    if algorithm.endswith("-SESS"):
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    qop = "auth" if "auth" in challenge.qop else None
    if qop:
        response = h(f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")
    else:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}")
    parts = [
        f'username="{credentials.username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        f"algorithm={algorithm}",
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc:08x}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)
