"""Packages as files under a local directory: the embedded default, served by `dsar serve`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import IO, BinaryIO

from exports._atomic import atomic_write
from exports.storage.base import check_key


class LocalStorage:
    """Objects as files under `root` (created on first write).

    A file system keeps no tags: the request store records each object's
    request and expiry.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    def path(self, key: str) -> Path:
        """The local file that holds (or will hold) `key`."""
        path = self.root / check_key(key)
        # Keys cannot climb, but a symlink inside the root could: refuse to follow one out.
        if self.root.exists() and not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError("object key resolves outside the storage root")
        return path

    def ref(self, key: str) -> str:
        return self.path(key).as_uri()

    def writer(self, key: str, tags: Mapping[str, str] = {}) -> AbstractContextManager[IO[bytes]]:
        """A temporary file beside the object, renamed onto it when the block ends without error."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path)

    def put(self, src: Path, key: str, tags: Mapping[str, str] = {}) -> str:
        """Copy `src` to `key` atomically; the object's file:// URL."""
        with open(src, "rb") as source, self.writer(key, tags) as out:
            shutil.copyfileobj(source, out, 1 << 20)
        return self.ref(key)

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def delete(self, key: str) -> None:
        """Remove the object, and its directory once empty; a missing object is fine."""
        path = self.path(key)
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:  # not empty (or already gone)
                break

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Stored keys starting with `prefix`; hidden files (a crashed write's `.part`) are not objects."""
        if not self.root.is_dir():
            return
        found = []
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and path.is_file() and not any(p.startswith(".") for p in key.split("/")):
                found.append(key)
        yield from sorted(found)

    def presigned_url(self, key: str, lifetime: timedelta) -> None:
        """None: a local file has no URL of its own; `dsar serve` streams it."""
        check_key(key)
        return None
