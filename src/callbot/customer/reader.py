"""Reading customer files: CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX, row by row, without loading the
whole file. Headers map to name, phone and properties (script variables).

Nothing is silently damaged: a file is read in one encoding chosen on evidence from all of it, and a row
that does not decode, that a stray quote breaks, or that holds more values than the header names comes
out as a row with a problem (its row number, a reason and a message), which the import rejects.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from callbot.errors import ValidationFailed

PHONE_HEADERS = frozenset(
    {"phone", "phone_number", "phonenumber", "mobile", "tel", "电话", "手机", "手机号", "手机号码", "电话号码", "号码"}
)
NAME_HEADERS = frozenset({"name", "customer_name", "姓名", "客户姓名", "名字", "客户名称"})
_READ_SIZE = 1 << 16

# Reasons a row is rejected before its fields are looked at (the import's other reasons are in its service).
INVALID_ENCODING = "invalid_encoding"
MALFORMED_ROW = "malformed_row"
EXTRA_COLUMNS = "extra_columns"

# A quoted cell may hold line breaks (Excel writes them so), but a customer row over this many lines is a
# quote that never closed: the row is rejected and reading goes on with the line after the row's first.
MAX_ROW_LINES = 20


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row cannot be imported as it stands."""

    reason: str
    message: str


class SourceRow(NamedTuple):
    """One customer as it came in: its 1-based data row number and its raw fields; `problem` when the row
    could not be read faithfully (the import rejects it with that reason). A tuple: files bring millions."""

    row: int
    name: str
    phone: str
    properties: dict[str, str]
    problem: RowProblem | None = None


@dataclass(frozen=True, slots=True)
class _Malformed:
    """A CSV record the csv module could not parse, in place of its values."""

    message: str


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
        self.encoding, self._clean = _sniff_encoding(path) if self.kind == "csv" else ("xlsx", True)
        self._raw: _CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        """How far into the file reading has got (CSV), for progress bars."""
        return self._raw.count if self._raw is not None else 0

    def rows(self) -> Iterator[list[str] | _Malformed]:
        """Raw rows as text, header first; a CSV record that does not parse comes as `_Malformed`."""
        if self.kind == "xlsx":
            yield from _xlsx_rows(self.path)
            return
        # Bytes that do not decode become lone surrogates, so the row they are in can be named and rejected.
        errors = "strict" if self._clean else "surrogateescape"
        with self.path.open("rb") as binary:
            self._raw = _CountingReader(binary)
            text = io.TextIOWrapper(
                io.BufferedReader(self._raw, _READ_SIZE), encoding=self.encoding, errors=errors, newline=""
            )
            yield from _csv_records(text)

    def __iter__(self) -> Iterator[SourceRow]:
        rows = self.rows()
        header = next(rows, None)
        if header is None:
            raise ValidationFailed(f"{self.path.name}: the file is empty", [("file", "no header row")])
        if isinstance(header, _Malformed):
            raise ValidationFailed(f"{self.path.name}: the header row does not parse", [("header", header.message)])
        undecodable = None if self._clean else self.encoding
        yield from map_rows(header, rows, source=self.path.name, undecodable=undecodable)


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


def map_rows(
    header: list[str],
    rows: Iterable[list[str] | _Malformed],
    *,
    source: str = "file",
    undecodable: str | None = None,
) -> Iterator[SourceRow]:
    """SourceRow values from rows of text under `header`; blank rows are skipped but keep their number.

    A row with a value under no named column, or one the csv module could not parse, comes with a problem.
    `undecodable` names the file's encoding when some of its bytes did not decode (they are lone surrogates
    in the text): the rows holding them come with a problem too."""
    columns = [h.strip() for h in header]
    if undecodable is not None and _SURROGATE.search("".join(columns)):
        raise ValidationFailed(
            f"{source}: the header row is not valid {_ENCODING_NAMES.get(undecodable, undecodable)}",
            [("header", "save the file as UTF-8 and import it again")],
        )
    lowered = [c.lower() for c in columns]
    phone_at = next((i for i, c in enumerate(lowered) if c in PHONE_HEADERS), None)
    if phone_at is None:
        raise ValidationFailed(
            f"{source}: no phone column in the header",
            [("header", f"name one column phone (or 手机号/电话); the header is {columns}")],
        )
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise ValidationFailed(
            f"{source}: the header names {', '.join(repeated)} more than once",
            [("header", f"give each column its own name; the header is {columns}")],
        )
    name_at = next((i for i, c in enumerate(lowered) if c in NAME_HEADERS), None)
    extra = [(i, c) for i, c in enumerate(columns) if i not in (phone_at, name_at) and c]
    unnamed = [i for i, c in enumerate(columns) if not c]
    width = len(columns)
    for number, values in enumerate(rows, start=1):
        if isinstance(values, _Malformed):
            yield SourceRow(number, "", "", {}, RowProblem(MALFORMED_ROW, values.message))
            continue
        if not any(values):
            continue
        if len(values) < width:
            values = values + [""] * (width - len(values))
        problem = None
        if undecodable is not None and _SURROGATE.search("".join(values)):
            problem = _undecodable(values, columns, undecodable)
        elif len(values) > width or unnamed:
            problem = _unnamed_values(values, width, unnamed)
        phone = values[phone_at].strip()
        if problem is not None:
            yield SourceRow(number, "", "" if _SURROGATE.search(phone) else phone, {}, problem)
            continue
        properties = {c: v.strip() for i, c in extra if (v := values[i])}
        yield SourceRow(
            number,
            values[name_at].strip() if name_at is not None else "",
            phone,
            properties,
        )


