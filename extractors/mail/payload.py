"""The decoded size and sha256 of a MIME part, decoded a slice at a time from its transfer encoding.

`Message.get_payload(decode=True)` makes a decoded copy of the whole part (and
a bytes copy of the encoded text first): for a 50 MB attachment that is
hundreds of MB only to count and hash it.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterator
from email.message import Message

CHUNK = 1 << 16  # characters of encoded text decoded at a time; a multiple of 4 (base64 quanta)
_NOT_BASE64 = bytes(set(range(256)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="))


def digest(part: Message) -> tuple[int, str] | None:
    """(decoded size, sha256 hex) of a leaf part, as `get_payload(decode=True)` would give it; None for a
    multipart or an attached message (parts of their own)."""
    encoded = part._payload  # type: ignore[attr-defined]  # get_payload() would decode 8-bit text into a copy
    if not isinstance(encoded, str):
        return None
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte in ("x-uuencode", "uuencode", "uue", "x-uue"):
        decoded = part.get_payload(decode=True)  # rare and old: not worth its own streaming decoder
        chunks: Iterator[bytes] = iter([decoded if isinstance(decoded, bytes) else b""])
    elif cte == "base64":
        chunks = _base64(_encoded(encoded))
    elif cte == "quoted-printable":
        chunks = _quoted_printable(_encoded(encoded))
    else:
        chunks = _encoded(encoded)
    size, sha = 0, hashlib.sha256()
    for chunk in chunks:
        size += len(chunk)
        sha.update(chunk)
    return size, sha.hexdigest()


def _encoded(payload: str) -> Iterator[bytes]:
    """The part's bytes as they were in the message (the parser keeps 8-bit bytes as surrogates)."""
    for start in range(0, len(payload), CHUNK):
        yield payload[start: start + CHUNK].encode("ascii", "surrogateescape")


def _base64(chunks: Iterator[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in chunks:
        data = carry + chunk.translate(None, _NOT_BASE64)  # line breaks and stray bytes, as a2b_base64 skips
        cut = len(data) - len(data) % 4
        carry = data[cut:]
        yield _b64decode(data[:cut])
    if carry:
        yield _b64decode(carry + b"=" * (-len(carry) % 4))


def _b64decode(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:  # a broken quantum; get_payload() too gives up on it
        return b""


def _quoted_printable(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Whole lines at a time: a soft line break or an =XX escape never straddles two slices."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        yield binascii.a2b_qp(data[:cut])
    yield binascii.a2b_qp(carry)
