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

from extractors.mail.files import Entry, Files


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

    def entries(self) -> Iterator[Entry]:
        return self.inner.entries()

    def open(self, name: str) -> BinaryIO:
        self.opened.append(name)
        return _Counting(self, self.inner.open(name))  # type: ignore[return-value]


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
