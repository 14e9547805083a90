"""A customer-service mail archive: an mbox (plain or .gz), a Maildir, a tree of .eml files or one .eml.

    kind = "mail"                # "mbox" is an alias kept for older configs
    path = "support.mbox"        # relative to the config's directory; the format is detected
    index = "index/support.sqlite"   # optional; default <config dir>/index/<source name>.sqlite
    threads = false              # also hand over every message of the subject's threads
    body_mentions = false        # also search every message's text for the subject's addresses
    max_message_mib = 25         # a larger message is withheld (listed, never parsed); see limits.py
    max_parts = 100
    max_text_mib = 5

A message belongs to the subject when one of their addresses is in From, To, Cc, Bcc, Reply-To or
Sender (parse.ADDRESS_HEADERS). A message that cannot be parsed at all but names one of the
subject's addresses in its header block is never handed over: it comes back as a `withheld`
record (hash, size, Message-ID) for a privacy officer to review.

With an address index (`dsar index mail`), a request reads only the messages the index names
(and what the index does not cover yet: the tail of a grown mbox, new or changed files); the
parsed headers decide, so the set is the same as a full scan's. Without one, or with one that
no longer matches the archive, every message is read; `notes()` tells the flow which it was.
Costs: an mbox lookup reads the index, the fingerprint (128 KiB) and the subject's messages, whatever
the archive's size; an .mbox.gz also inflates from a seek point (1 MiB apart) to each message.
A local Maildir or .eml tree lookup stats each directory the index recorded (its mtime changes when a
file is created, deleted or renamed in it) and, when none changed, takes the format from the index and
reads only the subject's files: flat in the archive's size. A directory that changed has its names
listed (no stat per file): the names the index lacks are read and decided by parsing, the subject's
indexed files that are gone are dropped. A subject's file gone from a directory that looks unchanged
(its mtime set back) means the index cannot be trusted: every file is listed, as in S3, where a prefix
has no directory time and every lookup lists every key (a request per 1,000 keys).

The limit: a file rewritten in place under the same name, in any directory, is seen at the next
`dsar index mail`, not at lookup. That keeps the result exact for mail: Maildir files are never
rewritten (delivery writes tmp/ then renames, flags rename), and an .eml tree is written once. And
what is read is still decided by its parsed headers, so a rewritten file can at worst be missed
until the next index (the subject's own indexed files are read as they are now), never hand over
someone else's mail. A store that rewrites files in place should run `dsar index mail` before requests.

`threads`: what the subject's messages replied to (up In-Reply-To/References, transitively) and the
replies to their messages (down, transitively) come along even when they do not name them: the
conversation they took part in, and redaction removes the third parties in it. Never a sibling: other
customers' separate replies to the same newsletter stay out. A link is followed only to a Message-ID
that one message in the archive holds, so a mailer that reuses ids (<1@localhost>) links nothing (and
two stored copies of one message link nothing either). Without an index, threads cost two passes: a
throwaway index of the header blocks (on disk beside the real one, so memory stays bounded), then the
messages it names: the same rule and set as with an index, for the cost of an index build per request.
The tail an index does not cover yet follows the same rule with the links known so far.
`body_mentions` is off by default: it reads the whole archive on every request (the cost of a scan,
roughly `grep` over the archive plus a parse per hit, and per base64 or quoted-printable message, whose
bytes could hide an address), and brings mail between other people that names the subject's address,
as a whole address (never joann@ for ann@, nor ann@example.com.au), in its text or attached text,
which carries more third-party data to redact. It runs over every message not handed over yet, so
the set is the same with and without an index; an unparseable message naming them is `withheld`.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from extractors.errors import ExtractionError
from extractors.labels import KindLabels, both
from extractors.mail.archive import Archive, FileArchive, MboxArchive, Stored, open_archive, still_maildir
from extractors.mail.files import DirectoryFiles, Files, open_files
from extractors.mail.index import (
    FRESH,
    MISSING,
    REWRITTEN,
    STALE,
    BuildStats,
    Progress,
    gz_index_path,
    mbox_state,
    read_headers,
    update_index,
)
from extractors.mail.limits import Limits, LimitSettings
from extractors.mail.lookup import AddressIndex
from extractors.mail.parse import MESSAGES, ParsedMessage, Withheld, address_pattern, read_message
from extractors.records import WITHHELD, Finding, Record, Subject
from extractors.settings import parse_settings
from identity.address import ascii_lower

if TYPE_CHECKING:
    from extractors.mail.index_store import IndexCopy


class MailSettings(LimitSettings):
    """`kind = "mail"` (or its older name `mbox`): a customer-service mail archive."""

    path: str = Field(min_length=1, examples=["support.mbox"])
    """An mbox (plain or .gz), a Maildir, a directory of .eml files, one .eml, or s3://bucket/prefix; relative to
    the config."""
    index: str | None = Field(default=None, min_length=1, examples=["index/support_mail.sqlite"])
    """The address index (`dsar index mail`); default: index/<source name>.sqlite beside the config."""
    threads: bool = False
    """Also hand over every message of the subject's threads (replies up and down, never siblings)."""
    body_mentions: bool = False
    """Also search every message's text for the subject's addresses (reads the whole archive per request)."""