_SURROGATE = re.compile("[\udc80-\udcff]")
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030 (GBK)"}


def _undecodable(values: list[str], columns: list[str], encoding: str) -> RowProblem:
    """The problem of a row whose bytes do not decode: which column, which bytes."""
    at = next(i for i, v in enumerate(values) if _SURROGATE.search(v))
    column = columns[at] if at < len(columns) and columns[at] else f"column {at + 1}"
    raw = values[at].encode(encoding, "surrogateescape")
    shown = raw.hex(" ").upper() if len(raw) <= 16 else raw[:16].hex(" ").upper() + " …"
    name = _ENCODING_NAMES.get(encoding, encoding)
    return RowProblem(
        INVALID_ENCODING,
        f"the row is not valid {name}, the encoding of the rest of the file: {column} holds the bytes {shown}; "
        f"save the file in one encoding",
    )


def _unnamed_values(values: list[str], width: int, unnamed: list[int]) -> RowProblem | None:
    """The problem of a row holding values that no header names (they would be lost), or None."""
    lost = [(i, v) for i in (*unnamed, *range(width, len(values))) if (v := values[i].strip())]
    if not lost:
        return None
    shown = ", ".join(f"column {i + 1}: {v[:40]!r}" for i, v in lost[:5])
    return RowProblem(
        EXTRA_COLUMNS,
        f"the row has values under no named column ({shown}); the header names {width - len(unnamed)} columns",
    )


def _csv_records(text: Iterable[str]) -> Iterator[list[str] | _Malformed]:
    """csv.reader over `text`, strict, with recovery: a record that does not parse (a quote that never closes
    swallows the lines after it; a quote closed in mid-field; a NUL byte) comes as `_Malformed`, and reading
    goes on with the line after the record's first, so one stray quote costs one row, not the rest of the file."""
    lines = _Lines(iter(text))
    record = lines.record
    while True:
        reader = csv.reader(lines, strict=True)
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                why = (
                    f"a quoted cell runs on over more than {MAX_ROW_LINES} lines (a quote that never closes?)"
                    if lines.capped
                    else _csv_problem(str(exc))
                )
                first = lines.consumed + 1
                yield _Malformed(f"line {first} of the file: {why}; the row was skipped, the next line read on")
                lines.skip_record()
                break
            lines.consumed += len(record)  # the record is read: its lines are done with
            record.clear()
            yield values


def _csv_problem(error: str) -> str:
    if error.startswith("unexpected end of data"):
        return "a quote opens a cell and never closes"
    if "expected after" in error:
        return "a quote closes a cell in the middle of it (a stray quote?)"
    if "NUL" in error:
        return "the line holds a NUL byte"
    return f"the row does not parse as CSV ({error})"


class _Lines:
    """The text's lines for csv.reader, keeping those of the record being read, so that a record that does
    not parse can be skipped by its first line alone and its other lines read again."""

    def __init__(self, text: Iterator[str]) -> None:
        self._text = text
        self._again: list[str] = []  # lines to read again, last first
        self.record: list[str] = []  # the lines of the record being read
        self.consumed = 0  # lines of the file in finished or skipped records
        self.capped = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.record) >= MAX_ROW_LINES:
            self.capped = True  # mid-record: the strict reader reports an unexpected end of data
            raise StopIteration
        line = self._again.pop() if self._again else next(self._text)
        self.record.append(line)
        return line

    def skip_record(self) -> None:
        """Drop the record's first line and give back the others."""
        self._again.extend(reversed(self.record[1:]))
        self.record.clear()
        self.consumed += 1
        self.capped = False


