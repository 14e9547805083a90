"""The ledger event and its canonical form.

`hash` is the hex sha256 of the canonical JSON of the event without `hash` and
`sig`: keys sorted, separators (",", ":"), ensure_ascii=False, UTF-8, `at` as
ISO-8601 UTC with microseconds and a trailing "Z". `sig` is the hex Ed25519
signature over the raw 32-byte digest (bytes.fromhex(hash)). The first event
has seq 1 and `prev_hash` of 64 zeros. An auditor can recompute all of this
without dsar.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ZERO_HASH = "0" * 64
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Event:
    seq: int
    at: datetime
    request_id: str
    actor: str
    action: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str
    sig: str


def format_at(at: datetime) -> str:
    """`at` in the canonical form; naive datetimes are refused (misuse)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("event time must be timezone-aware")
    return at.astimezone(UTC).strftime(_AT_FORMAT)


def parse_at(text: str) -> datetime:
    """Inverse of `format_at`; ValueError when `text` is not canonical."""
    return datetime.strptime(text, _AT_FORMAT).replace(tzinfo=UTC)


def canonical_json(value: Any) -> str:
    """Canonical JSON text; non-finite floats are refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(
    seq: int, at: datetime, request_id: str, actor: str, action: str, detail: Any, prev_hash: str
) -> str:
    """The hex sha256 of an event's canonical form."""
    body = {
        "seq": seq,
        "at": format_at(at),
        "request_id": request_id,
        "actor": actor,
        "action": action,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
