"""The replay guard of the vendor dialects: a signed request is accepted once.

A vendor signature covers a timestamp but (Yiwise) not the request, or (a Digelao login) nothing a replay
could change. Each accepted use is recorded in the store, so every API process sharing it refuses a second
use; a record lives until its timestamp would be refused as stale anyway, and the expired records of a
credential are removed whenever it signs again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from callbot.errors import Unauthorized
from callbot.kit.db import Tx
from callbot.models import SeenSignature


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
    await tx.session.execute(
        delete(SeenSignature).where(SeenSignature.credential_id == credential_id, SeenSignature.expires_at < now)
    )
    dialect = (await tx.session.connection()).dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    # The primary key decides between concurrent uses on any number of processes: one insert wins.
    added = await tx.session.execute(
        insert(SeenSignature)
        .values(credential_id=credential_id, signature=signature, request=request, seen_at=now, expires_at=expires_at)
        .on_conflict_do_nothing()
    )
    if added.rowcount == 0:  # type: ignore[attr-defined]
        raise Replayed("this signed request was already received: sign every request with a new timestamp")
    first = await tx.session.scalar(
        select(func.min(SeenSignature.seen_at)).where(
            SeenSignature.credential_id == credential_id, SeenSignature.signature == signature
        )
    )
    if first is not None and now - first > reuse:
        raise Replayed(
            f"this signature was first used {int((now - first).total_seconds())} s ago on another request: "
            "sign every request with a new timestamp"
        )
