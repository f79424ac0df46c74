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
from callbot.models import CallbackSettings

TIMEOUT_SECONDS = 10.0


def handshake_url(url: str, crypt: msgcrypt.MsgCrypt, echo: str, timestamp: str, nonce: str) -> str:
    encrypted = crypt.encrypt(echo)
    signature = crypt.sign(timestamp, nonce, encrypted)
    query = f"msg_signature={signature}&timestamp={timestamp}&nonce={nonce}&echostr={quote_plus(quote_plus(encrypted))}"
    return f"{url}{'&' if '?' in url else '?'}{query}"


async def verify_receiver(
    url: str, crypt: msgcrypt.MsgCrypt, *, timestamp: str, nonce: str, http: httpx.AsyncClient, field: str = "url"
) -> None:
    """Raises ValidationFailed on `field` unless the receiver at `url` answers the handshake."""
    echo = msgcrypt.random_text(16)
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


async def verify_settings(tx: Tx, settings: CallbackSettings, http: httpx.AsyncClient) -> None:
    """Handshake with each URL of encrypted (yiwise2023) settings; nothing to do for other dialects."""
    if settings.dialect != service.ENCRYPTED:
        return
    crypt = service.receiver_crypt(tx, settings)
    timestamp = str(int(tx.now().timestamp() * 1000))
    checked = set()
    for field, url in (("url", settings.url), ("task_url", settings.task_url)):
        if url and url not in checked:
            checked.add(url)
            nonce = str(secrets.randbelow(9 * 10**9) + 10**9)
            await verify_receiver(url, crypt, timestamp=timestamp, nonce=nonce, http=http, field=field)


HANDSHAKE_FIELDS = ("url", "task_url", "dialect", "token", "aes_key")


def needs_handshake(changes: service.CallbackChanges) -> bool:
    """A change of where or how encrypted callbacks go is verified again."""
    return any(getattr(changes, name) is not None for name in HANDSHAKE_FIELDS)
