"""The replay guard of the vendor dialects: a signed request is accepted once.

A vendor signature covers a timestamp but (Yiwise) not the request, or (a Digelao login) nothing a replay
could change. Each accepted use is recorded in the store, so every API process sharing it refuses a second
use; a record lives until its timestamp would be refused as stale anyway, and the expired records of a
credential are removed whenever it signs again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from callbot.credential import repository
from callbot.errors import Unauthorized
from callbot.kit.db import Tx


class Replayed(Unauthorized):
    """This signed request was already received."""


async def remember(
    tx: Tx,
    credential_id: int,
    signature: str,
    *,
    expires_at: datetime,
    request: str = "",
    reuse: timedelta = timedelta(0),
) -> None:
    """Record one use of `signature` on `request` (a digest; "" for a signature that covers the request).

    Raises Replayed when this signature was already used on this request, or first used on another request
    more than `reuse` ago (a client that signs once and sends a few requests at once stays within it).
    """
    now = tx.now()
    await repository.forget_expired_signatures(tx, credential_id, now)
    if not await repository.add_signature(tx, credential_id, signature, request, now, expires_at):
        raise Replayed("this signed request was already received: sign every request with a new timestamp")
    first = await repository.first_seen(tx, credential_id, signature)
    if first is not None and now - first > reuse:
        raise Replayed(
            f"this signature was first used {int((now - first).total_seconds())} s ago on another request: "
            "sign every request with a new timestamp"
        )
