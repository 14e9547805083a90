"""Recipes for sealing a package with age, for a passphrase or an `age1...` public key, and opening it again.

The files are standard age v1 (https://age-encryption.org/v1): a requester
opens them with `age -d` or any other age implementation. The file recipes write
to a temporary file next to the destination and rename it at the end, so a
failure leaves nothing half-written; `seal_to` writes to any binary file, such
as a storage writer.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from exports import _age
from exports._atomic import atomic_write

# Lowercase letters and digits without the look-alikes 0/o, 1/l: 32 symbols, 5 bits each.
PASSPHRASE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet, not a secret
_GROUPS, _GROUP_SIZE = 5, 5  # 25 symbols = 125 bits


def new_passphrase() -> str:
    """A fresh random passphrase of 125 bits that is easy to read aloud and type.

    Five groups of five characters joined by '-', e.g. 'k7mqa-x3nrt-...'.
    """
    return "-".join("".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(_GROUP_SIZE)) for _ in range(_GROUPS))


def check_recipient(recipient: str) -> None:
    """Raise ValueError, in one line saying what is wrong, unless `recipient` is an `age1...` public key.

    For checking a requester's key when it is given, long before the package is sealed.
    """
    _age.parse_recipient(recipient)


def new_identity() -> tuple[str, str]:
    """A fresh X25519 key pair as age-keygen makes it: (`AGE-SECRET-KEY-1...`, `age1...`)."""
    identity = _age.new_identity()
    return _age.identity_text(identity), _age.recipient_text(identity)


@dataclass(frozen=True)
class StretchedPassphrase:
    """A passphrase whose scrypt work (about half a second at work factor 18) is already done.

    `seal_to(..., passphrase=stretched)` then seals at once: the stretching can
    run in another thread (it releases the GIL) while the package is still being
    built. One salt per stretching; seal one file with it.
    """

    passphrase: str = field(repr=False)
    _stretched: _age.StretchedScrypt = field(repr=False)


def stretch_passphrase(passphrase: str, work_factor: int = 18) -> StretchedPassphrase:
    return StretchedPassphrase(passphrase, _age.ScryptRecipient(passphrase.encode("utf-8"), work_factor).stretched())


def _recipient(passphrase: str | StretchedPassphrase | None, recipient: str | None,
               work_factor: int) -> _age.Recipient:
    if (passphrase is None) == (recipient is None):
        raise TypeError("give exactly one of passphrase= and recipient=")
    if recipient is not None:
        return _age.parse_recipient(recipient)
    if isinstance(passphrase, StretchedPassphrase):
        return passphrase._stretched
    assert passphrase is not None
    return _age.ScryptRecipient(passphrase.encode("utf-8"), work_factor)


def seal_stream(
    source: _age.Reader,
    out: _age.Writer,
    *,
    passphrase: str | StretchedPassphrase | None = None,
    recipient: str | None = None,
    work_factor: int = 18,
) -> None:
    """Encrypt everything `source.read()` gives into `out.write()` as one age file, 64 KiB at a time.

    Exactly one of `passphrase` (scrypt at N = 2**work_factor; 18 is what
    `age -p` uses, about a second and 256 MiB; age refuses above 22) and
    `recipient` (an `age1...` public key). Memory stays bounded, so `out`
    can be an upload that never touches the disk. Misuse (an empty
    passphrase, a work factor out of range, a malformed recipient) raises
    ValueError before anything is written; `out` is not closed.
    """
    _age.encrypt(source, out, _recipient(passphrase, recipient, work_factor))


def seal_file(
    src: Path, dst: Path, *, passphrase: str | None = None, recipient: str | None = None, work_factor: int = 18
) -> None:
    """Encrypt the file `src` to `dst` as age, like `seal_stream`; `dst` appears whole or not at all."""
    sealed_for = _recipient(passphrase, recipient, work_factor)
    with open(src, "rb") as source, atomic_write(dst) as out:
        _age.encrypt(source, out, sealed_for)


def seal_to(
    src: Path, out: IO[bytes], *, passphrase: str | StretchedPassphrase | None = None, recipient: str | None = None,
    work_factor: int = 18,
) -> str:
    """Encrypt the file `src` into `out` (a storage writer, say) like `seal_stream`; the sha256 hex of what was
    written. The caller owns `out` and what happens to it on failure."""
    hashing = _Sha256Writer(out)
    with open(src, "rb") as source:
        buffered = io.BufferedWriter(hashing, buffer_size=_age.CHUNK_SIZE)
        seal_stream(source, buffered, passphrase=passphrase, recipient=recipient, work_factor=work_factor)
        buffered.flush()
    return hashing.digest.hexdigest()


class _Sha256Writer(io.RawIOBase):
    """Passes bytes on to `out`, hashing them on the way: no second read of what was stored."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        self.out.write(data)
        return memoryview(data).nbytes


def open_file(src: Path, dst: Path, *, passphrase: str | None = None, identity: str | None = None) -> None:
    """Decrypt the age file `src` into `dst` with a passphrase or an X25519 identity.

    `identity` is an `AGE-SECRET-KEY-1...` key or the text of an age identity
    file (comments allowed; any of its keys may open the file). Raises
    `DecryptionFailed` for a wrong passphrase or key, a tampered, truncated or
    extended file, or a file that is not age v1; `dst` is then left untouched.
    """
    if (passphrase is None) == (identity is None):
        raise TypeError("give exactly one of passphrase= and identity=")
    identities: list[_age.Identity] = []
    if identity is not None:
        identities += _age.parse_identities(identity)
    if passphrase is not None:
        identities.append(_age.ScryptIdentity(passphrase.encode("utf-8")))
    with open(src, "rb") as source, atomic_write(dst) as out:
        _age.decrypt(source, out, identities)
