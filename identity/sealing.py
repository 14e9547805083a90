"""MACs that bind stored identity records (challenges, evidence) to their request.

Whoever can edit the request store could otherwise raise a level, give a code
its tries back, or copy request A's evidence onto request B. Each record is
stored with `mac`: HMAC-SHA256 over its kind, its request id and its canonical
JSON, under a key only the flow holds. A record that does not verify is
treated as absent (Art. 12(6): fail closed).

The key is derived with HKDF-SHA256 (RFC 5869) under its own `info` string, so
that it is independent of every other use of the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from identity.errors import RecordRejected

KINDS = ("challenge", "evidence", "identifier")
MAC_FIELD = "mac"
KEY_INFO = b"dsar identity record mac v1"
_HASH_LEN = 32


def derive_key(secret: bytes, info: bytes = KEY_INFO, salt: bytes = b"", length: int = _HASH_LEN) -> bytes:
    """HKDF-SHA256 of `secret` (RFC 5869); a distinct `info` gives an independent key."""
    if not secret:
        raise ValueError("the secret to derive from is empty")
    if not 0 < length <= 255 * _HASH_LEN:
        raise ValueError("HKDF output length out of range")
    prk = hmac.new(salt or bytes(_HASH_LEN), secret, hashlib.sha256).digest()
    out, block = b"", b""
    for counter in range(1, -(-length // _HASH_LEN) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
    return out[:length]


def _mac(record: Mapping[str, Any], request_id: str, kind: str, key: bytes) -> str:
    if kind not in KINDS:
        raise ValueError(f"record kind must be one of {', '.join(KINDS)}")
    if len(key) < _HASH_LEN:
        raise ValueError("the record key must hold at least 32 bytes")
    body = json.dumps({k: v for k, v in record.items() if k != MAC_FIELD}, sort_keys=True, separators=(",", ":"))
    message = b"\0".join((kind.encode("ascii"), request_id.encode("utf-8"), body.encode("utf-8")))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal(record: Mapping[str, Any], request_id: str, kind: str, key: bytes) -> dict[str, Any]:
    """`record` with its `mac` for `request_id`; what the store keeps."""
    return {**{k: v for k, v in record.items() if k != MAC_FIELD},
            MAC_FIELD: _mac(record, request_id, kind, key)}


def unseal(stored: Mapping[str, Any], request_id: str, kind: str, key: bytes) -> dict[str, Any]:
    """The record without its `mac`, if the mac is right for `request_id` and `kind`; RecordRejected otherwise."""
    mac = stored.get(MAC_FIELD)
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(stored, request_id, kind, key)):
        raise RecordRejected(kind)
    return {k: v for k, v in stored.items() if k != MAC_FIELD}


def email_digest(email: str) -> str:
    """What evidence remembers of the address it was verified for: a change of one byte tells."""
    return hashlib.sha256(email.encode("utf-8")).hexdigest()
