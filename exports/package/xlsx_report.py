"""`report.xlsx`: one sheet per category, for people who prefer a spreadsheet.

openpyxl's write-only mode streams rows to disk. Every text cell is written as
a string cell, so `=HYPERLINK(...)` and its kind stay text that no
spreadsheet evaluates. Numbers are number cells and ISO 8601 dates and times
date cells, shown in the package's language (see values.py), so that they
sort and sum; booleans are words. The header row holds the column labels and
is frozen. A sheet is titled "<source label> – <category label>" where that
fits a sheet name, else by the category label, else by the raw names. A
category longer than a sheet allows continues on the next sheet, header
repeated.

openpyxl stamps the clock into docProps/core.xml and the zip entries; the
finished file is rewritten with `generated_at` instead, so the same records
give the same bytes.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from exports.package._zip import DateTime, MemberWriter, zip_info
from exports.package.csv_data import text_of
from exports.package.values import Language, boolean_word, moment_format, parse_moment

MAX_ROWS = 1_048_576  # Excel's limit, the header row included
MAX_SHEET_NAME = 31
MAX_CELL_TEXT = 32_767  # Excel's limit; the JSON file holds the whole value
_EXACT_INTEGERS = 2**53  # beyond this a spreadsheet's doubles round an integer
_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def sheet_name(base: str, taken: set[str]) -> str:
    """A name Excel accepts (<= 31 characters, none of []:*?/\\) that no other sheet has, case ignored."""
    base = re.sub(r"[\[\]:*?/\\']", "_", base) or "sheet"
    name, n = base[:MAX_SHEET_NAME], 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: MAX_SHEET_NAME - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def _title(candidates: Sequence[str]) -> str:
    """The first candidate that is a whole sheet name (Excel's characters and length); the last one otherwise."""
    for candidate in candidates:
        if len(candidate) <= MAX_SHEET_NAME and not re.search(r"[\[\]:*?/\\']", candidate):
            return candidate
    return candidates[-1]


def _cell(sheet: WriteOnlyWorksheet, value: Any, language: Language) -> Any:
    if value is None or isinstance(value, float) or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) < _EXACT_INTEGERS):
        return value
    if isinstance(value, bool):
        value = boolean_word(value, language)
    elif isinstance(value, str) and (moment := parse_moment(value)) is not None:
        cell = WriteOnlyCell(sheet, moment[0])
        cell.number_format = moment_format(*moment, language)
        return cell
    text = text_of(value)
    if text is None:
        text = str(value)
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)[:MAX_CELL_TEXT])
    cell.data_type = "s"  # openpyxl took a leading '=' for a formula, '#N/A' for an error: text it is
    return cell


def write_sheets(
    workbook: Workbook, base: str, header: Sequence[str], records: Iterable[Mapping[str, Any]], taken: set[str],
    max_rows: int = MAX_ROWS, titles: Sequence[str] | None = None, language: Language = "en",
) -> int:
    """One category as sheets of at most `max_rows` rows each (header included), the values of the keys
    `header` under a header row of `titles` (the keys by default); returns the record count."""
    sheet: WriteOnlyWorksheet | None = None
    rows = count = 0

    def new_sheet() -> WriteOnlyWorksheet:
        ws = workbook.create_sheet(sheet_name(base, taken))
        ws.freeze_panes = "A2"
        ws.append([_cell(ws, title, language) for title in (header if titles is None else titles)])
        return ws

    for record in records:
        if sheet is None or rows == max_rows:
            sheet, rows = new_sheet(), 1
        sheet.append([_cell(sheet, record.get(key), language) for key in header])
        rows += 1
        count += 1
    if sheet is None:
        new_sheet()  # an empty category still shows its (empty) sheet
    return count


@dataclass(frozen=True)
class Sheet:
    """One category for the report: its raw name, the titles to try first, its column keys and their labels."""

    name: str
    title: str
    short_title: str
    keys: Sequence[str]
    labels: Sequence[str]
    records: Callable[[], Iterable[Mapping[str, Any]]]


def write_report(
    out: MemberWriter, sheets: Iterable[Sheet], language: Language, generated_at: datetime, date_time: DateTime,
    tmp_dir: Path,
) -> None:
    """Write the workbook of `sheets` into `out`, in `language`, deterministically.

    The workbook is put together in a temporary directory under `tmp_dir` (the request's own staging).
    """
    workbook = Workbook(write_only=True)
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    taken: set[str] = set()
    for sheet in sheets:
        title = _title((sheet.title, sheet.short_title, sheet.name))
        write_sheets(workbook, title, sheet.keys, sheet.records(), taken, titles=sheet.labels, language=language)
    if not taken:
        workbook.create_sheet("-")  # a workbook needs a sheet
    with tempfile.TemporaryDirectory(prefix=".xlsx-", dir=tmp_dir) as tmp:
        raw = Path(tmp) / "raw.xlsx"
        workbook.save(raw)
        fixed = Path(tmp) / "fixed.xlsx"
        with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fixed, "w") as dst:
            for entry in src.infolist():
                info = zip_info(entry.filename, date_time)
                info.file_size = entry.file_size  # so that zipfile picks zip64 only where the size needs it
                with src.open(entry) as data, dst.open(info, "w") as copy:
                    if entry.filename == "docProps/core.xml":
                        copy.write(_CORE_TIMES.sub(rb"\g<1>" + stamp + rb"\g<3>", data.read()))
                    else:
                        shutil.copyfileobj(data, copy)
        with fixed.open("rb") as data:
            shutil.copyfileobj(data, out)  # type: ignore[misc]  # MemberWriter has write(), all copyfileobj needs
