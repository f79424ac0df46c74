"""Imports that users can trust: every rejected row named with its reason, no accepted row ever lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import select

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.cli.customer import import_file
from callbot.customer import service as customer_service
from callbot.customer.reader import CustomerFile, detect_encoding
from callbot.customer.service import CustomerImporter, PreparedBatch
from callbot.kit.db import Store, Tx
from callbot.models import OutboxEvent
from callbot.models.enums import ImportStatus, TaskStatus
from callbot.task import service as task_service

from factories import Account, api_task, make_account


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store)


async def test_api_import_reports_each_rejected_row(client: httpx.AsyncClient, account: Account) -> None:
    task = await api_task(client, account)
    await client.post("/api/v1/dnc", json={"phone": "13700000000", "reason": "投诉"}, headers=account.headers)
    customers = [
        {"name": "王先生", "phone": "13900001234", "properties": {"amount": "3200"}},
        {"name": "李女士", "phone": "1390000", "properties": {"amount": "100"}},  # bad number
        {"name": "王先生", "phone": "139-0000-1234", "properties": {"amount": "3200"}},  # duplicate once normalised
        {"name": "赵先生", "phone": "13700000000", "properties": {"amount": "50"}},  # DNC
        {"name": "钱女士", "phone": "13600000000", "properties": {}},  # script needs {amount}
        {"name": "孙先生", "phone": "0571-88880002", "properties": {"amount": 800}},
    ]
    response = await client.post(
        f"/api/v1/tasks/{task['id']}/customers", json={"customers": customers}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["total"], report["accepted"], report["rejected"]) == (6, 2, 4)
    assert report["counts"] == {"invalid_phone": 1, "duplicate": 1, "dnc": 1, "missing_variable": 1}
    assert [(r["row"], r["reason"]) for r in report["rejections"]] == [
        (2, "invalid_phone"),
        (3, "duplicate"),
        (4, "dnc"),
        (5, "missing_variable"),
    ]
    assert "amount" in report["rejections"][3]["message"]
    listed = (await client.get(f"/api/v1/tasks/{task['id']}/customers", headers=account.headers)).json()
    assert [(c["phone"], c["carrier"], c["status"]) for c in listed["items"]] == [
        ("13900001234", "中国移动", "PENDING"),
        ("057188880002", "", "PENDING"),
    ]
    assert listed["items"][1]["region"] == "浙江省杭州市"
    assert listed["items"][1]["properties"] == {"amount": "800"}
    detail = (await client.get(f"/api/v1/tasks/{task['id']}", headers=account.headers)).json()
    assert detail["customer_count"] == 2
    imported = (await client.get(f"/api/v1/imports/{report['import_id']}", headers=account.headers)).json()
    assert imported["status"] == "FINISHED" and imported["rejected"] == 4
    rows = (await client.get(f"/api/v1/imports/{report['import_id']}/rejections", headers=account.headers)).json()
    assert rows["total"] == 4


async def test_a_second_import_rejects_numbers_already_in_the_task(client: httpx.AsyncClient, account: Account) -> None:
    task = await api_task(client, account)
    body = {"customers": [{"name": "王先生", "phone": "13900001234", "properties": {"amount": "1"}}]}
    first = await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)
    second = await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)
    assert first.json()["accepted"] == 1
    assert second.json()["accepted"] == 0 and second.json()["counts"] == {"duplicate": 1}


async def test_api_import_is_capped_at_ten_thousand_rows(client: httpx.AsyncClient, account: Account) -> None:
    task = await api_task(client, account)
    body = {"customers": [{"phone": f"139{i:08d}", "properties": {"amount": "1"}} for i in range(10_001)]}
    response = await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "customers"


async def test_import_into_a_terminated_task_is_refused(client: httpx.AsyncClient, account: Account) -> None:
    task = await api_task(client, account)
    await client.post(f"/api/v1/tasks/{task['id']}/stop", headers=account.headers)
    body = {"customers": [{"name": "王先生", "phone": "13900001234", "properties": {"amount": "1"}}]}
    response = await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)
    assert response.status_code == 409 and response.json()["error"]["state"] == "TERMINATE"


async def test_import_reopens_a_completed_task(client: httpx.AsyncClient, store: Store, account: Account) -> None:
    task = await api_task(client, account)
    await client.post(f"/api/v1/tasks/{task['id']}/start", headers=account.headers)
    async with store.transaction() as tx:
        row = await task_service.get_task(tx, account.tenant, int(task["id"]))
        assert task_service.system_move(row, TaskStatus.COMPLETED, tx.now())
    body = {"customers": [{"name": "王先生", "phone": "13900001234", "properties": {"amount": "1"}}]}
    await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)
    reopened = (await client.get(f"/api/v1/tasks/{task['id']}", headers=account.headers)).json()
    assert reopened["status"] == "RUNNABLE"


CSV_TEXT = (
    "姓名,手机号,amount,备注\n王先生,13900001234,3200,老客户\n李女士,abc,100,\n,13900001234,1,\n张三,13800138000,88,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
async def test_csv_files_in_every_common_encoding(
    tmp_path: Path, store: Store, account: Account, encoding: str, client: httpx.AsyncClient
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CSV_TEXT, encoding=encoding)
    assert detect_encoding(path) == encoding
    task = await api_task(client, account)
    report = await import_file(store, account.tenant.name, int(task["id"]), path, progress=False)
    assert (report.accepted, report.rejected) == (2, 2)
    assert [(r.row, r.reason) for r in report.rejections] == [(2, "invalid_phone"), (3, "duplicate")]
    customers = (await client.get(f"/api/v1/tasks/{task['id']}/customers", headers=account.headers)).json()["items"]
    assert customers[0]["name"] == "王先生"
    assert customers[0]["properties"] == {"amount": "3200", "备注": "老客户"}


async def test_xlsx_files_with_numeric_phone_cells(
    tmp_path: Path, store: Store, account: Account, client: httpx.AsyncClient
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "phone", "amount"])
    sheet.append(["王先生", 13900001234, 3200])
    sheet.append(["李女士", "0571-88880001", 99.5])
    sheet.append(["坏号码", 12345, 1])
    path = tmp_path / "customers.xlsx"
    book.save(path)
    task = await api_task(client, account)
    report = await import_file(store, account.tenant.name, int(task["id"]), path, progress=False)
    assert (report.accepted, report.rejected) == (2, 1)
    customers = (await client.get(f"/api/v1/tasks/{task['id']}/customers", headers=account.headers)).json()["items"]
    assert [c["phone"] for c in customers] == ["13900001234", "057188880001"]
    assert customers[0]["properties"] == {"amount": "3200"}


def test_a_file_without_a_phone_column_is_refused_with_its_header(tmp_path: Path) -> None:
    from callbot.errors import ValidationFailed

    path = tmp_path / "bad.csv"
    path.write_text("姓名,地址\n王先生,杭州\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        list(CustomerFile(path))
    assert "no phone column" in caught.value.message
    assert "姓名" in caught.value.problems[0][1]


async def test_accepted_batches_survive_a_failure_later_in_the_file(
    tmp_path: Path, store: Store, account: Account, client: httpx.AsyncClient
) -> None:
    """A crash mid-import keeps every committed batch; importing the file again adds only the rest."""
    from callbot.cli import customer as cli_customer

    path = tmp_path / "big.csv"
    lines = ["name,phone,amount"] + [f"客户{i},139{i:08d},1" for i in range(50)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = await api_task(client, account)
    task_id = int(task["id"])

    original = cli_customer.BATCH
    calls = {"n": 0}
    real_write = customer_service.CustomerImporter.write

    async def failing_write(self: customer_service.CustomerImporter, tx: object, batch: object) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk went away")
        return await real_write(self, tx, batch)  # type: ignore[arg-type]

    cli_customer.BATCH = 20
    customer_service.CustomerImporter.write = failing_write  # type: ignore[method-assign]
    try:
        with pytest.raises(OSError):
            await import_file(store, account.tenant.name, task_id, path, progress=False)
    finally:
        customer_service.CustomerImporter.write = real_write  # type: ignore[method-assign]
    kept = (await client.get(f"/api/v1/tasks/{task_id}/customers", headers=account.headers)).json()
    assert kept["total"] == 40  # two batches of 20 were committed before the failure
    report = await import_file(store, account.tenant.name, task_id, path, progress=False)
    cli_customer.BATCH = original
    assert (report.accepted, report.counts) == (10, {"duplicate": 40})
    final = (await client.get(f"/api/v1/tasks/{task_id}", headers=account.headers)).json()
    assert final["customer_count"] == 50


async def test_a_name_longer_than_the_store_keeps_is_rejected_not_truncated(
    client: httpx.AsyncClient, account: Account
) -> None:
    task = await api_task(client, account)
    body = {
        "customers": [
            {"name": "王" * 101, "phone": "13900001234", "properties": {"amount": "1"}},
            {"name": "王先生", "phone": "13900001235", "properties": {"amount": "1"}},
        ]
    }
    report = (await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)).json()
    assert (report["accepted"], report["counts"]) == (1, {"invalid_name": 1})
    assert "101 characters" in report["rejections"][0]["message"]


async def test_concurrent_imports_into_one_task_report_each_others_rows_as_duplicates(
    client: httpx.AsyncClient, account: Account
) -> None:
    task = await api_task(client, account)

    async def post(numbers: range) -> httpx.Response:
        body = {"customers": [{"name": "客户", "phone": f"139{i:08d}", "properties": {"amount": "1"}} for i in numbers]}
        return await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)

    answers = await asyncio.gather(post(range(0, 300)), post(range(150, 450)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    reports = sorted((a.json() for a in answers), key=lambda r: r["accepted"])
    assert [(r["accepted"], r["counts"]) for r in reports] == [(150, {"duplicate": 150}), (300, {})]
    detail = (await client.get(f"/api/v1/tasks/{task['id']}", headers=account.headers)).json()
    assert detail["customer_count"] == 450


async def test_a_file_import_whose_batch_fails_is_marked_failed_and_announced(
    tmp_path: Path, store: Store, account: Account, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callbot.cli import customer as cli_customer

    path = tmp_path / "big.csv"
    lines = ["name,phone,amount"] + [f"客户{i},139{i:08d},1" for i in range(50)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = await api_task(client, account)
    task_id = int(task["id"])
    async with store.transaction() as tx:
        changes = callback_service.CallbackChanges(task_url="https://crm.example.com/import", dialect="digelao")
        await callback_service.update_settings(tx, account.tenant, changes)
    real_write = CustomerImporter.write
    batches = {"n": 0}

    async def write_failing_the_second_batch(self: CustomerImporter, tx: Tx, batch: PreparedBatch) -> int:
        batches["n"] += 1
        if batches["n"] == 2:
            raise OSError("disk went away")
        return await real_write(self, tx, batch)

    monkeypatch.setattr(cli_customer, "BATCH", 20)
    monkeypatch.setattr(CustomerImporter, "write", write_failing_the_second_batch)
    with pytest.raises(OSError):
        await import_file(store, account.tenant.name, task_id, path, progress=False)
    async with store.transaction() as tx:
        row = await customer_service.latest_import(tx, account.tenant, task_id)
        assert row is not None
        assert (row.status, row.accepted, row.error) == (ImportStatus.FAILED, 20, "OSError: disk went away")
        event = await tx.session.scalar(select(OutboxEvent).where(OutboxEvent.kind == outbox.IMPORT_FINISHED))
        assert event is not None and event.subject == {"import_id": row.id, "task_id": task_id}