class MailSource:
    """Yields one `messages` record per message that names the subject (and their threads, if asked)."""

    settings_model = MailSettings
    labels = KindLabels(
        categories={MESSAGES: both("Sähköpostiviestit", "Mail messages")},
        columns={"message_id": both("Viestin tunniste", "Message ID"), "date": both("Päivämäärä", "Date"),
                 "from": both("Lähettäjä", "From"), "to": both("Vastaanottaja", "To"), "cc": both("Kopio", "Cc"),
                 "reply_to": both("Vastausosoite", "Reply to"), "subject": both("Aihe", "Subject"),
                 "body": both("Viesti", "Body"), "attachments": both("Liitteet", "Attachments")},
    )

    def __init__(
        self, name: str, settings: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]
    ) -> None:
        self.name = name
        self.settings = parse_settings(MailSettings, name, settings)
        self.base_dir = base_dir
        self.environ = environ
        self.index_path = base_dir / (self.settings.index or f"index/{name}.sqlite")
        self.limits = self.settings.limits()
        self.s3_index = self._s3_index()
        if self.s3_index is not None:
            self.index_path = self.s3_index.path
        self._notes: dict[str, int | str] = {}

    def archive(self) -> Archive:
        """The configured archive, its format detected; raises SourceUnavailable."""
        files = self._files()
        return open_archive(files, self._indexed_kind(files), self.limits.max_message_bytes)

    def _files(self) -> Files:
        return open_files(self.name, self.settings.path, self.base_dir, self.environ)

    def _indexed_kind(self, files: Files) -> str | None:
        """The format the index recorded for a local directory whose top did not change since (a Maildir:
        whose top holds no new folder and no mail, `still_maildir`).

        A Maildir's cur/ and new/ are at its top, so it stays one (emptied, it is an empty Maildir).
        A tree of .eml files that grows a cur/ below its top is still read as a tree, every new file
        sniffed and parsed, until `dsar index mail` (which always tells the format from the bytes)."""
        if not isinstance(files, DirectoryFiles) or files.is_file or not self.index_path.is_file():
            return None
        index = AddressIndex(self.index_path)
        try:
            recorded = index.directories()
            kind = index.meta.get("kind")
            if "" not in recorded:
                return None
            if not _changed(files, {"": recorded[""]}):
                return kind
            return kind if kind == "maildir" and still_maildir(files, recorded) else None
        finally:
            index.close()

    def _s3_index(self) -> IndexCopy | None:
        """The index kept in S3: `index = "s3://..."`, or beside an archive in S3 when `index` is not set."""
        if not (self.settings.index or self.settings.path).startswith("s3://"):
            return None
        from extractors.mail.index_store import IndexCopy  # boto3 loads only for S3

        # ".gzidx": gz_index_path's companion, the seek points of a .gz archive.
        return IndexCopy.configured(self.name, self.settings.path, self.settings.index,
                                    self.base_dir / "index" / "s3", self.environ, companions=(".gzidx",))

    def update_index(self, progress: Progress | None = None) -> BuildStats:
        """Build or bring up to date this source's address index (what `dsar index mail` runs)."""
        archive = open_archive(self._files())  # the format told from the bytes, never taken from the index
        if self.s3_index is not None:
            self.s3_index.fetch()  # build on what another host may have published
        stats = update_index(archive, self.index_path, progress)
        if self.s3_index is not None:
            self.s3_index.publish()
        return stats

    def notes(self) -> Mapping[str, int | str]:
        """After `records()`: the index's state ("missing", "stale", "rewritten", "fresh") and how many
        messages were read without it."""
        return dict(self._notes)

    def check(self) -> Iterator[Finding]:
        """The archive is readable, its format and size; the index's state as a lookup would find it.

        Reads no message a lookup of the index would not: a fresh index costs what opening it costs, a stale
        one what a request reads besides the subject's mail. A directory archive is listed for its size."""
        try:
            archive = self.archive()
            entries = archive.files.entries() if isinstance(archive, FileArchive) else iter([archive.entry()])
            files = size = 0
            for entry in entries:
                files, size = files + 1, size + entry.size
            yield Finding("ok", "archive", f"readable, {archive.kind}, {files} file(s), {size} bytes")
            state = self._index_state(archive)
        except ExtractionError as exc:
            yield Finding("error", "archive", str(exc).removeprefix(f"source {self.name}: "))
            return
        yield _INDEX_FINDINGS[state]

    def _index_state(self, archive: Archive) -> str:
        """MISSING, REWRITTEN (it no longer matches the archive: unused), STALE (mail came since) or FRESH."""
        if self.s3_index is not None:
            self.s3_index.fetch()
        if not self.index_path.is_file():
            return MISSING
        index = AddressIndex(self.index_path)
        try:
            if not index.usable(archive):
                return REWRITTEN
            if isinstance(archive, MboxArchive):
                return mbox_state(archive, index.meta)[0]
        finally:
            index.close()
        for _ in self.found(archive, ()):  # no address: only what the index does not cover is read
            pass
        return str(self._notes["index"])

    def records(self, subject: Subject) -> Iterator[Record]:
        archive = self.archive()
        emails = subject.emails
        seen: dict[str, int] = {}
        done: set[tuple[str, int]] = set()  # the messages handed over: as many as the subject's records
        for stored, in_thread in self.found(archive, emails):
            record = self._decide(stored, emails, in_thread)
            if record is not None:
                done.add((stored.location.name, stored.location.offset))
                yield _numbered(record, seen)
        if self.settings.body_mentions:
            # Every message not handed over yet, read or not by the first pass: the same set with or without
            # an index.
            patterns = [address_pattern(email) for email in emails]
            for stored in archive.messages():
                # A message over the limits was decided on its header in the first pass: its text is not read.
                if (stored.location.name, stored.location.offset) not in done and stored.withheld is None:
                    record = _mentioned(self.name, stored.raw, patterns, self.limits)
                    if record is not None:
                        yield _numbered(record, seen)

    def found(self, archive: Archive, emails: tuple[str, ...]) -> Iterator[tuple[Stored, bool]]:
        """The messages that may be the subject's, unparsed, in archive order, each with whether it came as
        part of a thread: what the index names plus what it does not cover (everything, without one)."""
        self._notes = {"index": MISSING, "scanned": 0}
        if self.s3_index is not None:
            self.s3_index.fetch()
        index = AddressIndex(self.index_path) if self.index_path.is_file() else None
        try:
            if index is None or not index.usable(archive):
                self._notes["index"] = MISSING if index is None else REWRITTEN
                yield from self._unindexed(archive, emails)
            else:
                yield from self._indexed(archive, index, emails)
        finally:
            if index is not None:
                index.close()

    def _indexed(self, archive: Archive, index: AddressIndex, emails: tuple[str, ...]
                 ) -> Iterator[tuple[Stored, bool]]:
        if isinstance(archive, MboxArchive):
            yield from self._from_mbox(archive, index, emails)
        else:
            yield from self._from_files(archive, index, emails)

    def _unindexed(self, archive: Archive, emails: tuple[str, ...]) -> Iterator[tuple[Stored, bool]]:
        """Every message; with `threads`, two passes: a throwaway index of the header blocks (on disk, so
        memory stays bounded), then the messages it names, by the index's own rule: the same set as with
        an index, for the cost of building one (`dsar index mail`'s rate) on every request."""
        if not self.settings.threads:
            yield from self._scan(archive.messages())
            return
        state = self._notes["index"]
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        # Beside the real index: the same protection for the same data; removed when the lookup ends.
        with tempfile.TemporaryDirectory(prefix=".threads-", dir=self.index_path.parent) as work:
            built = update_index(archive, Path(work) / "index.sqlite")
            index = AddressIndex(Path(work) / "index.sqlite")
            try:
                yield from self._indexed(archive, index, emails)
            finally:
                index.close()
        self._notes["index"] = state
        self._notes["scanned"] = int(self._notes["scanned"]) + built.parsed

    def _scan(self, messages: Iterator[Stored]) -> Iterator[tuple[Stored, bool]]:
        for stored in messages:
            self._notes["scanned"] = int(self._notes["scanned"]) + 1
            yield stored, False

    def _wanted(self, index: AddressIndex, emails: tuple[str, ...]) -> tuple[set[int], set[int]]:
        own = index.lookup(emails)
        return own, (index.threads(own) if self.settings.threads else own)

    def _from_mbox(self, archive: MboxArchive, index: AddressIndex, emails: tuple[str, ...]
                   ) -> Iterator[tuple[Stored, bool]]:
        state, end = mbox_state(archive, index.meta)
        self._notes["index"] = state
        if state == REWRITTEN:
            yield from self._unindexed(archive, emails)
            return
        own, wanted = self._wanted(index, emails)
        gz_index = gz_index_path(index.path)
        stream = archive.stream(str(gz_index) if archive.compressed and gz_index.exists() else None)
        try:
            locations = [location for location, _, _ in index.rows(wanted)]
            links = self._links(index, own, emails)
            for stored in archive.read(locations, stream):
                yield stored, stored.location.offset not in own
            if state == STALE:
                for stored, _ in self._scan(archive.messages(end, stream)):
                    yield stored, self._joins(stored, links)
        finally:
            stream.close()

    def _links(self, index: AddressIndex, own: set[int], emails: tuple[str, ...]) -> _Links | None:
        if not self.settings.threads:
            return None
        down, up = index.links(own)
        return _Links(frozenset(ascii_lower(email) for email in emails), down, up)

    def _joins(self, stored: Stored, links: _Links | None) -> bool:
        """A message the index does not cover yet, by the index's rule: one naming the subject (the header
        check decides it) extends their thread; a reply to the subject's thread or what it replied to comes
        along. Only links seen so far are followed (an ancestor read before the subject's message that
        refers to it is not): `dsar index mail` makes the set exact again."""
        if links is None:
            return False
        headers = read_headers(stored.raw)
        if links.emails & headers.addresses:
            links.down.update([headers.message_id] if headers.message_id else [])
            links.up.update(headers.refs)
            return False
        if links.down.intersection(headers.refs):
            links.down.update([headers.message_id] if headers.message_id else [])
            return True
        if headers.message_id in links.up:
            links.up.update(headers.refs)
            return True
        return False

    def _from_files(self, archive: FileArchive, index: AddressIndex, emails: tuple[str, ...]
                    ) -> Iterator[tuple[Stored, bool]]:
        """A stat per recorded directory; the subject's indexed files, and the files the index does not
        know in the directories that changed (see the module's docstring). In S3: `_from_listing`."""
        files = archive.files
        recorded = index.directories()
        if not recorded or not isinstance(files, DirectoryFiles):
            yield from self._from_listing(archive, index, emails, set())
            return
        changed = _changed(files, recorded)
        own, wanted = self._wanted(index, emails)
        links = self._links(index, own, emails)
        indexed = {location.name: ident for location, _, ident in index.rows(wanted)}
        added = _added(archive, files, index, recorded, changed)
        # Stale: files were added since (read here without the index) or the subject's were deleted.
        self._notes["index"] = STALE if added else FRESH
        done: set[str] = set()
        for name in sorted(indexed.keys() | added):  # names order, as a full listing gives them
            entry = files.file(name)
            if entry is None:
                if name.rpartition("/")[0] in changed:
                    self._notes["index"] = STALE
                    continue  # deleted since the index: its folder says so
                # Gone although its folder did not change (a clock set back, a folder restored): trust
                # nothing, list every file for what is left.
                yield from self._from_listing(archive, index, emails, done)
                return
            stored = archive.message(entry)
            done.add(name)
            if name in indexed:
                yield stored, indexed[name] not in own
            else:
                self._notes["scanned"] = int(self._notes["scanned"]) + 1
                yield stored, self._joins(stored, links)

    def _from_listing(self, archive: FileArchive, index: AddressIndex, emails: tuple[str, ...], done: set[str]
                      ) -> Iterator[tuple[Stored, bool]]:
        """Every file listed and compared with the index by name and version; `done` were yielded already."""
        own, wanted = self._wanted(index, emails)
        names = {location.name: ident for location, _, ident in index.rows(wanted)}
        links = self._links(index, own, emails)
        indexed = index.versions()
        row = next(indexed, None)
        self._notes["index"] = FRESH
        for entry in archive.candidates():
            while row is not None and row[0] < entry.name:
                self._notes["index"] = STALE  # a file was deleted since
                row = next(indexed, None)
            if row is not None and row[0] == entry.name and row[1] == entry.version:
                row = next(indexed, None)
                ident = names.get(entry.name)
                if ident is not None and entry.name not in done:
                    yield archive.message(entry), ident not in own
                continue
            self._notes["index"] = STALE
            if entry.name in done:
                continue
            self._notes["scanned"] = int(self._notes["scanned"]) + 1
            stored = archive.message(entry)
            yield stored, self._joins(stored, links)
        if row is not None:
            self._notes["index"] = STALE

    def _decide(self, stored: Stored, emails: tuple[str, ...], in_thread: bool) -> Record | None:
        record = _decide(self.name, stored, emails, in_thread, self.limits)
        if record is None and stored.withheld is not None and stored.withheld.reason == "unparsed":
            self._notes["not_mail"] = int(self._notes.get("not_mail", 0)) + 1  # a file in a tree that is not mail
        return record


