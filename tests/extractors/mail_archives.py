"""The demo company's support mail written in every archive format the mail source reads, and a Files
wrapper that counts what a lookup reads."""

from __future__ import annotations

import gzip
import io
import mailbox
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from extractors.mail.files import DirectoryFiles, Entry, Files


def messages_of(mbox: Path) -> list[bytes]:
    box = mailbox.mbox(mbox, create=False)
    try:
        return [box.get_bytes(key) for key in box.iterkeys()]
    finally:
        box.close()


def write_format(mbox: Path, out: Path, fmt: str) -> Path:
    """`mbox`'s messages at `out` as `fmt`: mbox, mbox.gz, maildir (new/ and cur/ with flags), eml (a tree)."""
    if fmt == "mbox":
        shutil.copyfile(mbox, out)
    elif fmt == "mbox.gz":
        with mbox.open("rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    elif fmt == "maildir":
        for no, raw in enumerate(messages_of(mbox)):
            name = f"cur/{1000 + no}.M{no}P7.host:2,S" if no % 3 else f"new/{1000 + no}.M{no}P7.host"
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(raw)
        (out / "tmp").mkdir(exist_ok=True)
        (out / "tmp" / "half-delivered").write_bytes(b"From: x@y.fi\n")
    elif fmt == "eml":
        for no, raw in enumerate(messages_of(mbox)):
            target = out / f"{no % 4}" / f"{no:05d}.eml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
        (out / "README.txt").write_text("not mail, skipped\n")
    else:
        raise ValueError(fmt)
    return out


class CountingFiles:
    """Files that count every open() and byte read: proof of what a lookup touched."""

    def __init__(self, inner: Files) -> None:
        self.inner = inner
        self.source = inner.source
        self.is_file = inner.is_file
        self.opened: list[str] = []
        self.bytes_read = 0
        self.listed = 0  # files listed by entries(), a stat each

    def entries(self) -> Iterator[Entry]:
        for entry in self.inner.entries():
            self.listed += 1
            yield entry

    def open(self, name: str) -> BinaryIO:
        self.opened.append(name)
        return _Counting(self, self.inner.open(name))  # type: ignore[return-value]


class CountingDirectoryFiles(CountingFiles):
    """CountingFiles over a local directory, also counting the stat of each file and the directories listed."""

    def __init__(self, inner: DirectoryFiles) -> None:
        super().__init__(inner)
        self.directory_files = inner
        self.stated: list[str] = []
        self.dirs_listed: list[str] = []

    def directories(self) -> Iterator[Entry]:
        return self.directory_files.directories()

    def directory(self, name: str) -> Entry | None:
        return self.directory_files.directory(name)

    def file(self, name: str) -> Entry | None:
        self.stated.append(name)
        return self.directory_files.file(name)

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        self.dirs_listed.append(name)
        return self.directory_files.listdir(name)


class _Counting:
    def __init__(self, owner: CountingFiles, stream: BinaryIO) -> None:
        self.owner, self.stream = owner, stream

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.owner.bytes_read += len(data)
        return data

    def readinto(self, buffer: bytearray) -> int:
        count = self.stream.readinto(buffer)  # type: ignore[attr-defined]
        self.owner.bytes_read += count or 0
        return int(count or 0)

    def fileno(self) -> int:
        # No file descriptor: a reader (indexed_gzip) must come through read() and be counted.
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)
