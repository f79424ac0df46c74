"""Recordings served: the native API (tenant-scoped, both parts), signed expiring links for the dialects
(Yiwise tokens, Digelao record and fragment links), and the retention that deletes old files."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from callbot.api.dialects.digelao import mapping as digelao
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.app import create_app
from callbot.kit.db import Store
from callbot.kit.secrets import random_hex
from callbot.models import CallRecord
from callbot.models.enums import CallResult
from callbot.record import recordings

from factories import Account, make_account, make_task


def _wav(path: Path, seconds: float, level: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(np.full(int(seconds * 8000), level, dtype="<i2").tobytes())


async def _recorded_call(store: Store, account: Account, folder: Path, *, days_ago: float = 0) -> CallRecord:
    task_id = await make_task(store, account)
    _wav(folder / "2026-12-08" / "call.wav", 4.0, 1000)
    _wav(folder / "2026-12-08" / "call.customer.wav", 4.0, 500)
    async with store.transaction() as tx:
        started = tx.now() - timedelta(days=days_ago)
        record = CallRecord(
            tenant_id=account.tenant.id,
            task_id=task_id,
            customer_id=1,
            sn=random_hex(32),
            phone="13800138000",
            result=CallResult.ANSWERED,
            started_at=started,
            answered_at=started,
            ended_at=started + timedelta(seconds=4),
            chat_seconds=4,
            transcript=[
                {"speaker": "ROBOT", "text": "您好", "node": "a", "intent": None, "offset_ms": 0},
                {"speaker": "PERSON", "text": "你好", "node": "a", "intent": None, "offset_ms": 1500},
            ],
            recording_path="2026-12-08/call.wav",
            customer_recording_path="2026-12-08/call.customer.wav",
            created_at=started,
        )
        tx.session.add(record)
        await tx.session.flush()
    return record


@pytest.fixture
async def served(store: Store, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, public_url="https://ai.example.com", recordings_dir=tmp_path / "recordings")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callbot.test") as http:
        yield http


def _seconds(body: bytes) -> float:
    with wave.open(io.BytesIO(body), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


async def test_the_native_api_serves_both_parts_to_the_calls_tenant_only(
    store: Store, served: httpx.AsyncClient, tmp_path: Path
) -> None:
    account = await make_account(store)
    other = await make_account(store, "另一家公司")
    record = await _recorded_call(store, account, tmp_path / "recordings")
    url = f"/api/v1/records/{record.id}/recording"
    full = await served.get(url, headers=account.headers)
    assert full.status_code == 200 and full.headers["content-type"] == "audio/wav"
    assert _seconds(full.content) == 4.0
    customer = await served.get(url, params={"part": "customer"}, headers=account.headers)
    assert customer.status_code == 200 and customer.content != full.content
    assert (await served.get(url, headers=other.headers)).status_code == 404
    assert (await served.get(url, params={"part": "robot"}, headers=account.headers)).status_code == 422
    shown = (await served.get(f"/api/v1/records/{record.id}", headers=account.headers)).json()
    assert shown["recording_path"] == "2026-12-08/call.wav" and shown["direction"] == "outbound"


async def test_a_path_outside_the_recordings_folder_is_never_served(
    store: Store, served: httpx.AsyncClient, tmp_path: Path
) -> None:
    account = await make_account(store)
    record = await _recorded_call(store, account, tmp_path / "recordings")
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    async with store.transaction() as tx:
        row = await tx.session.get(CallRecord, record.id)
        assert row is not None
        row.recording_path = "../secret.wav"
    response = await served.get(f"/api/v1/records/{record.id}/recording", headers=account.headers)
    assert response.status_code == 404


async def test_signed_links_work_until_they_expire_and_cannot_be_forged(
    store: Store, served: httpx.AsyncClient, tmp_path: Path
) -> None:
    account = await make_account(store)
    record = await _recorded_call(store, account, tmp_path / "recordings")
    key = store.secrets.derive("recordings")
    token = recordings.yiwise_token(key, record.id, "customer")
    ok = await served.get(f"/r/{record.id}/customer.wav", params={"t": token})
    assert ok.status_code == 200 and _seconds(ok.content) == 4.0
    expired = recordings.yiwise_token(key, record.id, "customer", now=time.time() - recordings.LINK_TTL_S - 5)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    other_part = await served.get(f"/r/{record.id}/full.wav", params={"t": token})  # signed for customer
    for bad in (expired, forged, "", "garbage"):
        assert (await served.get(f"/r/{record.id}/customer.wav", params={"t": bad})).status_code == 403
    assert other_part.status_code == 403

    options = DigelaoOptions(public_url="https://ai.example.com", recording_key=key)
    expires = int(time.time()) + 600
    link = digelao.recording_url(options, record.sn, expires).removeprefix("https://ai.example.com")
    full = await served.get(link)
    assert full.status_code == 200 and _seconds(full.content) == 4.0
    # cdrFragmentDownload's fragment 1 is the customer's reply, from 1.5 s to the end (4 s).
    fragment = await served.get(digelao.recording_url(options, record.sn, expires, 1).removeprefix(options.public_url))
    assert fragment.status_code == 200 and _seconds(fragment.content) == 2.5
    late = digelao.recording_url(options, record.sn, int(time.time()) - 1).removeprefix(options.public_url)
    assert (await served.get(late)).status_code == 403


async def test_retention_deletes_old_files_and_the_record_says_so(
    store: Store, served: httpx.AsyncClient, tmp_path: Path
) -> None:
    account = await make_account(store)
    folder = tmp_path / "recordings"
    old = await _recorded_call(store, account, folder, days_ago=40)
    async with store.transaction() as tx:
        assert await recordings.delete_expired(tx, folder, 30) == 1
        assert await recordings.delete_expired(tx, folder, 0) == 0  # 0 keeps recordings for ever
    assert not (folder / "2026-12-08" / "call.wav").exists()
    assert not (folder / "2026-12-08" / "call.customer.wav").exists()
    async with store.transaction() as tx:
        row = await tx.session.get(CallRecord, old.id)
        assert row is not None
        assert row.recording_path == "" and row.recording_deleted_at is not None
    response = await served.get(f"/api/v1/records/{old.id}/recording", headers=account.headers)
    assert response.status_code == 404 and "recording retention" in response.text
