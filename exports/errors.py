"""Errors raised by the exports package.

    ExportError
    ├── DecryptionFailed   an age file could not be opened: wrong passphrase or
    │                      key, tampered, truncated or not an age v1 file
    ├── InvalidLink        a download token is forged, expired or malformed
    ├── StorageError       the package store failed (names the store and the
    │                      service's error code, never an object's contents)
    └── PackageInvalid     a package fails `dsar verify`: names the first bad member

DecryptionFailed and InvalidLink are deliberately opaque: their message never
says which check failed, and never carries a passphrase, token or personal
data. PackageInvalid names the member and the check, since that is what the
person verifying needs to know; never the member's content.
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


class StorageError(ExportError):
    """The package store (S3) refused or could not be reached."""


class PackageInvalid(ExportError):
    """A package failed verification: `member` is the first bad zip member (or part of the zip), `reason` why."""

    def __init__(self, member: str, reason: str) -> None:
        # A hostile member name must not write control characters to a terminal.
        shown = member if member.isprintable() else ascii(member)[1:-1]
        super().__init__(f"{shown}: {reason}")
        self.member = member
        self.reason = reason
