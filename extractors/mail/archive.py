"""Mail archive formats, read only through `Files` so that each works on disk and in S3 alike.

What a location holds is decided from its bytes, not its name:

- one file starting with the gzip magic bytes: an mbox compressed with gzip (`.mbox.gz`);
- one file starting with "From ": an mbox;
- one file that starts with an RFC 5322 header block: a single message (`.eml`);
- a directory holding files under `cur/` or `new/`: a Maildir (Maildir++ subfolders such as
  `.Sent/cur` too; `tmp/` holds deliveries in progress and is ignored);
- any other directory: a tree of messages, every file whose first bytes are a header block
  (whatever its name: `.eml`, `.msg`, none); other files are skipped.

Anything else (missing, unreadable, empty, nothing that looks like mail) raises SourceUnavailable:
a request must never report "nothing found" because the archive was not read.

Every message has a stable `Location`: the file and, inside an mbox, the byte offset and length of
the message (in the uncompressed stream for `.gz`), so that an index can read one message back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from extractors.errors import SourceUnavailable
from extractors.mail.files import DirectoryFiles, Entry, Files

UNSUPPORTED = "not a supported mail archive (mbox, mbox.gz, Maildir, .eml)"
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 8 << 20  # mbox read size: large reads keep the scan near disk speed
SNIFF = 64 << 10  # enough to hold any sane header block
# zran seek points every 1 MiB of uncompressed mbox: one message read back decompresses ~512 KiB on average,
# and the index holds a 32 KiB window per point (~32 MB per GB of mail, kept in a file beside the address index).
GZ_SPACING = 1 << 20

# A header block: fields ("Name: value") and their continuation lines, then a blank line or the end.
_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")
_KNOWN = re.compile(rb"(?im)^(?:from|to|cc|date|subject|message-id|received|return-path|sender|mime-version)[ \t]*:")


@dataclass(frozen=True, order=True)
class Location:
    """Where one message is: a file (`name`, "" for a single-file location) and its bytes in it."""

    name: str
    offset: int
    length: int


@dataclass(frozen=True)
class Stored:
    """One message as the archive holds it. `key` is stable while the message is (an mbox offset, a
    Maildir unique name, a file name); `version` is its file's version ("" inside an mbox)."""

    location: Location
    key: str
    version: str
    raw: bytes


def looks_like_message(head: bytes) -> bool:
    """True when `head` (a file's first bytes) starts with an RFC 5322 header block naming a common field."""
    block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    lines = block.splitlines()
    if not lines or not _FIELD.match(lines[0]) or not _KNOWN.search(block):
        return False
    complete = len(lines) if len(head) > len(block) or len(head) < SNIFF else len(lines) - 1
    return all(_FIELD.match(line) or line[:1] in (b" ", b"\t") for line in lines[:complete])


def _read(files: Files, name: str, size: int = -1, offset: int = 0) -> bytes:
    stream = files.open(name)
    try:
        if offset:
            stream.seek(offset)
        return stream.read(size)
    except OSError:
        raise SourceUnavailable(files.source, "mail archive could not be read") from None
    finally:
        stream.close()


class MboxArchive:
    """An mbox, plain or gzip-compressed. Messages are split as Python's `mailbox.mbox` splits them
    (a line starting with "From " begins one; the blank line before it belongs to neither)."""

    def __init__(self, files: Files, compressed: bool) -> None:
        self.files = files
        self.compressed = compressed
        self.kind = "mbox.gz" if compressed else "mbox"

    def entry(self) -> Entry:
        for entry in self.files.entries():
            return entry
        raise SourceUnavailable(self.files.source, "mail archive could not be read")

    def stream(self, gz_index: str | None = None) -> BinaryIO:
        """The (uncompressed) mbox bytes, seekable; `gz_index` is a zran index file to start from."""
        raw = self.files.open("")
        if not self.compressed:
            return raw
        import indexed_gzip  # only .gz archives need it

        try:
            return indexed_gzip.IndexedGzipFile(fileobj=raw, spacing=GZ_SPACING, index_file=gz_index)
        except Exception:
            if gz_index is None:
                raw.close()
                raise SourceUnavailable(self.files.source, "mail archive could not be read") from None
        # The seek points no longer fit (the archive grew by another gzip member): still exact, from the start.
        raw.seek(0)
        return self.stream()

    def messages(self, start: int = 0, stream: BinaryIO | None = None) -> Iterator[Stored]:
        """Every message whose "From " line begins at or after `start` in the (uncompressed) stream."""
        own = stream is None
        stream = stream or self.stream()
        try:
            stream.seek(start)
            yield from self._split(stream, start)
        except (OSError, EOFError, ValueError, RuntimeError) as exc:  # zlib / indexed_gzip raise these on damage
            raise SourceUnavailable(self.files.source, f"mail archive could not be read ({type(exc).__name__})") \
                from None
        finally:
            if own:
                stream.close()

    def _split(self, stream: BinaryIO, base: int) -> Iterator[Stored]:
        buf = b""
        pos = 0  # where the next message's "From " line starts in buf
        eof = False
        started = False
        while True:
            if not eof:
                chunk = stream.read(CHUNK)
                eof = not chunk
                buf = buf[pos:] + chunk
                base += pos
                pos = 0
            if not started:
                if buf.startswith(b"From "):
                    started = True
                else:
                    first = buf.find(b"\nFrom ")
                    if first < 0:
                        if eof:
                            return
                        pos = max(0, len(buf) - 5)
                        continue
                    pos, started = first + 1, True
            while True:
                line_end = buf.find(b"\n", pos)
                if line_end < 0:
                    break
                nxt = buf.find(b"\nFrom ", line_end)
                if nxt < 0:
                    if not eof:
                        break
                    stop = len(buf) - 1 if buf.endswith(b"\n\n") and len(buf) - 1 > line_end else len(buf)
                    body = line_end + 1
                    yield self._stored(base + body, buf[body:max(body, stop)])
                    return
                nxt += 1
                stop = nxt - 1 if buf[nxt - 2:nxt] == b"\n\n" and nxt - 1 > line_end else nxt
                body = line_end + 1
                yield self._stored(base + body, buf[body:max(body, stop)])
                pos = nxt
            if eof:
                if pos < len(buf):  # a last "From " line with no newline: an empty message
                    yield self._stored(base + len(buf), b"")
                return

    def _stored(self, offset: int, raw: bytes) -> Stored:
        return Stored(Location("", offset, len(raw)), str(offset), "", raw)

    def read(self, locations: Iterable[Location], stream: BinaryIO | None = None) -> Iterator[Stored]:
        """The messages at `locations`, in the order given (sort them for a forward-only read)."""
        own = stream is None
        stream = stream or self.stream()
        try:
            for location in locations:
                stream.seek(location.offset)
                yield Stored(location, str(location.offset), "", stream.read(location.length))
        except (OSError, EOFError, ValueError, RuntimeError) as exc:
            raise SourceUnavailable(self.files.source, f"mail archive could not be read ({type(exc).__name__})") \
                from None
        finally:
            if own:
                stream.close()


