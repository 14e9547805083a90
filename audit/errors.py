"""Errors raised by the audit ledger.

    AuditError
    ├── LedgerTampered     an event fails verification (names the seq and a reason)
    ├── InvalidSignature   an Ed25519 signature does not verify (opaque)
    ├── LedgerBusy         an append kept losing races with concurrent appends
    └── BundleInvalid      an evidence bundle fails verification (names the file, seq and reason)

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


class BundleInvalid(AuditError):
    """An evidence bundle does not verify: `file`, the event's `seq` when one is at fault, and `reason`."""

    def __init__(self, file: str, reason: str, seq: int | None = None) -> None:
        where = file if seq is None else f"{file}: seq {seq}"
        super().__init__(f"{where}: {reason}")
        self.file, self.seq, self.reason = file, seq, reason
