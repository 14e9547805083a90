"""The append-only, hash-chained, signed audit ledger, and its offline verification."""

from audit.errors import AuditError, InvalidSignature, LedgerBusy, LedgerTampered
from audit.event import Event
from audit.ledger import Ledger
from audit.signing import encode_key, generate_key, load_private_key, load_public_key, public_key
from audit.verify import verify_ledger

__all__ = [
    "AuditError",
    "Event",
    "InvalidSignature",
    "Ledger",
    "LedgerBusy",
    "LedgerTampered",
    "encode_key",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "public_key",
    "verify_ledger",
]
