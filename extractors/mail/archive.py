"""Mail archive formats, read only through `Files` so that each works on disk and in S3 alike.

What a location holds is decided from its bytes, not its name:

- one file starting with the gzip magic bytes: an mbox compressed with gzip (`.mbox.gz`);
- one file starting with "From ": an mbox;
- one file that starts with an RFC 5322 header block: a single message (`.eml`);
- a directory holding files under `cur/` or `new/` at its root (Maildir++ subfolders such as
  `.Sent/cur` too) and no mail elsewhere: a Maildir (`tmp/` holds deliveries in progress and is
  ignored, as are the server's own files such as dovecot-uidlist);
- any other directory with mail in it: a tree of messages, every file whose first bytes are a header
  block (whatever its name: `.eml`, `.msg`, none; a BOM or a leading "From " line is allowed).
  A file that is not mail comes back withheld ("unparsed"): its first lines may still name someone.

A message over the limit (`max_message_mib`) is never held whole: it is hashed as it streams by and
comes back withheld ("too_large") with its header block, to see whose it is.

Anything else (missing, unreadable, empty, nothing that looks like mail) raises SourceUnavailable:
a request must never report "nothing found" because the archive was not read.

Every message has a stable `Location`: the file and, inside an mbox, the byte offset and length of
the message (in the uncompressed stream for `.gz`), so that an index can read one message back.
"""

from __future__ import annotations

import hashlib
import re
import threading
import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from extractors.errors import SourceUnavailable
from extractors.mail.files import DirectoryFiles, Entry, Files
from extractors.mail.limits import Limits
from extractors.mail.parse import HeaderBlock, Withheld

UNSUPPORTED = "not a supported mail archive (mbox, mbox.gz, Maildir, .eml)"
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
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
    raw: bytes  # the message (an mbox's "From " quoting undone); only its header block when `withheld` is set
    # Set when the archive already knows the message cannot be handed over: too large to hold
    # (over the archive's limit; `raw` is its header block) or a file in a tree that is not mail.
    withheld: Withheld | None = None


def looks_like_message(head: bytes) -> bool:
    """True when `head` (a file's first bytes) starts with an RFC 5322 header block naming a common field.
    A UTF-8 BOM and a leading mbox "From " envelope line (as some clients save one message) are allowed."""
    head = _unwrap(head)
    block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    lines = block.splitlines()
    if not lines or not _FIELD.match(lines[0]) or not _KNOWN.search(block):
        return False
    complete = len(lines) if len(head) > len(block) or len(head) < SNIFF else len(lines) - 1
    return all(_FIELD.match(line) or line[:1] in (b" ", b"\t") for line in lines[:complete])


def _unwrap(head: bytes) -> bytes:
    """`head` without a UTF-8 BOM and without a leading "From " envelope line."""
    head = head.removeprefix(BOM)
    if head.startswith(b"From "):
        end = head.find(b"\n")
        head = head[end + 1:] if end >= 0 else b""
    return head


class _Collector:
    """One message read a slice at a time: kept whole up to `limit` bytes; past it only hashed, with its
    header block kept (at most MAX_HEADER_BLOCK) to see whose mail it is, so memory stays bounded."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        self.sha: hashlib._Hash | None = None
        self.header = HeaderBlock()
        self.last2 = b""  # the message's last two bytes (the mbox split looks at them)

    def add(self, piece: bytes) -> None:
        if not piece:
            return
        self.size += len(piece)
        self.last2 = (self.last2 + piece[-2:])[-2:]
        self.header.feed(piece)
        if self.sha is None and self.size > self.limit:
            self.sha = hashlib.sha256()
            for part in self.parts:
                self.sha.update(part)
            self.parts = []
        if self.sha is None:
            self.parts.append(piece)
        else:
            self.sha.update(piece)

    def done(self) -> tuple[bytes, Withheld | None]:
        """The message's bytes, or (too large) its header block and what to list it as."""
        if self.sha is None:
            return b"".join(self.parts), None
        return self.header.block, Withheld("too_large", self.sha.hexdigest(), self.size, self.header.block)


def _collect(stream: BinaryIO, limit: int, length: int | None = None) -> tuple[bytes, Withheld | None]:
    """`length` bytes (None: to the end) of `stream`, whole when within `limit` (see _Collector)."""
    first = stream.read(limit + 1 if length is None else min(length, limit + 1))
    if len(first) <= limit:
        return first, None
    collector = _Collector(limit)
    collector.add(first)
    del first
    left = None if length is None else length - collector.size
    while left is None or left > 0:
        chunk = stream.read(CHUNK if left is None else min(CHUNK, left))
        if not chunk:
            break
        collector.add(chunk)
        if left is not None:
            left -= len(chunk)
    return collector.done()


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


