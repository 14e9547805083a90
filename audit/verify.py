"""Offline verification of the ledger from its events and the public key."""

from collections.abc import Iterable

from audit import signing
from audit.errors import InvalidSignature, LedgerTampered
from audit.event import ZERO_HASH, Event, event_hash


def verify_ledger(events: Iterable[Event], public_key: bytes) -> int:
    """Verify the whole ledger, in seq order from seq 1; return how many events verified.

    Raises LedgerTampered(seq, reason) at the first event that fails: "gap in
    sequence" (seq is the missing one), "out of order", "hash mismatch",
    "broken chain" or "bad signature". Events removed from the end cannot be
    noticed from the ledger alone: compare the count or last hash with a
    copy kept elsewhere.
    """
    if not isinstance(public_key, bytes) or len(public_key) != signing.KEY_SIZE:
        raise ValueError(f"public key must be {signing.KEY_SIZE} raw bytes")
    expected_seq = 1
    prev_hash = ZERO_HASH
    count = 0
    for event in events:
        if event.seq > expected_seq:
            raise LedgerTampered(expected_seq, "gap in sequence")
        if event.seq < expected_seq:
            raise LedgerTampered(event.seq, "out of order")
        try:
            digest = event_hash(
                event.seq, event.at, event.request_id, event.actor, event.action, event.detail, event.prev_hash
            )
        except (ValueError, TypeError):
            raise LedgerTampered(event.seq, "unreadable event") from None
        if digest != event.hash:
            raise LedgerTampered(event.seq, "hash mismatch")
        if event.prev_hash != prev_hash:
            raise LedgerTampered(event.seq, "broken chain")
        try:
            signing.verify(public_key, bytes.fromhex(event.hash), bytes.fromhex(event.sig))
        except (InvalidSignature, ValueError):
            raise LedgerTampered(event.seq, "bad signature") from None
        prev_hash = event.hash
        expected_seq += 1
        count += 1
    return count
