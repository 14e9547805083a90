"""The ledger's signed head: the seq and hash of its last event, signed, to be kept outside the database.

Whoever can write the database can delete events from its end, or delete events
and re-chain the rest. A head written elsewhere after each append shows what the
ledger held then: a ledger that ends before the head's seq was truncated, and
one whose event at that seq has another hash was rewritten.

The signature is Ed25519 by the ledger key over the sha256 of the canonical
JSON of {"kind", "seq", "hash", "at"} (see `audit.event`), so an auditor can
check a head without dsar, as they check events.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit import signing
from audit.event import Event, canonical_json, format_at, parse_at

HEAD_KIND = "dsar-ledger-head/1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


@dataclass(frozen=True)
class Head:
    """The ledger reached event `seq`, whose hash is `hash`, when this was signed at `at`."""

    seq: int
    hash: str
    at: datetime
    sig: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": HEAD_KIND, "seq": self.seq, "hash": self.hash, "at": format_at(self.at), "sig": self.sig}

    @classmethod
    def from_json(cls, value: Any) -> Head:
        """The head `to_json` gave; ValueError (naming no value) when `value` is not one."""
        if not isinstance(value, dict) or value.get("kind") != HEAD_KIND:
            raise ValueError(f"not a ledger head ({HEAD_KIND})")
        seq, digest, at, sig = value.get("seq"), value.get("hash"), value.get("at"), value.get("sig")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ValueError("ledger head: seq must be a positive integer")
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise ValueError("ledger head: hash must be 64 lowercase hex digits")
        if not isinstance(sig, str) or not _HEX128.fullmatch(sig):
            raise ValueError("ledger head: sig must be 128 lowercase hex digits")
        if not isinstance(at, str):
            raise ValueError("ledger head: at must be a canonical UTC time")
        try:
            when = parse_at(at)
        except ValueError:
            raise ValueError("ledger head: at must be a canonical UTC time") from None
        return cls(seq, digest, when, sig)


def head_digest(seq: int, digest: str, at: datetime) -> bytes:
    """The 32 bytes a head's signature signs."""
    body = {"kind": HEAD_KIND, "seq": seq, "hash": digest, "at": format_at(at)}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).digest()


def sign_head(private_key: bytes, last: Event, at: datetime | None = None) -> Head:
    """The head of a ledger whose last event is `last`, signed now (or at `at`)."""
    at = parse_at(format_at(datetime.now(UTC) if at is None else at))
    sig = signing.sign(private_key, head_digest(last.seq, last.hash, at)).hex()
    return Head(last.seq, last.hash, at, sig)


def verify_head(head: Head, public_key: bytes) -> None:
    """None when `head` is signed by `public_key`'s ledger key; `audit.errors.InvalidSignature` otherwise."""
    signing.verify(public_key, head_digest(head.seq, head.hash, head.at), bytes.fromhex(head.sig))