def _gzip_check(files: Files, stop: threading.Event) -> None:
    """Raise SourceUnavailable unless the .gz file's every member is whole (indexed_gzip checks each member's
    CRC at its end, but reads a file cut inside its deflate data without a word). One inflate pass, no output kept;
    `stop` ends it early (the reader gave up)."""
    stream = files.open("")
    inflater = zlib.decompressobj(wbits=31)
    started = False
    try:
        while not stop.is_set() and (chunk := stream.read(CHUNK)):
            while chunk:
                if not started:
                    chunk = chunk.lstrip(b"\0")  # zero padding after a member, as gzip(1) allows
                    if not chunk:
                        break
                    started = True
                inflater.decompress(chunk, CHUNK)
                chunk = inflater.unconsumed_tail
                if inflater.eof:
                    chunk = inflater.unused_data + chunk
                    inflater, started = zlib.decompressobj(wbits=31), False
    except zlib.error:
        raise SourceUnavailable(files.source, "mail archive could not be read (corrupt gzip)") from None
    except OSError:
        raise SourceUnavailable(files.source, "mail archive could not be read") from None
    finally:
        stream.close()
    if started and not stop.is_set():
        raise SourceUnavailable(files.source, "mail archive could not be read (truncated gzip)")


class _GzipCheck(threading.Thread):
    """_gzip_check beside the split: zlib inflates without the GIL, so on another core it costs no wall time."""

    def __init__(self, files: Files) -> None:
        super().__init__(daemon=True)
        self.files = files
        self.stop = threading.Event()
        self.error: SourceUnavailable | None = None

    def run(self) -> None:
        try:
            _gzip_check(self.files, self.stop)
        except SourceUnavailable as exc:
            self.error = exc

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


class MboxArchive:
    """An mbox, plain or gzip-compressed. Messages are split as Python's `mailbox.mbox` splits them
    (a line starting with "From " begins one; the blank line before it belongs to neither)."""

    def __init__(self, files: Files, compressed: bool, limit: int = Limits.max_message_bytes) -> None:
        self.files = files
        self.compressed = compressed
        self.limit = limit  # a longer message is never held whole: see _Collector
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
        check = _GzipCheck(self.files) if self.compressed else None
        try:
            if check is not None:
                check.start()
            stream.seek(start)
            yield from self._split(stream, start)
            if check is not None:
                check.result()
        except (OSError, EOFError, ValueError, RuntimeError) as exc:  # zlib / indexed_gzip raise these on damage
            raise SourceUnavailable(self.files.source, f"mail archive could not be read ({type(exc).__name__})") \
                from None
        finally:
            if check is not None:
                check.stop.set()
            if own:
                stream.close()

    def _split(self, stream: BinaryIO, base: int) -> Iterator[Stored]:
        """Linear in the stream: what is kept between reads is a few bytes, or the message being read
        (at most the limit; past it a hash and a header block)."""
        sep = b"\nFrom "
        buf = stream.read(CHUNK)  # base: the stream offset of buf[0]
        if not buf.startswith(b"From "):
            while (first := buf.find(sep)) < 0:
                chunk = stream.read(CHUNK)
                if not chunk:
                    return
                keep = max(0, len(buf) - len(sep) + 1)
                base, buf = base + keep, buf[keep:] + chunk
            base, buf = base + first + 1, buf[first + 1:]
        pos = 0  # buf[pos:] starts with a "From " line
        while True:
            while (line_end := buf.find(b"\n", pos)) < 0:  # the "From " line's own bytes are not kept
                chunk = stream.read(CHUNK)
                if not chunk:  # a last "From " line with no newline: an empty message
                    yield self._stored(base + len(buf), b"", None)
                    return
                base, buf, pos = base + len(buf), chunk, 0
            body = search = line_end  # the next "From " line may follow at once: an empty message
            body += 1
            collector: _Collector | None = None
            eof = False
            while (nxt := buf.find(sep, search)) < 0:
                chunk = stream.read(CHUNK)
                if not chunk:
                    eof = True
                    break
                keep = max(body - 1, len(buf) - len(sep) + 1)
                if keep > body:
                    collector = collector or _Collector(self.limit)
                    collector.add(buf[body:keep])
                body, search = max(0, body - keep), 0
                base, buf = base + keep, buf[keep:] + chunk
            end = len(buf) if eof else nxt + 1
            tail = buf[body:max(body, end)]
            last2 = ((collector.last2 if collector else b"") + tail)[-2:]
            # The blank line before a "From " line belongs to neither message.
            if last2.endswith(b"\n") and (last2 == b"\n\n" or (collector is None and len(tail) == 1)):
                tail = tail[:-1]
            if collector is None:
                yield self._stored(base + body, tail, None)
            else:
                offset = base + body - collector.size
                collector.add(tail)
                yield self._stored(offset, *collector.done())
            if eof:
                return
            pos = end

    def _stored(self, offset: int, raw: bytes, withheld: Withheld | None) -> Stored:
        if withheld is None and len(raw) > self.limit:
            collector = _Collector(self.limit)
            collector.add(raw)
            raw, withheld = collector.done()
        length = len(raw) if withheld is None else withheld.size  # in the file: the quoted bytes
        return Stored(Location("", offset, length), str(offset), "", *_unquoted(raw, withheld))

    def read(self, locations: Iterable[Location], stream: BinaryIO | None = None) -> Iterator[Stored]:
        """The messages at `locations`, in the order given (sort them for a forward-only read)."""
        own = stream is None
        stream = stream or self.stream()
        try:
            for location in locations:
                stream.seek(location.offset)
                yield Stored(location, str(location.offset), "", *_unquoted(*_collect(stream, self.limit,
                                                                                     location.length)))
        except (OSError, EOFError, ValueError, RuntimeError) as exc:
            raise SourceUnavailable(self.files.source, f"mail archive could not be read ({type(exc).__name__})") \
                from None
        finally:
            if own:
                stream.close()