def maildir_key(name: str) -> str:
    """A Maildir message's unique name: its path without cur/ or new/ and without the ':2,FLAGS' info,
    which change when the message is read or flagged."""
    folder, _, filename = name.rpartition("/")
    folder = folder.rpartition("/")[0] if folder.rpartition("/")[2] in ("cur", "new") else folder
    unique = re.split(r"[:;!]2,", filename, maxsplit=1)[0]
    return f"{folder}/{unique}" if folder else unique


def _in_maildir(name: str) -> bool:
    parts = name.split("/")
    return len(parts) >= 2 and parts[-2] in ("cur", "new")


class FileArchive:
    """One message per file: a Maildir, a tree of .eml files, or a single .eml."""

    def __init__(self, files: Files, kind: str) -> None:
        self.files = files
        self.kind = kind  # "maildir", "eml" (a tree) or "eml" on a single file

    def key(self, name: str) -> str:
        return maildir_key(name) if self.kind == "maildir" else name

    def candidate(self, name: str) -> bool:
        """Whether the file `name` may hold a message (a tree's files are confirmed by `message()`)."""
        return self.kind != "maildir" or _in_maildir(name)

    def candidate_folder(self, folder: str) -> bool:
        """Whether the files directly in `folder` ("" for the top) may hold messages."""
        return self.kind != "maildir" or folder.rpartition("/")[2] in ("cur", "new")

    def candidates(self) -> Iterator[Entry]:
        """The files that may hold a message, sorted by name."""
        for entry in self.files.entries():
            if self.candidate(entry.name):
                yield entry

    def message(self, entry: Entry) -> Stored | None:
        """The message in `entry`, or None for a file in a tree that is not mail."""
        raw = _read(self.files, entry.name)
        if self.kind == "eml-tree" and not looks_like_message(raw[:SNIFF]):
            return None
        return Stored(Location(entry.name, 0, len(raw)), self.key(entry.name), entry.version, raw)

    def messages(self) -> Iterator[Stored]:
        for entry in self.candidates():
            stored = self.message(entry)
            if stored is not None:
                yield stored

    def read(self, locations: Iterable[Location]) -> Iterator[Stored]:
        for location in locations:
            raw = _read(self.files, location.name)
            yield Stored(location, self.key(location.name), "", raw)


Archive = MboxArchive | FileArchive


def _holds_maildir(files: Files, folder: str) -> bool:
    """Whether a file lies directly in a cur/ or new/ folder under `folder`: by names alone where the
    store lists directories (no stat per file), else from the listing of every file."""
    if not isinstance(files, DirectoryFiles):
        return any(_in_maildir(entry.name) for entry in files.entries())
    names, subfolders = files.listdir(folder)
    if names and folder.rpartition("/")[2] in ("cur", "new"):
        return True
    return any(_holds_maildir(files, f"{folder}/{sub}" if folder else sub) for sub in subfolders)


def open_archive(files: Files, known: str | None = None) -> Archive:
    """The archive at `files`, its format detected from its bytes; raises SourceUnavailable.

    `known` is the format an index recorded for this directory, given when its top directory did not
    change since (no folder added, removed or renamed there): then nothing is listed to tell it again."""
    if known in ("maildir", "eml-tree") and not files.is_file:
        return FileArchive(files, known)
    if files.is_file:
        head = _read(files, "", SNIFF)
        if head.startswith(GZIP_MAGIC):
            archive = MboxArchive(files, compressed=True)
            stream = archive.stream()
            try:
                inner = stream.read(5)
            except Exception:  # zlib.error, EOFError, indexed_gzip's own: not a gzip stream after all
                inner = b""
            finally:
                stream.close()
            if inner == b"From ":
                return archive
        elif head.startswith(b"From "):
            return MboxArchive(files, compressed=False)
        elif looks_like_message(head):
            return FileArchive(files, "eml")
        raise SourceUnavailable(files.source, UNSUPPORTED)
    if _holds_maildir(files, ""):
        return FileArchive(files, "maildir")
    tree = FileArchive(files, "eml-tree")
    for entry in tree.candidates():
        if looks_like_message(_read(files, entry.name, SNIFF)):
            return tree
    raise SourceUnavailable(files.source, UNSUPPORTED)
