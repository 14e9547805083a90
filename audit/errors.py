"""Errors raised by the audit ledger.

    AuditError
    ├── LedgerTampered     an event fails verification (names the seq and a reason)
    ├── InvalidSignature   an Ed25519 signature does not verify (opaque)
    └── LedgerBusy         an append kept losing races with concurrent appends

Misuse (personal-looking detail, naive datetimes, malformed keys) raises
ValueError. Messages never carry event data: auditors and operators read them.
"""


class AuditError(Exception):
    """Base class of the audit ledger's errors."""


class LedgerTampered(AuditError):
    """The ledger does not verify at event `seq`; `reason` says which check failed."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"ledger tampered at seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


class InvalidSignature(AuditError):
    """A signature does not verify. Deliberately says nothing more."""

    def __init__(self) -> None:
        super().__init__("signature does not verify")


class LedgerBusy(AuditError):
    """An append could not claim the next seq after several attempts."""
