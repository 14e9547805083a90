"""An address index of a mail archive: a SQLite file mapping addresses and Message-IDs to messages.

    messages(id, key, name, offset, length, version, message_id)   where each message is
    addresses(address, message)      every address-shaped token of its header block, ASCII-lower-cased,
                                     and every address of From/To/Cc/Bcc/Reply-To/Sender
    refs(ref, message)               the Message-IDs in its In-Reply-To and References
    directories(name, version)       a local Maildir's or .eml tree's directories as they were when listed

Building and updating live here; reading it (AddressIndex) in lookup.py.
    meta(key, value)                 format, how far an mbox is covered and a fingerprint of that part

The index only narrows: a lookup reads the messages it names and the parsed headers decide, so
it may hold more than the address headers (a token in Received: costs a row, never a wrong
record). Tokens from the whole header block make a message that does not parse findable too:
the scan withholds those when the subject's address is anywhere in its header block.

Building reads header blocks only and parses no MIME. An mbox is indexed up to an offset; a
re-run adds what follows it, and rebuilds from scratch when the indexed part changed (its
size shrank or its fingerprint differs); it covers only what was there when the update began, and
a last message not yet followed by its blank line (a delivery in progress) is left for the next run.
One-file-per-message archives are compared by name
and version: new and changed files are read, deleted ones dropped, Maildir flag renames
followed without reading the message again. For a local directory each directory's version
(mtime) is recorded, stat'ed before its files are listed, so that a lookup can tell from a stat per
directory that no file was added, deleted or renamed since (lookup.py's `unchanged`). One update at a
time holds `<index>.lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path
from typing import BinaryIO, cast

from extractors.errors import SourceUnavailable
from extractors.mail.archive import Archive, MboxArchive, Stored
from extractors.mail.files import DirectoryFiles, Entry
from identity.address import ascii_lower

SCHEMA = "3"  # 2: tokens hold every atext character (o'brien@, a&b@); 3: files that are not mail indexed
BATCH = 20_000  # messages per transaction
MISSING, FRESH, STALE, REWRITTEN = "missing", "fresh", "stale", "rewritten"

_THREAD_FIELDS = re.compile(rb"(?im)^(message-id|in-reply-to|references)[ \t]*:(.*(?:\r?\n[ \t].*)*)")
_ADDRESS_FIELDS = re.compile(rb"(?im)^(?:from|to|cc|bcc|reply-to|sender)[ \t]*:(.*(?:\r?\n[ \t].*)*)")
# A local part may hold any RFC 5322 atext character (o'brien@, a&b@, joe{x}@). The common set is read
# apart too: "'ann@example.com'" or "=ann@example.com" must still give ann@example.com.
_ATEXT = rb"A-Za-z0-9!#$%&'*+/=?^_`{|}~."  # and "-", last in each class below
_ASCII_TOKEN = re.compile(rb"[" + _ATEXT + rb"-]+@[A-Za-z0-9.-]+")
_UTF8_TOKEN = re.compile(rb"[" + _ATEXT + rb"\x80-\xff-]+@[A-Za-z0-9.\x80-\xff-]+")
_COMMON_TOKEN = re.compile(rb"[A-Za-z0-9._%+\x80-\xff-]+@[A-Za-z0-9.\x80-\xff-]+")
_UNCOMMON = re.compile(rb"[!#$&'*/=?^`{|}~]")
# An "@" next to a space, a comment, a quote or a bracket: obsolete or quoted syntax ("a @ b", "a@(c)b",
# "\"a b\"@c") that no token shows whole, so getaddresses reads those headers. Most mail has none.
_ODD_AT = re.compile(rb'[\s()"\\<\]]@|@[\s()\[>]')
_MSGID = re.compile(rb"<([^<>\s]+)>")


@dataclass(frozen=True)
class Headers:
    """What the index keeps of one message's header block."""

    addresses: frozenset[str]
    message_id: str | None
    refs: tuple[str, ...]


def header_end(raw: bytes) -> int:
    """Where the header block ends: the first empty line (LF or CRLF), else the end."""
    ends = [at for at in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if at >= 0]
    return min(ends) if ends else len(raw)