# mboxrd: a body line "From ..." is stored as ">From ...", and one already quoted gains one more ">".
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


def _unquoted(raw: bytes, withheld: Withheld | None) -> tuple[bytes, Withheld | None]:
    """A message read from an mbox with its body's "From " quoting undone (one ">" off each `^>+From ` line).

    This is the mboxrd reading; it also undoes mboxo's quoting (">From " for "From "), which cannot tell a
    quoted line from one that began ">From " anyway. The header block is left as it is: a field never begins
    with ">". A withheld message holds only its header block.
    """
    if withheld is not None or b">From " not in raw:
        return raw, withheld
    end = re.search(rb"\r?\n\r?\n", raw)
    if end is None:
        return raw, None
    return raw[:end.end()] + _QUOTED_FROM.sub(rb"\1", raw[end.end():]), None


def maildir_key(name: str) -> str:
    """A Maildir message's unique name: its path without cur/ or new/ and without the ':2,FLAGS' info,
    which change when the message is read or flagged."""
    folder, _, filename = name.rpartition("/")
    folder = folder.rpartition("/")[0] if folder.rpartition("/")[2] in ("cur", "new") else folder
    unique = re.split(r"[:;!]2,", filename, maxsplit=1)[0]
    return f"{folder}/{unique}" if folder else unique


def _in_maildir(name: str) -> bool:
    """A message file of a Maildir: under cur/ or new/ at the root, or in a Maildir++ folder (.Sent/cur)."""
    parts = name.split("/")
    return (len(parts) == 2 and parts[0] in ("cur", "new")) or (
        len(parts) == 3 and parts[0].startswith(".") and parts[1] in ("cur", "new"))


def _maildir_own(name: str) -> bool:
    """A message of a Maildir or a delivery in progress (tmp/); its server's files (dovecot-uidlist ...) are not."""
    parts = name.split("/")
    return _in_maildir(name) or "tmp" in parts[:-1][:2]


