"""Customer files become rows of text: the row numbers users see, properties only where a cell holds something."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from callbot.customer.reader import CustomerFile, SourceRow, rows_from_text


def test_blank_lines_are_skipped_but_keep_their_row_number() -> None:
    rows = list(rows_from_text("手机号,姓名,amount\n13900001234,王先生,1\n\n,,\n 13800138000 , 李女士 ,\n"))
    assert rows == [
        SourceRow(1, "王先生", "13900001234", {"amount": "1"}),
        SourceRow(4, "李女士", "13800138000", {}),
    ]


def test_short_rows_are_padded_and_blank_cells_are_no_property() -> None:
    rows = list(rows_from_text("phone,amount,备注\n13900001234\n13800138000,, \n"))
    assert rows == [
        SourceRow(1, "", "13900001234", {}),
        SourceRow(2, "", "13800138000", {"备注": ""}),  # a cell holding a space counts, as before
    ]


def test_xlsx_cells_read_as_the_text_a_csv_would_hold(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Phone ", "name", "amount", "rate", "note"])
    sheet.append([13900001234.0, "王先生", 3200, 0.5, None])
    sheet.append([None, None, None, None, None])
    sheet.append(["138-0013-8000", None, 0, None, "  老客户 "])
    path = tmp_path / "customers.xlsx"
    book.save(path)
    assert list(CustomerFile(path)) == [
        SourceRow(1, "王先生", "13900001234", {"amount": "3200", "rate": "0.5"}),
        SourceRow(3, "", "138-0013-8000", {"amount": "0", "note": "老客户"}),
    ]