def read_headers(raw: bytes) -> Headers:
    """Addresses and thread ids from the header block of `raw`, by a bytes scan (no MIME parsing)."""
    block = raw[: header_end(raw)]
    lower = block.lower()
    tokens = _ASCII_TOKEN.findall(lower)
    if not lower.isascii():
        tokens += _UTF8_TOKEN.findall(lower)
    found = {token.rstrip(b".-") for token in tokens}
    for token in tokens:
        if _UNCOMMON.search(token):
            found.update(part.rstrip(b".-") for part in _COMMON_TOKEN.findall(token))
    if _ODD_AT.search(block):
        for value in _ADDRESS_FIELDS.findall(block):
            text = value.replace(b"\r", b"").replace(b"\n", b"").decode("utf-8", "replace")
            with contextlib.suppress(Exception):  # a header getaddresses chokes on is left to the tokens above
                found.update(ascii_lower(addr).encode("utf-8") for _, addr in getaddresses([text]) if "@" in addr)
    message_id: str | None = None
    refs: list[str] = []
    for name, value in _THREAD_FIELDS.findall(block):
        if name.lower() == b"message-id":
            ids = _MSGID.findall(value) or value.split()[:1]
            message_id = message_id or (ids[0].decode("utf-8", "replace") if ids else None)
        else:
            refs += (ref.decode("utf-8", "replace") for ref in _MSGID.findall(value))
    addresses = frozenset(token.decode("utf-8", "replace") for token in found if b"@" in token)
    return Headers(addresses, message_id, tuple(dict.fromkeys(refs)))


@dataclass(frozen=True)
class BuildStats:
    """What one `update_index` did: `parsed` messages read and added, `removed`, `total` now held."""

    kind: str
    parsed: int
    removed: int
    total: int
    seconds: float
    rebuilt: str | None  # why the index was built from scratch ("new", "rewritten", "format"), None if updated
    unnamed: int = 0  # files left out because their names are not UTF-8 (a lookup reads them every time)

    @property
    def per_second(self) -> float:
        return self.parsed / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[int], None]  # called with the number of messages read so far


def gz_index_path(path: Path) -> Path:
    """The zran seek-point index of a .gz archive, kept beside the address index."""
    return path.with_name(path.name + ".gzidx")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")  # a crash mid-build loses the build, never a request: it is rebuilt
    return db


def _create(db: sqlite3.Connection, kind: str) -> None:
    db.executescript("""
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE messages(id INTEGER PRIMARY KEY, key TEXT NOT NULL, name TEXT NOT NULL, offset INTEGER NOT NULL,
                              length INTEGER NOT NULL, version TEXT NOT NULL, message_id TEXT);
        CREATE TABLE addresses(address TEXT NOT NULL, message INTEGER NOT NULL);
        CREATE TABLE refs(ref TEXT NOT NULL, message INTEGER NOT NULL);
    """)
    _set_meta(db, {"schema": SCHEMA, "kind": kind})


def _create_indexes(db: sqlite3.Connection) -> None:
    # After the bulk first build: sorting once is far faster than growing B-trees row by row.
    db.executescript("""
        CREATE INDEX IF NOT EXISTS addresses_address ON addresses(address);
        CREATE INDEX IF NOT EXISTS addresses_message ON addresses(message);
        CREATE INDEX IF NOT EXISTS refs_ref ON refs(ref);
        CREATE INDEX IF NOT EXISTS refs_message ON refs(message);
        CREATE INDEX IF NOT EXISTS messages_message_id ON messages(message_id);
        CREATE INDEX IF NOT EXISTS messages_key ON messages(key);
        CREATE INDEX IF NOT EXISTS messages_name ON messages(name);
    """)


def _set_meta(db: sqlite3.Connection, values: dict[str, str]) -> None:
    db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items())


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    """The index's own facts (schema, format, how far an mbox is covered); {} for what is not an index."""
    try:
        return dict(db.execute("SELECT key, value FROM meta"))
    except sqlite3.DatabaseError:
        return {}


def fingerprint(archive: MboxArchive, size: int) -> str:
    """A hash of the first and last 64 KiB of an mbox file's first `size` (raw, compressed) bytes and the size.

    Rewriting an mbox (expunging or editing a message) shifts or changes its end, which this sees
    without reading the whole archive; an edit in place that keeps every length is not seen.
    """
    digest = hashlib.sha256(str(size).encode())
    stream = archive.files.open("")
    try:
        digest.update(stream.read(min(size, 1 << 16)))
        stream.seek(max(0, size - (1 << 16)))
        digest.update(stream.read(min(size, 1 << 16)))
    except OSError:
        raise SourceUnavailable(archive.files.source, "mail archive could not be read") from None
    finally:
        stream.close()
    return digest.hexdigest()


