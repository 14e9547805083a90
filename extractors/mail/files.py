"""Where a mail archive's bytes live: a local path or an `s3://bucket/prefix`, seen the same way.

An archive format (mbox, Maildir, a tree of .eml files) reads its files only
through `Files`, so each format is written once and works on disk and in S3
alike. A location is a single file (an mbox, an .mbox.gz, one .eml) or a
directory / prefix holding many.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

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
