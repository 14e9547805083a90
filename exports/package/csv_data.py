"""`<category>.csv`: the same records for spreadsheets, safe to open in one.

UTF-8 with a byte-order mark, so that Excel reads ä and ö; RFC 4180 line
ends; every field quoted. The columns are every key the records hold, in the
order first seen; the header row names them by their labels (the schema's
`title` of each key maps a label back). Values stay machine-readable: ISO 8601
dates, `true`/`false`, numbers as JSON writes them.
Nested values are written as JSON text. A text field that begins with `=`,
`+`, `-`, `@`, tab or carriage return gets a leading `'` (OWASP's advice on
CSV injection) so that no spreadsheet evaluates it; numbers stay numbers,
since a number cannot hold a formula. A spreadsheet that splits on `;`
(Excel in Finnish) starts fields inside ours, after any `;` or `,`: a formula
character there gets the same `'` ("x;=1+1" is written "x;'=1+1"). The JSON
files keep every value exactly.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from exports.package._zip import MemberWriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
# Where a reader that splits on the other separator would start a field inside ours.
_INNER_FORMULA = re.compile(r"([;,][ \t]*)(?=[=+\-@\r])")


def text_of(value: Any) -> str | None:
    """A value as the text a spreadsheet cell shows, or None for a number or empty cell left as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return None


def csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = text_of(value)
    if text is None:
        return json.dumps(value)  # a number, written as JSON writes it
    text = _INNER_FORMULA.sub(r"\1'", text)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Text:
    """csv.writer's output: text encoded into a zip member."""

    def __init__(self, out: MemberWriter) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))


def write_csv(
    out: MemberWriter, header: Sequence[str], records: Iterable[Mapping[str, Any]], titles: Sequence[str] | None = None,
) -> int:
    """Stream `records`' values of the keys `header` as CSV rows into `out`, under a header row of `titles` (the
    keys themselves by default); returns how many."""
    text = _Text(out)
    text.write(BOM)
    writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([csv_field(title) for title in (header if titles is None else titles)])
    count = 0
    for record in records:
        writer.writerow([csv_field(record.get(key)) for key in header])
        count += 1
    return count
