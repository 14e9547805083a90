"""Ed25519 primitives for the ledger; the only module in audit/ that imports cryptography.

Keys are raw bytes (32 bytes each). They travel as base64 strings in
environment variables (the integrator reads `DSAR_LEDGER_KEY`); use
`load_private_key` / `load_public_key` to decode them and `encode_key` to
produce them.
"""

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.errors import InvalidSignature

KEY_SIZE = 32


def generate_key() -> bytes:
    """A new raw 32-byte Ed25519 private key."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def public_key(private: bytes) -> bytes:
    """The raw 32-byte public key of a raw private key."""
    return _private(private).public_key().public_bytes_raw()


def sign(private: bytes, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `data`."""
    return _private(private).sign(data)


def verify(public: bytes, data: bytes, sig: bytes) -> None:
    """Return None when `sig` signs `data` under `public`; raise InvalidSignature otherwise."""
    try:
        key = Ed25519PublicKey.from_public_bytes(public)
    except ValueError:
        raise ValueError(f"public key must be {KEY_SIZE} raw bytes") from None
    try:
        key.verify(sig, data)
    except _CryptoInvalidSignature:
        raise InvalidSignature() from None


def fingerprint(public: bytes) -> str:
    """The sha256 of a raw public key in groups of four hex digits, for a person to compare or read out."""
    digest = hashlib.sha256(public).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def encode_key(key: bytes) -> str:
    """A raw key as the base64 string kept in an environment variable."""
    return base64.b64encode(key).decode("ascii")


def load_private_key(b64: str) -> bytes:
    """Decode a base64 (standard or URL-safe, padding optional) private key.

    Raises ValueError that never echoes the key.
    """
    return _decode(b64, "private")


def load_public_key(b64: str) -> bytes:
    """Decode a base64 public key, like `load_private_key`."""
    return _decode(b64, "public")


def _decode(b64: str, kind: str) -> bytes:
    problem = f"ledger {kind} key is malformed: expected base64 of a {KEY_SIZE}-byte Ed25519 key"
    if not isinstance(b64, str):
        raise ValueError(problem)
    text = "".join(b64.split()).replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(problem) from None
    if len(raw) != KEY_SIZE:
        raise ValueError(problem)
    return raw


def _private(private: bytes) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(private)
    except (ValueError, TypeError):
        raise ValueError(f"private key must be {KEY_SIZE} raw bytes") from None