class FileArchive:
    """One message per file: a Maildir, a tree of .eml files, or a single .eml."""

    def __init__(self, files: Files, kind: str, limit: int = Limits.max_message_bytes) -> None:
        self.files = files
        self.kind = kind  # "maildir", "eml-tree" or "eml" (a single file)
        self.limit = limit

    def key(self, name: str) -> str:
        return maildir_key(name) if self.kind == "maildir" else name

    def candidate(self, name: str) -> bool:
        """Whether the file `name` may hold a message (a tree's files are confirmed by `message()`)."""
        return self.kind != "maildir" or _in_maildir(name)

    def candidate_folder(self, folder: str) -> bool:
        """Whether the files directly in `folder` ("" for the top) may hold messages."""
        return self.kind != "maildir" or _in_maildir(f"{folder}/message")

    def candidates(self) -> Iterator[Entry]:
        """The files that may hold a message (a tree's files are sniffed by `message()`)."""
        for entry in self.files.entries():
            if self.candidate(entry.name):
                yield entry

    def message(self, entry: Entry) -> Stored:
        """The message in `entry`. A file in a tree that is not mail comes back `withheld` ("unparsed"):
        its header region may still name someone, and nothing may vanish unseen."""
        return self._load(Location(entry.name, 0, entry.size), entry.version)

    def messages(self) -> Iterator[Stored]:
        for entry in self.candidates():
            yield self.message(entry)

    def read(self, locations: Iterable[Location]) -> Iterator[Stored]:
        for location in locations:
            yield self._load(location, "")

    def _load(self, location: Location, version: str) -> Stored:
        stream = self.files.open(location.name)
        try:
            head = stream.read(SNIFF)
            if self.kind == "eml-tree" and not looks_like_message(head):
                stream.seek(0)
                collector = _Collector(0)  # hashed, never kept
                while chunk := stream.read(CHUNK):
                    collector.add(chunk)
                header, _ = collector.done()
                digest = collector.sha.hexdigest() if collector.sha else hashlib.sha256(b"").hexdigest()
                withheld = Withheld("unparsed", digest, collector.size, header)
                return Stored(Location(location.name, 0, collector.size), self.key(location.name), version,
                              header, withheld)
            stream.seek(3 if head.startswith(BOM) else 0)  # the parser would take a BOM for a broken header
            raw, too_large = _collect(stream, self.limit)
        except OSError:
            raise SourceUnavailable(self.files.source, "mail archive could not be read") from None
        finally:
            stream.close()
        length = len(raw) if too_large is None else too_large.size
        return Stored(Location(location.name, 0, length), self.key(location.name), version, raw, too_large)


Archive = MboxArchive | FileArchive


def _names(files: Files) -> Iterator[str]:
    """Every file's name: by listing directories where the store can (no stat per file)."""
    if not isinstance(files, DirectoryFiles):
        yield from (entry.name for entry in files.entries())
        return
    folders = [""]
    while folders:
        folder = folders.pop()
        names, subfolders = files.listdir(folder)
        prefix = f"{folder}/" if folder else ""
        yield from (prefix + name for name in names)
        folders += (prefix + sub for sub in subfolders)


def _is_maildir(files: Files) -> bool:
    """Mail in cur/ or new/ at the top (or in Maildir++ folders), and no mail anywhere else."""
    return any(_in_maildir(name) for name in _names(files)) and not any(
        not _maildir_own(name) and looks_like_message(_read(files, name, SNIFF)) for name in _names(files))


def still_maildir(files: DirectoryFiles, recorded: Collection[str]) -> bool:
    """Whether a Maildir whose top folder changed since it was indexed is still one, from its top alone: no
    folder there the index does not know, and no file there that is mail. Dovecot rewrites its uidlist at
    the top on every delivery and flag change; telling the format again from every folder's names would
    make each lookup grow with the archive."""
    names, subfolders = files.listdir("")
    return all(sub in recorded for sub in subfolders) and not any(
        looks_like_message(_read(files, name, SNIFF)) for name in names)


def open_archive(files: Files, known: str | None = None, limit: int = Limits.max_message_bytes) -> Archive:
    """The archive at `files`, its format detected from its bytes; a message over `limit` bytes is never
    held whole (it comes `withheld`). Raises SourceUnavailable.

    `known` is the format an index recorded for this directory, given when its top directory did not
    change since (no folder added, removed or renamed there): then nothing is listed to tell it again."""
    if known in ("maildir", "eml-tree") and not files.is_file:
        return FileArchive(files, known, limit)
    if files.is_file:
        head = _read(files, "", SNIFF)
        if head.startswith(GZIP_MAGIC):
            archive = MboxArchive(files, compressed=True, limit=limit)
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
            return MboxArchive(files, compressed=False, limit=limit)
        elif looks_like_message(head):
            return FileArchive(files, "eml", limit)
        raise SourceUnavailable(files.source, UNSUPPORTED)
    if _is_maildir(files):
        return FileArchive(files, "maildir", limit)
    # Mail outside cur/ and new/ (tickets/new/1.eml beside tickets/closed/2.eml): a tree, every file read.
    tree = FileArchive(files, "eml-tree", limit)
    for entry in tree.candidates():
        if looks_like_message(_read(files, entry.name, SNIFF)):
            return tree
    raise SourceUnavailable(files.source, UNSUPPORTED)
