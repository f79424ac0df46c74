"""Digelao sessions stay small and cheap: thousands of logins leave no pile of dead keys, and a request reads
one session row however many logins came before it (counted in rows, not timed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event, func, select

from callbot.credential import service as credential_service
from callbot.credential import sessions
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import ApiSession
from callbot.models.enums import CredentialKind
from dialects.digelao.client import DigelaoClient
from dialects.digelao.conftest import make_digelao

NOW = "2026-11-20 10:00:00"
LOGINS = 2000


@contextmanager
def session_rows_read() -> Iterator[list[int]]:
    """Counts the api_sessions rows the ORM loads while the block runs."""
    loaded: list[int] = []

    def on_load(target: ApiSession, _context: Any) -> None:
        loaded.append(target.id)

    event.listen(ApiSession, "load", on_load)
    try:
        yield loaded
    finally:
        event.remove(ApiSession, "load", on_load)


async def _log_in_many_times(store: Store, access_id: str, *, single_session: bool) -> list[str]:
    async with store.transaction() as tx:
        tenant, credential, _secret = await credential_service.find_vendor_credential(
            tx, CredentialKind.DIGELAO, access_id
        )
        acting = await sessions.acting_for_credential(tx, tenant, credential)
        keys = []
        for _ in range(LOGINS):
            issued = await sessions.issue(tx, tenant, acting, credential=credential, single_session=single_session)
            keys.append(issued.api_key)
    return keys


async def _count_sessions(store: Store) -> int:
    async with store.transaction() as tx:
        return int(await tx.session.scalar(select(func.count()).select_from(ApiSession)) or 0)


async def test_thousands_of_logins_leave_one_key_and_a_request_reads_one_row(
    dclient: httpx.AsyncClient, store: Store
) -> None:
    d = await make_digelao(store)
    await _log_in_many_times(store, d.access_id, single_session=True)
    crm = DigelaoClient(dclient, d.access_id, d.secret)
    assert (await crm.login(NOW))["code"] == 0
    assert await _count_sessions(store) == 1  # superseded keys are removed, not kept revoked
    with session_rows_read() as read:
        assert (await crm.call("templatelist"))["code"] == 0
    assert len(read) == 1


async def test_with_several_live_keys_a_request_still_reads_one_row(store: Store) -> None:
    d = await make_digelao(store)
    keys = await _log_in_many_times(store, d.access_id, single_session=False)
    subject = d.main.sn
    for key in (keys[0], keys[LOGINS // 2], keys[-1]):
        with session_rows_read() as read:
            async with store.transaction() as tx:
                assert (await sessions.verify(tx, subject, key)).api_key == key
        assert len(read) == 1


async def test_a_login_removes_keys_expired_for_a_day(store: Store, clock: FrozenClock) -> None:
    d = await make_digelao(store)
    await _log_in_many_times(store, d.access_id, single_session=False)
    clock.advance(seconds=7200 + 86400 + 1)
    async with store.transaction() as tx:
        tenant, credential, _ = await credential_service.find_vendor_credential(tx, CredentialKind.DIGELAO, d.access_id)
        acting = await sessions.acting_for_credential(tx, tenant, credential)
        await sessions.issue(tx, tenant, acting, credential=credential, single_session=False)
    assert await _count_sessions(store) == 1
