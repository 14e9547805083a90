"""`report.xlsx`: one sheet per category, for people who prefer a spreadsheet.

openpyxl's write-only mode streams rows to disk. Every text cell is written as
a string cell, so `=HYPERLINK(...)` and its kind stay text that no
spreadsheet evaluates. The header row is frozen. A category longer than a
sheet allows continues on the next sheet, header repeated.

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
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from exports.package._zip import DateTime, MemberWriter, zip_info
from exports.package.csv_data import text_of

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


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if value is None or isinstance(value, bool | float) or (isinstance(value, int) and abs(value) < _EXACT_INTEGERS):
        return value
    text = text_of(value)
    if text is None:
        text = str(value)
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)[:MAX_CELL_TEXT])
    cell.data_type = "s"  # openpyxl took a leading '=' for a formula, '#N/A' for an error: text it is
    return cell


def write_sheets(
    workbook: Workbook, base: str, header: Sequence[str], records: Iterable[Mapping[str, Any]], taken: set[str],
    max_rows: int = MAX_ROWS,
) -> int:
    """One category as sheets of at most `max_rows` rows each (header included); returns the record count."""
    sheet: WriteOnlyWorksheet | None = None
    rows = count = 0

    def new_sheet() -> WriteOnlyWorksheet:
        ws = workbook.create_sheet(sheet_name(base, taken))
        ws.freeze_panes = "A2"
        ws.append([_cell(ws, key) for key in header])
        return ws

    for record in records:
        if sheet is None or rows == max_rows:
            sheet, rows = new_sheet(), 1
        sheet.append([_cell(sheet, record.get(key)) for key in header])
        rows += 1
        count += 1
    if sheet is None:
        new_sheet()  # an empty category still shows its (empty) sheet
    return count


Sheet = tuple[str, Sequence[str], Callable[[], Iterable[Mapping[str, Any]]]]


def write_report(
    out: MemberWriter, sheets: Iterable[Sheet], generated_at: datetime, date_time: DateTime, tmp_dir: Path
) -> None:
    """Write the workbook of `sheets` (name, header, records) into `out`, deterministically.

    The workbook is put together in a temporary directory under `tmp_dir` (the request's own staging).
    """
    workbook = Workbook(write_only=True)
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    taken: set[str] = set()
    for base, header, records in sheets:
        write_sheets(workbook, base, header, records(), taken)
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
