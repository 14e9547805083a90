"""Errors raised by the exports package.

    ExportError
    ├── DecryptionFailed   an age file could not be opened: wrong passphrase or
    │                      key, tampered, truncated or not an age v1 file
    └── InvalidLink        a download token is forged, expired or malformed

Both verification errors are deliberately opaque: their message never says
which check failed, and never carries a passphrase, token or personal data.
Misuse (a hostile file name, a short secret, a malformed `age1...` recipient
or identity) raises ValueError instead, with a message that says what to fix
and never quotes a secret.
"""

from __future__ import annotations


class ExportError(Exception):
    """Base class of every error the exports package raises on purpose."""


class DecryptionFailed(ExportError):
    """The age file could not be decrypted and authenticated."""

    def __init__(self, message: str = "decryption failed: wrong passphrase or key, or damaged file") -> None:
        super().__init__(message)


class InvalidLink(ExportError):
    """The download link is not valid (forged, expired or malformed)."""

    def __init__(self, message: str = "invalid or expired download link") -> None:
        super().__init__(message)
