"""Reading customer files: CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX, row by row, without loading the
whole file. Headers map to name, phone and properties (script variables)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callbot.errors import ValidationFailed

PHONE_HEADERS = frozenset(
    {"phone", "phone_number", "phonenumber", "mobile", "tel", "电话", "手机", "手机号", "手机号码", "电话号码", "号码"}
)
NAME_HEADERS = frozenset({"name", "customer_name", "姓名", "客户姓名", "名字", "客户名称"})
_READ_SIZE = 1 << 16


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One customer as it came in: its 1-based data row number and its raw fields."""

    row: int
    name: str
    phone: str
    properties: dict[str, str]


class CustomerFile:
    """A CSV or XLSX file of customers. Iterate it for SourceRow values; `size` helps progress bars."""

    def __init__(self, path: Path) -> None:
        self.path = path
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".txt", ".xlsx"):
            raise ValidationFailed(
                f"{path.name}: unsupported file type {suffix or '(none)'}", [("file", "use .csv or .xlsx")]
            )
        if not path.is_file():
            raise ValidationFailed(f"{path}: no such file", [("file", "not found")])
        self.kind = "xlsx" if suffix == ".xlsx" else "csv"
        self.size = path.stat().st_size
        self.encoding = detect_encoding(path) if self.kind == "csv" else "xlsx"
        self._raw: _CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        """How far into the file reading has got (CSV), for progress bars."""
        return self._raw.count if self._raw is not None else 0

    def rows(self) -> Iterator[list[str]]:
        """Raw rows as text, header first."""
        if self.kind == "xlsx":
            yield from _xlsx_rows(self.path)
            return
        with self.path.open("rb") as binary:
            self._raw = _CountingReader(binary)
            text = io.TextIOWrapper(io.BufferedReader(self._raw, _READ_SIZE), encoding=self.encoding, newline="")
            yield from csv.reader(text)

    def __iter__(self) -> Iterator[SourceRow]:
        rows = self.rows()
        header = next(rows, None)
        if header is None:
            raise ValidationFailed(f"{self.path.name}: the file is empty", [("file", "no header row")])
        yield from map_rows(header, rows, source=self.path.name)


class _CountingReader(io.RawIOBase):
    def __init__(self, inner: io.BufferedReader) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._inner.readinto(buffer)
        self.count += n
        return n


def map_rows(header: list[str], rows: Iterable[list[str]], *, source: str = "file") -> Iterator[SourceRow]:
    """SourceRow values from rows of text under `header`; blank rows are skipped but keep their number."""
    columns = [h.strip() for h in header]
    lowered = [c.lower() for c in columns]
    phone_at = next((i for i, c in enumerate(lowered) if c in PHONE_HEADERS), None)
    if phone_at is None:
        raise ValidationFailed(
            f"{source}: no phone column in the header",
            [("header", f"name one column phone (or 手机号/电话); the header is {columns}")],
        )
    name_at = next((i for i, c in enumerate(lowered) if c in NAME_HEADERS), None)
    extra = [(i, c) for i, c in enumerate(columns) if i not in (phone_at, name_at) and c]
    width = len(columns)
    for number, values in enumerate(rows, start=1):
        if not any(values):
            continue
        if len(values) < width:
            values = values + [""] * (width - len(values))
        properties = {c: v.strip() for i, c in extra if (v := values[i])}
        yield SourceRow(
            number,
            values[name_at].strip() if name_at is not None else "",
            values[phone_at].strip(),
            properties,
        )


def _text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold (map_rows strips it)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheet numbers: 13900001234.0
    return str(value)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030 (China's superset of GBK)."""
    with path.open("rb") as f:
        head = f.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise ValidationFailed(f"{path.name}: not a readable XLSX file ({exc})", [("file", "unreadable")]) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_text(v) for v in row]
    finally:
        workbook.close()


def rows_from_text(text: str) -> Iterator[SourceRow]:
    """CSV given as text (for tests and pasted lists)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return iter(())
    return map_rows(header, reader, source="text")