_INDEX_FINDINGS = {
    FRESH: Finding("ok", "index", "fresh: a request reads the subject's messages only"),
    STALE: Finding("ok", "index", "covers all but the mail that came since; each request reads that too "
                                  "(dsar index mail catches up)"),
    MISSING: Finding("warning", "index", "missing: every request reads the whole archive; build it with "
                                         "dsar index mail"),
    REWRITTEN: Finding("warning", "index", "no longer matches the archive and is not used; rebuild it with "
                                           "dsar index mail"),
}


def _changed(files: DirectoryFiles, recorded: Mapping[str, str]) -> set[str]:
    """The directories whose version is not the recorded one (or that are gone): a stat each."""
    return {name for name, version in recorded.items()
            if (now := files.directory(name)) is None or now.version != version}


def _added(archive: FileArchive, files: DirectoryFiles, index: AddressIndex, recorded: Mapping[str, str],
           changed: set[str]) -> set[str]:
    """The files that may hold a message and that the index does not know, in the directories that
    changed since it was built (and in every directory new since). Only names are listed: a file in a
    changed folder keeping its name is trusted to be the one indexed (see the module's docstring)."""
    added: set[str] = set()
    folders = sorted(changed)
    while folders:
        folder = folders.pop()
        if folder in recorded and files.directory(folder) is None:
            continue  # removed: its files are gone
        names, subfolders = files.listdir(folder)
        prefix = f"{folder}/" if folder else ""
        folders += (prefix + sub for sub in subfolders if prefix + sub not in recorded)
        if archive.candidate_folder(folder):
            candidates = [prefix + name for name in names]
            added.update(set(candidates) - index.known(folder, candidates))
    return added


