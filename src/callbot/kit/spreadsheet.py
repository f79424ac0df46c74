"""Cells for spreadsheets: text that Excel, WPS or LibreOffice would run as a formula shows as text.

Customer files are stored as they came: a name such as `=HYPERLINK("http://…")` is kept as that text. The
danger is in opening it later as a spreadsheet (CSV or formula injection), so every CSV or XLSX callbot
writes passes its cells through `neutralise_cell`. JSON APIs carry the stored text unchanged: they are read
by programs, and a spreadsheet made from them is the maker's to neutralise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# What makes a spreadsheet read a cell as a formula (OWASP's list): =, +, -, @, and a tab or carriage return
# before them (some programs skip leading whitespace).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def neutralise_cell(value: object) -> object:
    """`value` as a cell that cannot run: text that would start a formula gets a leading apostrophe, which
    spreadsheets take as "this is text". Plain numbers (-12.5) and non-text values are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(values: Iterable[object]) -> list[object]:
    """A row for csv.writer or openpyxl's append, every cell neutralised."""
    return [neutralise_cell(v) for v in values]
