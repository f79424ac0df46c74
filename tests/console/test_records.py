"""Call records in the console: filters, keyset paging, the transcript as a chat, manual grading, the
recording (confined to the recordings folder), export to XLSX and CSV with formula cells neutralised."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import insert

from callbot.kit.db import Store
from callbot.models import CallRecord, Customer
from callbot.models.enums import CallResult, CustomerStatus, Level, Role
from callbot.record import service as record_service

from console_client import Login
from factories import Account, make_account, make_task

TRANSCRIPT = [
    {"speaker": "ROBOT", "text": "您好，您的账单可以办理分期", "node": "opening", "kind": "prompt"},
    {"speaker": "PERSON", "text": "<b>好的</b>，可以", "node": "opening", "kind": "speech", "intent": "affirm",
     "evidence": "好的"},
]  # fmt: skip


async def add_records(store: Store, account: Account, task_id: int, count: int, **fields: object) -> list[int]:
    """`count` answered records, one customer each; names 客户0..N, level A for even, C for odd."""
    ids = []
    async with store.transaction() as tx:
        now = tx.now()
        for i in range(count):
            customer = {
                "tenant_id": account.tenant.id, "task_id": task_id, "name": f"客户{i}", "phone": f"1380000{i:04d}",
                "properties": {}, "carrier": "", "region": "", "status": CustomerStatus.FINISHED, "attempts": 1,
                "created_at": now,
            }  # fmt: skip
            customer_id = (await tx.session.execute(insert(Customer).returning(Customer.id), [customer])).scalar_one()
            row = {
                "tenant_id": account.tenant.id, "task_id": task_id, "customer_id": customer_id,
                "sn": f"{task_id:08d}{i:024d}", "phone": f"1380000{i:04d}", "result": CallResult.ANSWERED,
                "started_at": now, "created_at": now, "level": Level.A if i % 2 == 0 else Level.C, "rounds": 2,
                "chat_seconds": 30, "reason": "客户同意办理", "transcript": TRANSCRIPT, **fields,
            }  # fmt: skip
            ids.append((await tx.session.execute(insert(CallRecord).returning(CallRecord.id), [row])).scalar_one())
    return ids


async def test_filter_and_page_through_records(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.VIEWER)
    task_id = await make_task(store, account)
    ids = await add_records(store, account, task_id, 45)
    first = await client.get("/records")
    assert first.status_code == 200
    shown = [int(i) for i in re.findall(r'<td><a href="/records/(\d+)">\1</a></td>', first.text)]
    assert shown == sorted(ids, reverse=True)[:20]
    seen = list(shown)
    page = first
    while (link := re.search(r'id="next-page" href="([^"]+)"', page.text)) is not None:
        page = await client.get(link.group(1).replace("&amp;", "&"))
        seen += [int(i) for i in re.findall(r'<td><a href="/records/(\d+)">\1</a></td>', page.text)]
    assert seen == sorted(ids, reverse=True)
    only_a = await client.get("/records", params={"level": "A", "task_id": str(task_id)})
    assert len(re.findall(r'<td><a href="/records/(\d+)">\1</a></td>', only_a.text)) == 20
    by_name = await client.get("/records", params={"search": "客户7"})
    assert re.findall(r'<td><a href="/records/\d+">(\d+)</a></td>', by_name.text) != []
    assert "13800000007" in by_name.text and "13800000008" not in by_name.text
    bad = await client.get("/records", params={"date_from": "2026-13-01", "level": "Z"})
    assert bad.status_code == 422 and 'id="error-date_from"' in bad.text and 'id="error-level"' in bad.text


async def test_inbound_calls_are_filtered_apart(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.VIEWER)
    task_id = await make_task(store, account)
    outbound = await add_records(store, account, task_id, 2)
    inbound_task = await make_task(store, account)
    inbound = await add_records(store, account, inbound_task, 1, direction="inbound")
    page = await client.get("/records", params={"direction": "inbound"})
    shown = [int(i) for i in re.findall(r'<td><a href="/records/(\d+)">\1</a></td>', page.text)]
    assert shown == inbound
    page = await client.get("/records", params={"direction": "outbound"})
    shown = [int(i) for i in re.findall(r'<td><a href="/records/(\d+)">\1</a></td>', page.text)]
    assert shown == sorted(outbound, reverse=True)
    bad = await client.get("/records", params={"direction": "sideways"})
    assert bad.status_code == 422 and 'id="error-direction"' in bad.text


async def test_the_transcript_reads_as_a_chat_escaped(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    task_id = await make_task(store, account)
    (record_id,) = await add_records(store, account, task_id, 1)
    page = await client.get(f"/records/{record_id}")
    assert page.status_code == 200
    assert "节点 opening · 意图 affirm · 依据「好的」" in page.text
    assert "&lt;b&gt;好的&lt;/b&gt;" in page.text and "<b>好的</b>" not in page.text
    assert "客户同意办理" in page.text and "<audio" not in page.text
    async with store.transaction() as tx:
        assert (await record_service.get_record(tx, account.tenant, record_id)).read


async def test_manual_grading_and_who_may_do_it(store: Store, account: Account, login: Login) -> None:
    task_id = await make_task(store, account)
    (record_id,) = await add_records(store, account, task_id, 1)
    viewer = await login(Role.VIEWER)
    assert (await viewer.submit(f"/records/{record_id}/grade", {"manual_level": "B"})).status_code == 403
    operator = await login(Role.OPERATOR)
    assert (await operator.submit(f"/records/{record_id}/grade", {"manual_level": "B"})).status_code == 303
    assert (await operator.submit(f"/records/{record_id}/grade", {"manual_level": "X"})).status_code == 422
    async with store.transaction() as tx:
        assert (await record_service.get_record(tx, account.tenant, record_id)).manual_level is Level.B
    assert (await operator.post(f"/records/{record_id}/grade", data={"manual_level": "D"})).status_code == 403


async def test_another_tenants_record_is_not_found(store: Store, account: Account, login: Login) -> None:
    task_id = await make_task(store, account)
    (record_id,) = await add_records(store, account, task_id, 1, recording_path="a.wav")
    stranger = await login(Role.ADMIN, tenant_account=await make_account(store, "另一家公司"))
    assert (await stranger.get(f"/records/{record_id}")).status_code == 404
    assert (await stranger.get(f"/records/{record_id}/recording")).status_code == 404
    assert (await stranger.submit(f"/records/{record_id}/grade", {"manual_level": "A"})).status_code == 404
    assert f'href="/records/{record_id}"' not in (await stranger.get("/records")).text


async def test_the_recording_plays_from_inside_the_recordings_folder_only(
    store: Store, account: Account, login: Login, recordings_dir: Path
) -> None:
    (recordings_dir / "2026").mkdir()
    (recordings_dir / "2026" / "call.wav").write_bytes(b"RIFF....WAVEfmt ")
    (recordings_dir.parent / "secret.wav").write_bytes(b"not yours")
    task_id = await make_task(store, account)
    good, outside, missing = [
        (await add_records(store, account, t, 1, recording_path=path))[0]
        for t, path in [
            (task_id, "2026/call.wav"),
            (await make_task(store, account), "../secret.wav"),
            (await make_task(store, account), "2026/none.wav"),
        ]
    ]
    client = await login(Role.VIEWER)
    page = await client.get(f"/records/{good}")
    assert f'<audio id="recording" controls preload="none" src="/records/{good}/recording">' in page.text
    audio = await client.get(f"/records/{good}/recording")
    assert audio.status_code == 200 and audio.content.startswith(b"RIFF")
    assert audio.headers["content-type"] == "audio/wav"
    assert (await client.get(f"/records/{outside}/recording")).status_code == 404
    assert (await client.get(f"/records/{missing}/recording")).status_code == 404


async def test_export_the_filtered_records(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.VIEWER)
    task_id = await make_task(store, account)
    await add_records(store, account, task_id, 5, reason='=HYPERLINK("http://x")')
    xlsx = await client.get("/records/export.xlsx", params={"level": "A"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "记录ID" and len(rows) == 4  # header + the three A records
    assert {r[4] for r in rows[1:]} == {"A"}
    assert all(str(r[9]).startswith("'=") for r in rows[1:])
    text = (await client.get("/records/export.csv")).content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == 6 and table[1][9].startswith("'=")
    assert (await client.get("/records/export.pdf")).status_code == 422
