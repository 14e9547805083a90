"""What every package store offers, and the object keys it accepts.

Object keys are relative slash-separated paths such as
`REQ-ABC/REQ-ABC.zip.age`; each segment starts with a letter, digit or '_'
and holds only letters, digits, '.', '_' and '-', so a key can never climb
out of the storage root, name a hidden file or an absolute path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import IO, BinaryIO, Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
MAX_KEY_LENGTH = 512


def check_key(key: str) -> str:
    """Return `key` if it is a safe object key, else raise ValueError."""
    if (
        not isinstance(key, str)
        or not key
        or len(key) > MAX_KEY_LENGTH
        or not all(_SEGMENT.fullmatch(part) and ".." not in part for part in key.split("/"))
    ):
        raise ValueError("object key must be a relative path of [A-Za-z0-9._-] segments")
    return key


class StorageSettingError(ValueError):
    """A storage setting is wrong or does not fit the others; `setting` names it (url, kms_key_id, ...)."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


class Storage(Protocol):
    """A place for sealed packages: a local directory or an S3 bucket.

    Every method checks its key with `check_key`. Tags (request id, expiry)
    travel with the object where the backend can keep them; the request store
    stays the record of what was stored.
    """

    def put(self, src: Path, key: str, tags: Mapping[str, str] = {}) -> str:
        """Store a copy of the file `src` under `key`; the object's reference URL (file://, s3://)."""
        ...

    def writer(self, key: str, tags: Mapping[str, str] = {}) -> AbstractContextManager[IO[bytes]]:
        """A file to stream the object into; it appears whole when the block ends.

        On an exception inside the block nothing is left behind, and an
        object already under `key` is untouched.
        """
        ...

    def ref(self, key: str) -> str:
        """The reference URL of `key` (what `put` returns)."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The object for reading; FileNotFoundError if it does not exist."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Size in bytes; FileNotFoundError if the object does not exist."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key that starts with `prefix`, in sorted order."""
        ...

    def presigned_url(self, key: str, lifetime: timedelta) -> str | None:
        """A URL that downloads the object directly for `lifetime`; None where the backend has none
        (local storage: `dsar serve` streams the file)."""
        ...
