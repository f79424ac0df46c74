"""Damaged customer files: nothing accepted is silently damaged, and every problem is reported by row number.

A file is read in one encoding decided on all of it; a row that does not decode, that a stray quote breaks or
that holds values under no named column is rejected with its row number, and the rows around it go in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from callbot.cli.customer import import_file
from callbot.customer.reader import (
    EXTRA_COLUMNS,
    INVALID_ENCODING,
    MALFORMED_ROW,
    CustomerFile,
    SourceRow,
    detect_encoding,
    rows_from_text,
)
from callbot.errors import ValidationFailed
from callbot.kit.db import Store
from callbot.models import Customer

from factories import Account, make_account, make_task

SURNAMES = "王李张刘陈杨黄赵吴周"


def customer_line(i: int) -> str:
    return f"{SURNAMES[i % 10]}客户{i},139{i:08d},{100 + i}"


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store)


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_a_utf8_file_with_one_gbk_row_stays_utf8_and_names_that_row(tmp_path: Path) -> None:
    lines = ["姓名,手机号,amount".encode()] + [customer_line(i).encode() for i in range(1, 1001)]
    lines[500] = customer_line(500).encode("gbk")
    path = write_lines(tmp_path / "mixed.csv", lines)
    assert detect_encoding(path) == "utf-8"
    rows = list(CustomerFile(path))
    assert len(rows) == 1000
    assert [r.name for r in rows if r.problem is None] == [
        f"{SURNAMES[i % 10]}客户{i}" for i in range(1, 1001) if i != 500
    ]
    bad = rows[499]
    assert (bad.row, bad.phone, bad.problem is not None and bad.problem.reason) == (
        500,
        "13900000500",
        INVALID_ENCODING,
    )
    assert bad.problem is not None and "姓名" in bad.problem.message and "UTF-8" in bad.problem.message


def test_a_gbk_file_is_read_as_gb18030_even_where_a_row_happens_to_be_valid_utf8(tmp_path: Path) -> None:
    lines = ["姓名,手机号,amount".encode("gbk")] + [customer_line(i).encode("gbk") for i in range(1, 51)]
    lines[7] = "浣犲ソ,13900000007,1".encode("gbk")  # its GBK bytes are UTF-8 too (你好)
    assert lines[7].decode("utf-8") == "你好,13900000007,1"
    path = write_lines(tmp_path / "gbk.csv", lines)
    assert detect_encoding(path) == "gb18030"
    rows = list(CustomerFile(path))
    assert rows[6].name == "浣犲ソ" and all(r.problem is None for r in rows)
    assert rows[0].name == "李客户1"


async def test_a_byte_no_encoding_decodes_costs_its_row_only(tmp_path: Path, store: Store, account: Account) -> None:
    """A GBK file with one byte GB18030 cannot decode, late in the file: no traceback, the row is named, and
    every stored name is right."""
    lines = ["姓名,手机号,amount".encode("gbk")] + [customer_line(i).encode("gbk") for i in range(1, 201)]
    lines[150] = lines[150].replace(b",", b"\xff,", 1)
    path = write_lines(tmp_path / "gbk.csv", lines)
    task_id = await make_task(store, account)
    report = await import_file(store, account.tenant.name, task_id, path, progress=False)
    assert (report.total, report.accepted, report.rejected) == (200, 199, 1)
    [rejected] = report.rejections
    assert (rejected.row, rejected.reason, rejected.phone) == (150, INVALID_ENCODING, "13900000150")
    assert "FF" in rejected.message
    async with store.transaction() as tx:
        names = set(await tx.session.scalars(select(Customer.name).where(Customer.task_id == task_id)))
    assert names == {f"{SURNAMES[i % 10]}客户{i}" for i in range(1, 201) if i != 150}


async def test_a_utf8_import_with_one_gbk_row_stores_no_garbled_name(
    tmp_path: Path, store: Store, account: Account
) -> None:
    lines = ["姓名,手机号,amount".encode()] + [customer_line(i).encode() for i in range(1, 101)]
    lines[42] = customer_line(42).encode("gbk")
    path = write_lines(tmp_path / "mixed.csv", lines)
    task_id = await make_task(store, account)
    report = await import_file(store, account.tenant.name, task_id, path, progress=False)
    assert (report.accepted, report.counts) == (99, {INVALID_ENCODING: 1})
    assert report.rejections[0].row == 42
    async with store.transaction() as tx:
        names = set(await tx.session.scalars(select(Customer.name).where(Customer.task_id == task_id)))
    assert names == {f"{SURNAMES[i % 10]}客户{i}" for i in range(1, 101) if i != 42}


async def test_an_unbalanced_quote_costs_one_row_not_the_rest_of_the_file(
    tmp_path: Path, store: Store, account: Account
) -> None:
    lines = ["姓名,手机号,amount"] + [customer_line(i) for i in range(1, 1001)]
    lines[13] = '"' + lines[13]  # the quote opens the name and never closes
    lines[600] = '"王"先生,13900000600,1'  # a quote closed in the middle of a cell
    path = tmp_path / "quotes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task_id = await make_task(store, account)
    report = await import_file(store, account.tenant.name, task_id, path, progress=False)
    assert (report.total, report.accepted, report.rejected) == (1000, 998, 2)
    assert [(r.row, r.reason) for r in report.rejections] == [(13, MALFORMED_ROW), (600, MALFORMED_ROW)]
    assert "line 14" in report.rejections[0].message and "never closes" in report.rejections[0].message
    assert "line 601" in report.rejections[1].message


def test_a_quoted_cell_may_hold_line_breaks() -> None:
    text = '手机号,姓名,备注\n13900001234,王先生,"老客户\n上月已联系"\n13800138000,李女士,\n'
    assert list(rows_from_text(text)) == [
        SourceRow(1, "王先生", "13900001234", {"备注": "老客户\n上月已联系"}),
        SourceRow(2, "李女士", "13800138000", {}),
    ]


def test_a_quote_that_never_closes_at_the_end_of_the_file_costs_its_row() -> None:
    rows = list(rows_from_text('手机号,姓名\n13900001234,王先生\n13800138000,"李女士\n13700137000,赵先生\n'))
    assert [(r.row, r.phone, r.problem and r.problem.reason) for r in rows] == [
        (1, "13900001234", None),
        (2, "", MALFORMED_ROW),
        (3, "13700137000", None),
    ]


def test_values_under_no_named_column_reject_their_row() -> None:
    text = (
        "手机号,姓名,amount,,备注\n13900001234,王先生,1,,VIP\n13800138000,李女士,2,,,,\n13700137000,赵先生,3,x,,多余\n"
    )
    rows = list(rows_from_text(text))
    assert [(r.row, r.problem and r.problem.reason) for r in rows] == [(1, None), (2, None), (3, EXTRA_COLUMNS)]
    problem = rows[2].problem
    assert problem is not None and "column 4: 'x'" in problem.message and "column 6: '多余'" in problem.message
    assert rows[2].phone == "13700137000"


def test_a_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        list(rows_from_text("手机号,amount,amount\n13900001234,1,2\n"))
    assert "amount" in caught.value.message
