"""Signed requests are accepted once: a signature seen again on the same request, or first seen on another
request longer ago than the reuse allowance, is a replay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callbot.credential import service as credential_service
from callbot.credential.replay import Replayed, remember
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models.enums import CredentialKind

from factories import make_account


async def test_a_signature_is_accepted_once_per_request(store: Store, clock: FrozenClock) -> None:
    account = await make_account(store)
    async with store.transaction() as tx:
        issued = await credential_service.create_credential(tx, account.tenant, CredentialKind.YIWISE)
    expires = clock.now() + timedelta(minutes=5)
    async with store.transaction() as tx:
        await remember(tx, issued.credential.id, "sig-1", expires_at=expires, request="GET /a")
    with pytest.raises(Replayed, match="already received"):
        async with store.transaction() as tx:
            await remember(tx, issued.credential.id, "sig-1", expires_at=expires, request="GET /a")
    # The same signature on another request within the allowance (a client sending a few at once) passes,
    # and later does not.
    async with store.transaction() as tx:
        await remember(
            tx, issued.credential.id, "sig-1", expires_at=expires, request="GET /b", reuse=timedelta(seconds=5)
        )
    clock.advance(seconds=10)
    with pytest.raises(Replayed, match="first used 10 s ago"):
        async with store.transaction() as tx:
            await remember(
                tx, issued.credential.id, "sig-1", expires_at=expires, request="GET /c", reuse=timedelta(seconds=5)
            )