@dataclass
class _Links:
    """The thread links of a lookup, grown as mail the index does not cover is read (see `_joins`)."""

    emails: frozenset[str]
    down: set[str]  # Message-IDs of the subject's messages and their replies: a message referring to one joins
    up: set[str]  # Message-IDs they refer to, not read yet: the message holding one joins


def _mentioned(source: str, raw: bytes, patterns: list[re.Pattern[bytes]], limits: Limits) -> Record | None:
    """The record of a message whose text (body or attached text) names one of the subject's addresses as a
    whole address (never joann@ for ann@, nor ann@example.com.au); `provided` is False: they did not send it."""
    if not any(pattern.search(raw) for pattern in patterns) and not _ENCODED.search(raw):
        return None  # neither the address in plain bytes nor a body encoding that could hide it: not read
    message = read_message(io.BytesIO(raw), len(raw), limits)
    if isinstance(message, Withheld):
        # Not parsed, so its text cannot be checked: listed (hash, size, Message-ID only) when its bytes name them.
        if not any(pattern.search(raw) for pattern in patterns):
            return None
        return Record(source=source, category=WITHHELD, key=message.sha256, data=message.data)
    texts = [message.data.get("body") or ""]
    texts += [part.get("text") or "" for part in message.data.get("attachments") or []]
    if not any(pattern.search(text.encode("utf-8")) for text in texts for pattern in patterns):
        return None
    return Record(source=source, category=MESSAGES, key=message.data["message_id"] or message.sha256,
                  data=message.data, provided=False)


