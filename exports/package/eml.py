"""Mail as RFC 5322 `.eml` files, one per message, as the Data Transfer Project recommends for mail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from exports.package._zip import PackageZip
from redaction.message import render_message


def write_messages(package: PackageZip, folder: str, records: Iterable[Mapping[str, Any]]) -> int:
    """Each (redacted) message record as `<folder>/<n>.eml`, numbered from 1 in record order; returns how many."""
    count = 0
    for count, record in enumerate(records, 1):
        package.write(f"{folder}/{count:06d}.eml", render_message(record))
    return count