def _text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold (map_rows strips it)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheet numbers: 13900001234.0
    return str(value)


def detect_encoding(path: Path) -> str:
    """The encoding a CSV file is read in: utf-8-sig, utf-8 or gb18030 (see `_sniff_encoding`)."""
    return _sniff_encoding(path)[0]


def _sniff_encoding(path: Path) -> tuple[str, bool]:
    """The file's encoding, decided on evidence from the whole file, and whether every byte decodes in it.

    UTF-8 (with or without BOM) when the whole file decodes as UTF-8. Otherwise the lines holding non-ASCII
    bytes vote: a line that decodes as UTF-8 is evidence of UTF-8 (GBK text almost never does), one that does
    not is evidence of GB18030 (China's superset of GBK). A UTF-8 file with a few GBK rows stays UTF-8 and
    those rows are rejected; a GBK file is read as GB18030. Never both in one file."""
    with path.open("rb") as f:
        bom = f.read(3) == codecs.BOM_UTF8
        f.seek(len(codecs.BOM_UTF8) if bom else 0)
        if _decodes(f, "utf-8"):
            return ("utf-8-sig" if bom else "utf-8"), True
        f.seek(0)
        utf8 = other = 0
        for line in f:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8 += 1
            except UnicodeDecodeError:
                other += 1
        if bom or utf8 > other:
            return ("utf-8-sig" if bom else "utf-8"), False
        f.seek(0)
        return "gb18030", _decodes(f, "gb18030")


def _decodes(f: io.BufferedReader, encoding: str) -> bool:
    """Whether the rest of the file decodes strictly in `encoding` (read in chunks, nothing kept)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := f.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# An XLSX is a zip of XML: a small file can expand to gigabytes, and openpyxl reads the shared strings (every
# distinct text of the workbook) into memory whole. A million customers with a name and a note each unpack
# to some 300 MB, of which under 100 MB of shared strings.
MAX_XLSX_UNPACKED = 1 << 30
MAX_XLSX_SHARED_STRINGS = 128 << 20
# Rows of a sheet, the header included: Excel's own limit.
MAX_XLSX_ROWS = 1_048_576


def _check_xlsx_size(path: Path) -> None:
    """Refuse an XLSX that would unpack to more than a customer file needs, before anything reads it. The
    sizes are those the zip declares; reading stops at them, so a file cannot expand past what is checked."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValidationFailed(f"{path.name}: not a readable XLSX file ({exc})", [("file", "unreadable")]) from exc
    unpacked = sum(m.file_size for m in members)
    shared = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
    for size, limit, what in (
        (shared, MAX_XLSX_SHARED_STRINGS, "its shared strings (the texts of its cells)"),
        (unpacked, MAX_XLSX_UNPACKED, "the whole workbook"),
    ):
        if size > limit:
            raise ValidationFailed(
                f"{path.name}: {what} would unpack to {_mb(size)}, more than the {_mb(limit)} a customer file may",
                [("file", "save the sheet as CSV (no limit), or split it into smaller files")],
            )


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB"


def _too_many_rows(path: Path, rows: int) -> ValidationFailed:
    return ValidationFailed(
        f"{path.name}: the sheet has {rows:,} rows, more than the {MAX_XLSX_ROWS:,} a sheet may hold",
        [("file", "save the sheet as CSV, or split it into smaller files")],
    )


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    _check_xlsx_size(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise ValidationFailed(f"{path.name}: not a readable XLSX file ({exc})", [("file", "unreadable")]) from exc
    try:
        sheet = workbook.worksheets[0]
        declared = sheet.max_row or 0  # from the sheet's <dimension>, when it has one
        if declared > MAX_XLSX_ROWS:
            raise _too_many_rows(path, declared)
        # Read-only openpyxl stops at the <dimension>'s last row and column, which some writers understate:
        # read every cell the sheet holds instead.
        sheet.reset_dimensions()
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_XLSX_ROWS:  # a sheet whose <dimension> understates it
                raise _too_many_rows(path, number)
            yield [_text(v) for v in row]
    finally:
        workbook.close()


def rows_from_text(text: str) -> Iterator[SourceRow]:
    """CSV given as text (for tests and pasted lists)."""
    records = _csv_records(io.StringIO(text, newline=""))
    header = next(records, None)
    if header is None or isinstance(header, _Malformed):
        return iter(())
    return map_rows(header, records, source="text")
