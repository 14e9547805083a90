"""Where a mail archive's bytes live: a local path or an `s3://bucket/prefix`, seen the same way.

An archive format (mbox, Maildir, a tree of .eml files) reads its files only
through `Files`, so each format is written once and works on disk and in S3
alike. A location is a single file (an mbox, an .mbox.gz, one .eml) or a
directory / prefix holding many.

A local directory also offers `DirectoryFiles`: each directory's version (its st_mtime_ns, which
changes whenever a file is created, deleted or renamed directly in it), so that a lookup can stat a
handful of directories instead of every file to know the index still holds. S3 has no directories
(a prefix has no version of its own), so `S3Files` is plain `Files` and a lookup there lists every key.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from extractors.errors import SourceUnavailable


@dataclass(frozen=True)
class Entry:
    """One stored file. `name` is '/'-separated and relative to the location ("" when the location is
    the file itself); `version` changes whenever the file's content may have (size and mtime, an ETag)."""

    name: str
    size: int
    version: str


class Files(Protocol):
    """Read-only access to the files of one archive location."""

    source: str  # the configured source's name, for errors
    is_file: bool  # the location is one file, not a directory or prefix

    def entries(self) -> Iterator[Entry]:
        """Every file under the location, recursively, sorted by name; raises SourceUnavailable."""
        ...

    def open(self, name: str) -> BinaryIO:
        """A seekable binary stream over one file; raises SourceUnavailable."""
        ...


RACY_NS = 3_000_000_000  # a directory younger than this may change again within its mtime's tick (and NFS clocks drift)


@runtime_checkable
class DirectoryFiles(Files, Protocol):
    """Files in directories that have versions (a local path): what a lookup needs to trust its index
    after a stat per directory. A version changes when an entry is created, deleted or renamed directly in
    the directory, not when a file in it is written in place."""

    def directories(self) -> Iterator[Entry]:
        """The location and every directory under it, each stat'ed before it is listed (a file added
        meanwhile changes a version taken here). A directory changed in the last seconds gets version ""
        (never current): a file added in the same clock tick as that change would not move its mtime
        (git's "racy clean" rule), so lookups list it until the next index."""
        ...

    def directory(self, name: str) -> Entry | None:
        """Directory `name` ("" for the location) as it is now, or None when it is gone."""
        ...

    def file(self, name: str) -> Entry | None:
        """File `name` as it is now, or None when it is gone."""
        ...

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        """The names of the files and of the subdirectories directly in directory `name`, each sorted
        (no stat per file); raises SourceUnavailable."""
        ...


class LocalFiles:
    def __init__(self, source: str, path: Path) -> None:
        self.source = source
        self.path = path
        try:
            self.is_file = path.is_file()
            if not self.is_file and not path.is_dir():
                raise SourceUnavailable(source, "mail archive not found")
        except OSError:
            raise SourceUnavailable(source, "mail archive could not be read") from None

    def entries(self) -> Iterator[Entry]:
        try:
            if self.is_file:
                yield _entry("", self.path.stat())
                return
            yield from _walk(self.path, "")
        except OSError:
            raise SourceUnavailable(self.source, "mail archive could not be read") from None

    def open(self, name: str) -> BinaryIO:
        try:
            return (self.path if self.is_file else self.path / name).open("rb")
        except OSError:
            raise SourceUnavailable(self.source, "mail archive could not be read") from None

    def directories(self, name: str = "") -> Iterator[Entry]:
        try:
            found = (self.path / name).stat()
        except OSError:
            raise SourceUnavailable(self.source, "mail archive could not be read") from None
        settled = time.time_ns() - found.st_mtime_ns > RACY_NS
        yield Entry(name, found.st_size, _entry(name, found).version if settled else "")
        for sub in self.listdir(name)[1]:
            yield from self.directories(f"{name}/{sub}" if name else sub)

    def directory(self, name: str) -> Entry | None:
        return self._stat(name, stat.S_ISDIR)

    def file(self, name: str) -> Entry | None:
        return self._stat(name, stat.S_ISREG)

    def _stat(self, name: str, kind: Callable[[int], bool]) -> Entry | None:
        try:
            found = (self.path / name).stat()
        except FileNotFoundError:
            return None
        except OSError:
            raise SourceUnavailable(self.source, "mail archive could not be read") from None
        return _entry(name, found) if kind(found.st_mode) else None

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        files: list[str] = []
        folders: list[str] = []
        try:
            with os.scandir(self.path / name) as found:
                for entry in found:
                    (folders if entry.is_dir() else files).append(entry.name)
        except OSError:
            raise SourceUnavailable(self.source, "mail archive could not be read") from None
        return sorted(files), sorted(folders)


def _entry(name: str, stat: os.stat_result) -> Entry:
    return Entry(name, stat.st_size, f"{stat.st_size}:{stat.st_mtime_ns}")


def _walk(directory: Path, prefix: str) -> Iterator[Entry]:
    """Files under `directory` in the order of their '/'-joined names, as an S3 listing gives them: a
    folder sorts as its name plus '/', so "a/x" comes after "a.txt" (os.walk would put it first)."""
    with os.scandir(directory) as found:
        children = sorted(((entry.name + "/" if entry.is_dir() else entry.name), entry) for entry in found)
    for key, entry in children:
        if key.endswith("/"):
            yield from _walk(Path(entry.path), prefix + key)
        elif entry.is_file():
            yield _entry(prefix + entry.name, entry.stat())


def open_files(source: str, location: str, base_dir: Path, environ: Mapping[str, str]) -> Files:
    """The files at `location`: `s3://bucket/prefix`, or a path (relative to the config's directory)."""
    if location.startswith("s3://"):
        from extractors.mail.s3files import S3Files  # boto3 loads only for a source in S3

        return S3Files(source, location, environ)
    return LocalFiles(source, base_dir / location)
