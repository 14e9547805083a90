"""Offline verification of the ledger from its events and the public key."""

from collections.abc import Iterable

from audit import signing
from audit.errors import InvalidSignature, LedgerTampered
from audit.event import ZERO_HASH, Event, event_hash


class Chain:
    """The chain checks of events fed one at a time, in the order read (see `verify_ledger`)."""

    def __init__(self, public_key: bytes) -> None:
        if not isinstance(public_key, bytes) or len(public_key) != signing.KEY_SIZE:
            raise ValueError(f"public key must be {signing.KEY_SIZE} raw bytes")
        self._public_key = public_key
        self.count = 0
        self._prev_hash = ZERO_HASH

    def check(self, event: Event) -> None:
        """None when `event` continues the chain; LedgerTampered otherwise."""
        expected_seq = self.count + 1
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
        if event.prev_hash != self._prev_hash:
            raise LedgerTampered(event.seq, "broken chain")
        try:
            signing.verify(self._public_key, bytes.fromhex(event.hash), bytes.fromhex(event.sig))
        except (InvalidSignature, ValueError):
            raise LedgerTampered(event.seq, "bad signature") from None
        self._prev_hash = event.hash
        self.count += 1


def verify_ledger(events: Iterable[Event], public_key: bytes) -> int:
    """Verify the whole ledger, in seq order from seq 1; return how many events verified.

    Raises LedgerTampered(seq, reason) at the first event that fails: "gap in
    sequence" (seq is the missing one), "out of order", "hash mismatch",
    "broken chain" or "bad signature". Events removed from the end cannot be
    noticed from the ledger alone: `audit.anchored.check_anchored` compares it
    with the heads and copies kept elsewhere.
    """
    chain = Chain(public_key)
    for event in events:
        chain.check(event)
    return chain.count
