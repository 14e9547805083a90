"""Recipes for sealing a package with an age passphrase, and opening it again.

The files are standard age v1 (https://age-encryption.org/v1): a requester
opens them with `age -d` or any other age implementation. The file recipes
write to a temporary file next to the destination and rename it at the end,
so a failure leaves nothing half-written; `seal_to` writes to any binary
file, such as a storage writer.
"""

from __future__ import annotations

import hashlib
import io
import secrets
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


def seal_file(src: Path, dst: Path, passphrase: str, work_factor: int = 18) -> None:
    """Encrypt `src` to `dst` as an age file for `passphrase` (scrypt, N = 2**work_factor).

    `work_factor` 18 is what `age -p` uses (about a second); the age CLI
    refuses to decrypt above 22. Raises ValueError for an empty passphrase or
    a work factor out of range.
    """
    with atomic_write(dst) as out:
        seal_to(src, out, passphrase, work_factor)


def seal_to(src: Path, out: IO[bytes], passphrase: str, work_factor: int = 18) -> str:
    """Encrypt `src` as an age file written to `out` (a storage writer, say); the sha256 hex of what was written.

    The same rules as `seal_file`; the caller owns `out` and what happens to
    it on failure.
    """
    if not passphrase:
        raise ValueError("passphrase must not be empty")
    if not _age.MIN_WORK_FACTOR <= work_factor <= _age.MAX_WORK_FACTOR:
        raise ValueError(f"work factor must be between {_age.MIN_WORK_FACTOR} and {_age.MAX_WORK_FACTOR}")
    hashing = _Sha256Writer(out)
    with open(src, "rb") as source:
        buffered = io.BufferedWriter(hashing, buffer_size=_age.CHUNK_SIZE)
        _age.encrypt(source, buffered, passphrase.encode("utf-8"), work_factor)
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


def open_file(src: Path, dst: Path, passphrase: str) -> None:
    """Decrypt the age file `src` into `dst`.

    Raises `DecryptionFailed` for a wrong passphrase, a tampered, truncated or
    extended file, or a file that is not an age v1 passphrase file; `dst` is
    then left untouched.
    """
    with open(src, "rb") as source, atomic_write(dst) as out:
        _age.decrypt(source, out, passphrase.encode("utf-8"))
