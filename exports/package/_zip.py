"""Zip members with fixed timestamps and attributes, each hashed as it is written."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

_FILE_MODE = 0o100644  # a regular file, rw-r--r--
# zlib's own default: level 9 took a quarter of a package's build time for a few per cent of size.
_COMPRESS_LEVEL = 6
_BUFFER = 1 << 16  # records arrive a few hundred bytes at a time; deflate and hash them in larger pieces
DateTime = tuple[int, int, int, int, int, int]


@dataclass(frozen=True)
class PackageFile:
    """One member of the package, as listed in index.json."""

    path: str
    sha256: str
    bytes: int
    records: int | None
    schema: str | None


def zip_info(path: str, date_time: DateTime, stored: bool = False) -> zipfile.ZipInfo:
    """A member's fixed attributes; `stored` for data that is compressed already (a workbook is a zip)."""
    info = zipfile.ZipInfo(path, date_time=date_time)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    # ZipInfo.compress_level is public from Python 3.13; before that the private name is the only way.
    if hasattr(info, "compress_level"):
        info.compress_level = _COMPRESS_LEVEL
    else:
        info._compresslevel = _COMPRESS_LEVEL  # type: ignore[attr-defined]  # private, so typeshed leaves it out
    info.create_system = 3  # Unix, whatever platform builds the package
    info.external_attr = _FILE_MODE << 16
    return info


class MemberWriter:
    """Bytes into one zip member; counts and hashes them. `records` is set by whoever knows it."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.hash, self.size = out, hashlib.sha256(), 0
        self.records: int | None = None
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._pending += data
        if len(self._pending) >= _BUFFER:
            self.flush()

    def flush(self) -> None:
        self.out.write(self._pending)
        self.hash.update(self._pending)
        self.size += len(self._pending)
        self._pending.clear()


class PackageZip:
    """The package's zip, written member by member; remembers what each member holds."""

    def __init__(self, zf: zipfile.ZipFile, date_time: DateTime) -> None:
        self.zf, self.date_time = zf, date_time
        self.files: list[PackageFile] = []
        self._paths: set[str] = set()

    @contextmanager
    def member(self, path: str, schema: str | None = None, stored: bool = False) -> Iterator[MemberWriter]:
        if path in self._paths:
            raise ValueError(f"{path} would be written twice")
        self._paths.add(path)
        # force_zip64: the size is not known up front and may pass 4 GiB.
        with self.zf.open(zip_info(path, self.date_time, stored), "w", force_zip64=True) as entry:
            writer = MemberWriter(entry)
            yield writer
            writer.flush()
        self.files.append(PackageFile(path, writer.hash.hexdigest(), writer.size, writer.records, schema))

    def write(self, path: str, data: bytes) -> None:
        with self.member(path) as out:
            out.write(data)