# A transfer encoding that can hide an address from a bytes search.
_ENCODED = re.compile(rb"(?im)^content-transfer-encoding:[ \t]*(?:base64|quoted-printable)")


def _numbered(record: Record, seen: dict[str, int]) -> Record:
    """A copy of the same message keeps its own stable key."""
    count = seen[record.key] = seen.get(record.key, 0) + 1
    return replace(record, key=f"{record.key}#{count}") if count > 1 else record


def _decide(source: str, stored: Stored, emails: tuple[str, ...], in_thread: bool, limits: Limits
            ) -> Record | None:
    """The record of a message if it is the subject's (or, `in_thread`, part of their conversation)."""
    message: ParsedMessage | Withheld
    if stored.withheld is not None:
        message = stored.withheld
    else:
        # An address cannot be encoded or folded inside a header (RFC 5322 addr-spec), so a message
        # without its bytes does not name the subject: skip parsing it. (Held whole: within the limit.)
        lowered = stored.raw.lower()
        if not in_thread and not any(email.encode("utf-8") in lowered for email in emails):
            return None
        del lowered
        message = read_message(io.BytesIO(stored.raw), len(stored.raw), limits)
    if isinstance(message, Withheld):
        # Never drop mail silently, never hand over what could not be checked (too large, too many
        # parts, unparseable): if the subject's address is in its header, list it as withheld. Only the
        # hash, the size and the Message-ID leave: its headers and body may be a stranger's.
        if not in_thread and not any(address_pattern(email).search(message.header) for email in emails):
            return None
        return Record(source=source, category=WITHHELD, key=message.sha256, data=message.data)
    addresses = message.addresses
    if not in_thread and not any(email in found for found in addresses.values() for email in emails):
        return None
    return Record(
        source=source,
        category=MESSAGES,
        key=message.data["message_id"] or message.sha256,
        data=message.data,
        provided=any(email in addresses["from"] for email in emails),
    )


# The kind's name before archives other than mbox were read; existing configs keep working.
MboxSource = MailSource
