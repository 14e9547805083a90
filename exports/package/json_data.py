"""`<category>.json`: one JSON array per category, exact values, sorted keys."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from exports.package._zip import MemberWriter

JSON_OPTIONS: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "indent": 1}


def json_array(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The text of json.dumps(list(records), **JSON_OPTIONS), one record at a time."""
    first = True
    for record in records:
        # JSON strings never hold a raw newline, so indenting each line is safe.
        text = json.dumps(dict(record), **JSON_OPTIONS).replace("\n", "\n ")
        yield ("[\n " if first else ",\n ") + text
        first = False
    yield "[]" if first else "\n]"


def write_json(out: MemberWriter, records: Iterable[Mapping[str, Any]]) -> int:
    """Stream `records` as a JSON array into `out`; returns how many."""
    pieces = 0
    for piece in json_array(records):
        out.write(piece.encode("utf-8"))
        pieces += 1
    return pieces - 1  # one piece per record, then the closing one