class _Writer:
    """Batched inserts, one transaction per batch."""

    def __init__(self, db: sqlite3.Connection, progress: Progress | None) -> None:
        self.db = db
        self.progress = progress
        self.messages: list[tuple[int, str, str, int, int, str, str | None]] = []
        self.addresses: list[tuple[str, int]] = []
        self.refs: list[tuple[str, int]] = []
        self.count = 0

    def add(self, ident: int, stored: Stored) -> None:
        headers = read_headers(stored.raw)
        loc = stored.location
        self.messages.append((ident, stored.key, loc.name, loc.offset, loc.length, stored.version, headers.message_id))
        self.addresses += ((address, ident) for address in headers.addresses)
        self.refs += ((ref, ident) for ref in headers.refs)
        self.count += 1

    def full(self) -> bool:
        return len(self.messages) >= BATCH

    def flush(self, meta: dict[str, str] | None = None) -> None:
        db = self.db
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", self.messages)
        db.executemany("INSERT INTO addresses VALUES (?, ?)", self.addresses)
        db.executemany("INSERT INTO refs VALUES (?, ?)", self.refs)
        if meta:
            _set_meta(db, meta)
        db.execute("COMMIT")
        self.messages, self.addresses, self.refs = [], [], []
        if self.progress:
            self.progress(self.count)


def update_index(archive: Archive, path: Path, progress: Progress | None = None) -> BuildStats:
    """Build the index of `archive` at `path`, or bring an existing one up to date; returns what it did.

    A first build writes a `.part` file of this process and renames it into place, so no half-built
    index is ever used; an index SQLite cannot read is built again. Raises SourceUnavailable when the
    archive cannot be read or another process is updating the same index.
    """
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path, archive.files.source):
        rebuilt = _open_reason(archive, path)
        if rebuilt is None:
            try:
                parsed, removed, unnamed, total = _update(archive, path, progress, follow_renames=True)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):  # locked, disk full: not the file's fault
                    raise
                rebuilt = "format"  # damaged past its meta table: what it held cannot be trusted
        if rebuilt is not None:
            target = path.with_name(f"{path.name}.{os.getpid()}.part")
            for stale in path.parent.glob(f"{glob.escape(path.name)}.*.part*"):  # crashed builds' leftovers
                stale.unlink(missing_ok=True)
            try:
                parsed, removed, unnamed, total = _update(archive, target, progress, follow_renames=False)
                if isinstance(archive, MboxArchive) and archive.compressed:
                    os.replace(gz_index_path(target), gz_index_path(path))
                os.replace(target, path)
            finally:
                for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                    leftover.unlink(missing_ok=True)
            for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
    return BuildStats(archive.kind, parsed, removed, total, time.perf_counter() - started, rebuilt, unnamed)


