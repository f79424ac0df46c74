"""The verification handshake of Yiwise's 2023 encrypted callbacks (the public callbackdemo's `VerifyURL`).

Before a receiver gets encrypted callbacks, callbot GETs its URL with `msg_signature`, `timestamp`, `nonce`
and `echostr` (a random text, encrypted); the receiver proves it holds the token and AES key by answering
the plain text. The demo's receiver URL-decodes `echostr` once more after its framework did, because the
demo's sender encodes it twice (its HTTP client re-encodes the URL): callbot sends it the same way.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote_plus

import httpx

from callbot.callback import service
from callbot.errors import ValidationFailed
from callbot.kit import msgcrypt
from callbot.kit.db import Tx
from callbot.kit.egress import EgressPolicy, ForbiddenDestination
from callbot.models import Tenant

TIMEOUT_SECONDS = 10.0


def handshake_url(url: str, crypt: msgcrypt.MsgCrypt, echo: str, timestamp: str, nonce: str) -> str:
    encrypted = crypt.encrypt(echo)
    signature = crypt.sign(timestamp, nonce, encrypted)
    query = f"msg_signature={signature}&timestamp={timestamp}&nonce={nonce}&echostr={quote_plus(quote_plus(encrypted))}"
    return f"{url}{'&' if '?' in url else '?'}{query}"


async def verify_receiver(
    url: str,
    crypt: msgcrypt.MsgCrypt,
    *,
    timestamp: str,
    nonce: str,
    http: httpx.AsyncClient,
    egress: EgressPolicy,
    field: str = "url",
) -> None:
    """Raises ValidationFailed on `field` unless the receiver at `url` answers the handshake. The request
    goes only where a callback may (the egress policy, checked on the addresses the host resolves to)."""
    echo = msgcrypt.random_text(16)
    try:
        await egress.check_resolved(url)
    except ForbiddenDestination as exc:
        raise ValidationFailed("the callback URL is not allowed", [(field, str(exc))]) from None
    try:
        response = await http.get(handshake_url(url, crypt, echo, timestamp, nonce), timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        problem = f"the receiver could not be reached: {type(exc).__name__}: {exc}"[:300]
    else:
        answer = response.text.strip()
        if response.status_code == 200 and answer == echo:
            return
        problem = (
            f"the receiver answered HTTP {response.status_code} {answer[:80]!r}, not the decrypted echostr: "
            "check its token and AES key"
        )
    raise ValidationFailed("the callback receiver failed the yiwise2023 verification handshake", [(field, problem)])


async def verify_changes(tx: Tx, tenant: Tenant, changes: service.CallbackChanges, http: httpx.AsyncClient) -> None:
    """Before `changes` are saved: when they leave the tenant's callbacks encrypted (yiwise2023) and touch
    where or how, handshake with each URL. Runs before anything is written, so no write lock is held while
    waiting for a receiver. Invalid values are left for `service.update_settings` to name."""
    if not any(getattr(changes, name) is not None for name in HANDSHAKE_FIELDS):
        return
    current = await service.find_settings(tx, tenant)

    def effective(name: str, default: str = "") -> str:
        value = getattr(changes, name)
        if value is not None:
            return str(value).strip()
        return str(getattr(current, name)) if current is not None else default

    if effective("dialect", "native") != service.ENCRYPTED:
        return
    key = changes.aes_key
    if key is None:
        key = tx.secrets.decrypt(current.aes_key_encrypted) if current is not None and current.aes_key_encrypted else ""
    token = effective("token")
    try:
        crypt = msgcrypt.MsgCrypt(token, key)
    except msgcrypt.MsgCryptError:
        return
    if not service.valid_token(token):
        return
    timestamp = str(int(tx.now().timestamp() * 1000))
    checked = set()
    for field in ("url", "task_url"):
        url = service.check_url(tx, effective(field), field)
        if url and url not in checked:
            checked.add(url)
            nonce = str(secrets.randbelow(9 * 10**9) + 10**9)
            await verify_receiver(
                url, crypt, timestamp=timestamp, nonce=nonce, http=http, egress=tx.egress, field=field
            )


HANDSHAKE_FIELDS = ("url", "task_url", "dialect", "token", "aes_key")
