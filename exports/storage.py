"""Where sealed packages are kept: a local directory now, S3 later.

Object keys are relative slash-separated paths such as
`REQ-ABC/REQ-ABC.zip.age`; each segment starts with a letter, digit or '_'
and holds only letters, digits, '.', '_' and '-', so a key can never climb
out of the storage root, name a hidden file or an absolute path.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from exports._atomic import atomic_write

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


class LocalStorage:
    """Objects as files under `root` (created on first put)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    def path(self, key: str) -> Path:
        """The local file that holds (or will hold) `key`."""
        path = self.root / check_key(key)
        # Keys cannot climb, but a symlink inside the root could: refuse to follow one out.
        if self.root.exists() and not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError("object key resolves outside the storage root")
        return path

    def put(self, src: Path, key: str) -> str:
        """Copy `src` to `key` atomically (temp file + rename); the object's file:// URL."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(src, "rb") as source, atomic_write(path) as out:
            shutil.copyfileobj(source, out, 1 << 20)
        return path.as_uri()

    def open(self, key: str) -> BinaryIO:
        """The object for reading; FileNotFoundError if it does not exist."""
        return open(self.path(key), "rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the object (a missing one is fine) and its folder once that is empty."""
        path = self.path(key)
        path.unlink(missing_ok=True)
        if path.parent != self.root:
            with contextlib.suppress(OSError):  # not empty, or already gone
                path.parent.rmdir()

    def size(self, key: str) -> int:
        """Size in bytes; FileNotFoundError if the object does not exist."""
        return self.path(key).stat().st_size


def storage_from_url(url: str, base_dir: Path) -> LocalStorage:
    """The storage a config URL names: `file:///absolute/dir` or `file://relative/dir`.

    A relative path is resolved against `base_dir` (the config file's
    directory). Any other scheme raises ValueError naming it.
    """
    if url.startswith("file://"):
        location = url[len("file://") :]
        if not location:
            raise ValueError("storage URL 'file://' names no directory")
        return LocalStorage(Path(base_dir) / location)
    raise ValueError(f"unsupported storage URL scheme {urlsplit(url).scheme!r}")
