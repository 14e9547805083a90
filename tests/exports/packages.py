"""A small package for the package tests: fixed time, key and records, with generators so records must stream."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exports.package import Category, PackageInfo, PackageResult, build_package

AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
KEY = bytes(range(32))  # a fixed Ed25519 private key: signatures are deterministic too
REQ = "REQ-ABC123"
HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "#N/A"]

CUSTOMER = [{"email": "x@example.fi", "first_name": "Äijä", "city": "Hämeenlinna öö",
             "nested": {"b": 1, "a": [1, 2]}, "id": 7, "vip": True, "score": 1.5, "note": None}]
ORDERS = [{"id": i, "status": "sent", "total_cents": 1000 + i} for i in range(3)]
MESSAGES = [{"message_id": "m1@example.fi", "from": ["x@example.fi"], "to": ["asiakaspalvelu@demo.example"],
             "cc": [], "reply_to": [], "subject": "Tilaus ääkkösin", "date": "2024-05-06T07:08:09Z",
             "body": "Hei,\nmissä tilaukseni on?\n", "attachments": []}]


def info(**changes: Any) -> PackageInfo:
    values: dict[str, Any] = {"request_id": REQ, "controller": "Esimerkki Oy", "language": "fi", "generated_at": AT,
                              "redaction": {"emails": 2, "phones": 1}, "withheld": ()}
    return PackageInfo(**(values | changes))


def rows(records: Iterable[Mapping[str, Any]]):
    frozen = list(records)
    return lambda: (dict(r) for r in frozen)


def categories() -> list[Category]:
    # Deliberately unsorted.
    return [
        Category("support_mail", "messages", rows(MESSAGES), messages=True),
        Category("crm", "customer", rows(CUSTOMER), provided=("email", "first_name", "city")),
        Category("crm", "orders", rows(ORDERS), provided=("email",)),  # nothing provided: no portability file
        Category("crm", "empty", rows([])),
        Category("crm-eu", "hostile", rows([{"text": t, "n": i} for i, t in enumerate(HOSTILE)]), provided=True),
    ]


def build(path: Path, cats: Iterable[Category] | None = None, **changes: Any) -> PackageResult:
    return build_package(path, info(**changes), categories() if cats is None else cats, KEY)


def members(result: PackageResult) -> dict[str, bytes]:
    with zipfile.ZipFile(result.path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}