@contextlib.contextmanager
def _locked(path: Path, source: str) -> Iterator[None]:
    """Hold `<path>.lock` for a whole update: two updates at once would take each other's ids and files."""
    with Path(f"{path}.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SourceUnavailable(source, "mail index is being updated by another process; "
                                            "run again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _open_reason(archive: Archive, path: Path) -> str | None:
    """Why the index at `path` must be built from scratch ("new", "format", "rewritten"), None to update it."""
    if not path.exists():
        return "new"
    try:
        db = sqlite3.connect(readonly_uri(path), uri=True)
    except sqlite3.DatabaseError:
        return "format"
    try:
        meta = read_meta(db)
    finally:
        db.close()
    if meta.get("schema") != SCHEMA or meta.get("kind") != archive.kind:
        return "format"
    if isinstance(archive, MboxArchive) and mbox_state(archive, meta)[0] == REWRITTEN:
        return "rewritten"
    return None


def _update(archive: Archive, target: Path, progress: Progress | None, follow_renames: bool
            ) -> tuple[int, int, int, int]:
    """Update (or, for a new `target`, build) the index file `target`; returns (parsed, removed, unnamed, total)."""
    new = not target.exists()
    db = _connect(target)
    try:
        if new:
            _create(db, archive.kind)
        if isinstance(archive, MboxArchive):
            parsed, removed, unnamed = *_update_mbox(archive, db, target, progress), 0
        else:
            parsed, removed, unnamed = _update_files(archive, db, progress, follow_renames=follow_renames)
        _create_indexes(db)
        total = db.execute("SELECT count(*) FROM messages").fetchone()[0]
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return parsed, removed, unnamed, total


def readonly_uri(path: Path) -> str:
    """An SQLite URI opening `path` read-only; percent-encoded, so '#', '?' or '%' in a directory name are a path."""
    return path.resolve().as_uri() + "?mode=ro"


def _update_mbox(archive: MboxArchive, db: sqlite3.Connection, path: Path, progress: Progress | None
                 ) -> tuple[int, int]:
    meta = read_meta(db)
    size = archive.entry().size
    start = int(meta.get("stream_end", "0"))
    if size == int(meta.get("file_size", "-1")):
        return 0, 0
    if archive.compressed:
        return _update_gz(archive, db, path, progress, start, size)
    # Mail delivered while this runs lies past `size`: it is left for the next run (a lookup scans it
    # meanwhile). The last message before `size` may be a delivery in progress: it counts as complete
    # only when the blank line that ends every mbox message follows it, otherwise it is left too, and
    # what is recorded as indexed stops before its "From " line.
    stream = _Upto(archive.stream(), size)
    writer = _Writer(db, progress)
    end, last = start, None
    try:
        for stored in archive.messages(start, cast(BinaryIO, stream)):
            if last is not None:
                writer.add(last.location.offset, last)
                end = last.location.offset + last.location.length
                if writer.full():
                    writer.flush({"stream_end": str(end)})
            last = stored
        if last is not None and (stream.ends_with(b"\n\n") or stream.ends_with(b"\r\n\r\n")):
            writer.add(last.location.offset, last)
            end = size
    finally:
        stream.close()
    writer.flush({"stream_end": str(end), "file_size": str(end), "fingerprint": fingerprint(archive, end)})
    return writer.count, 0


def _update_gz(archive: MboxArchive, db: sqlite3.Connection, path: Path, progress: Progress | None,
               start: int, size: int) -> tuple[int, int]:
    gz_index = gz_index_path(path)
    stream = archive.stream(str(gz_index) if start and gz_index.exists() else None)
    writer = _Writer(db, progress)
    try:
        for stored in archive.messages(start, stream):
            writer.add(stored.location.offset, stored)
            if writer.full():
                writer.flush({"stream_end": str(stored.location.offset + stored.location.length)})
        stream.seek(0, os.SEEK_END)
        end = stream.tell()
        part = Path(f"{gz_index}.part")
        stream.export_index(str(part))  # type: ignore[attr-defined]
        os.replace(part, gz_index)
    finally:
        stream.close()
    writer.flush({"stream_end": str(end), "file_size": str(size), "fingerprint": fingerprint(archive, size)})
    return writer.count, 0


class _Upto:
    """The first `size` bytes of a plain mbox stream: what was there when the update began."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream, self.size = stream, size

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.stream.seek(offset, whence)

    def read(self, count: int = -1) -> bytes:
        left = max(0, self.size - self.stream.tell())
        return self.stream.read(left if count < 0 else min(count, left))

    def ends_with(self, tail: bytes) -> bool:
        self.stream.seek(max(0, self.size - len(tail)))
        return self.stream.read(len(tail)) == tail

    def close(self) -> None:
        self.stream.close()


def mbox_state(archive: MboxArchive, meta: dict[str, str]) -> tuple[str, int]:
    """FRESH, STALE (grown: index what follows the returned stream offset) or REWRITTEN."""
    if "fingerprint" not in meta:
        return REWRITTEN, 0
    size, indexed = archive.entry().size, int(meta["file_size"])
    if size < indexed or fingerprint(archive, indexed) != meta["fingerprint"]:
        return REWRITTEN, 0
    return (FRESH if size == indexed else STALE), int(meta["stream_end"])


def _update_files(archive: Archive, db: sqlite3.Connection, progress: Progress | None, follow_renames: bool
                  ) -> tuple[int, int, int]:
    """Add new and changed files, drop deleted ones, count those whose names SQLite cannot hold (not UTF-8);
    `follow_renames` (an update, not a first build, whose messages are not indexed by key yet) looks a new
    Maildir name up by its unique name first."""
    assert not isinstance(archive, MboxArchive)
    files = archive.files
    # Taken before the files are listed: what changes after this is seen by the next lookup.
    folders = list(files.directories()) if isinstance(files, DirectoryFiles) and not files.is_file else []
    writer = _Writer(db, progress)
    next_id = (db.execute("SELECT max(id) FROM messages").fetchone()[0] or 0) + 1
    gone: list[int] = []
    renamed: list[tuple[str, int]] = []
    unnamed = 0
    always: set[str] = set()  # folders holding a name SQLite cannot hold: every lookup lists them
    for entry, indexed in _merge(archive.candidates(), db):
        if indexed is not None and entry is not None and indexed[1] == entry.version:
            continue
        if indexed is not None:
            gone.append(indexed[0])
        if entry is None:
            continue
        if not utf8_name(entry.name):
            unnamed += 1
            parts = entry.name.split("/")
            always.update("/".join(parts[:i]) for i in range(len(parts)))
            continue
        moved = _moved(db, archive.key(entry.name), entry) if follow_renames and archive.kind == "maildir" else None
        if moved is not None:  # a flag change renamed it: same message, no need to read it again
            renamed.append((entry.name, moved))
            continue
        writer.add(next_id, archive.message(entry))
        next_id += 1
        if writer.full():
            writer.flush()
    renamed_ids = {ident for _, ident in renamed}
    gone = [ident for ident in gone if ident not in renamed_ids]
    writer.flush()
    db.execute("BEGIN")
    db.executemany("UPDATE messages SET name = ? WHERE id = ?", renamed)
    for table, column in (("messages", "id"), ("addresses", "message"), ("refs", "message")):
        db.executemany(f"DELETE FROM {table} WHERE {column} = ?", ((ident,) for ident in gone))  # noqa: S608
    db.execute("CREATE TABLE IF NOT EXISTS directories(name TEXT PRIMARY KEY, version TEXT NOT NULL)")
    db.execute("DELETE FROM directories")
    # A folder whose name is not UTF-8 is not recorded: lookups list it as new. Its parents, and the folder
    # of a file so named, are recorded as changed (""), so that every lookup lists them and reads those files.
    db.executemany("INSERT INTO directories VALUES (?, ?)",
                   ((folder.name, "" if folder.name in always else folder.version)
                    for folder in folders if utf8_name(folder.name)))
    db.execute("COMMIT")
    return writer.count, len(gone), unnamed


def utf8_name(name: str) -> bool:
    """False for a file name that was not UTF-8 on disk (Python holds its bytes as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _moved(db: sqlite3.Connection, key: str, entry: Entry) -> int | None:
    """The id of the message `entry` was before a flag change renamed it. A rename keeps the version (a
    file's size and mtime, an object's ETag); another message reusing the unique name does not."""
    row = db.execute("SELECT id, name, version FROM messages WHERE key = ?", (key,)).fetchone()
    if row is None or row[1] == entry.name or row[2] != entry.version:
        return None
    return int(row[0])


def _merge(entries: Iterator[Entry], db: sqlite3.Connection
           ) -> Iterator[tuple[Entry | None, tuple[int, str] | None]]:
    """The archive's files beside the index's rows, both sorted by name (bounded memory)."""
    rows = _rows(db)
    entry, row = next(entries, None), next(rows, None)
    while entry is not None or row is not None:
        if row is None or (entry is not None and entry.name < row[0]):
            yield entry, None
            entry = next(entries, None)
        elif entry is None or row[0] < entry.name:
            yield None, (row[1], row[2])
            row = next(rows, None)
        else:
            yield entry, (row[1], row[2])
            entry, row = next(entries, None), next(rows, None)


def _rows(db: sqlite3.Connection) -> Iterator[tuple[str, int, str]]:
    reader = sqlite3.connect(readonly_uri(Path(_db_file(db))), uri=True)
    try:
        yield from reader.execute("SELECT name, id, version FROM messages ORDER BY name")
    finally:
        reader.close()


def _db_file(db: sqlite3.Connection) -> str:
    return str(db.execute("PRAGMA database_list").fetchone()[2])
