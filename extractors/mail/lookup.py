"""Reading a built address index: which messages name an address, and the threads they are in."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from extractors.mail.archive import Archive, Location
from extractors.mail.index import SCHEMA, read_meta, readonly_uri, utf8_name
from identity.address import ascii_lower

_BATCH = 500  # ids per query, under SQLite's limit on bound parameters
# The messages that the ones in ({}) refer to, and the replies to them; each only through a Message-ID
# that exactly one message holds.
_UP = """SELECT m.id FROM refs r JOIN messages m ON m.message_id = r.ref WHERE r.message IN ({})
         AND (SELECT count(*) FROM messages u WHERE u.message_id = r.ref) = 1"""
_DOWN = """SELECT r.message FROM messages m JOIN refs r ON r.ref = m.message_id WHERE m.id IN ({})
           AND (SELECT count(*) FROM messages u WHERE u.message_id = m.message_id) = 1"""


class AddressIndex:
    """A built index, read-only: which messages name an address, and their threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(readonly_uri(path), uri=True)
        self.meta = read_meta(self.db)

    def close(self) -> None:
        self.db.close()

    def usable(self, archive: Archive) -> bool:
        return self.meta.get("schema") == SCHEMA and self.meta.get("kind") == archive.kind

    def lookup(self, addresses: Iterable[str]) -> set[int]:
        """The ids of messages whose header block holds one of `addresses` (ASCII-lower-cased)."""
        found: set[int] = set()
        for address in addresses:
            found.update(row[0] for row in self.db.execute(
                "SELECT message FROM addresses WHERE address = ?", (ascii_lower(address),)))
        return found

    def threads(self, own: set[int]) -> set[int]:
        """`own` with what they replied to (up In-Reply-To/References) and the replies to them (down,
        transitively), never a sibling: a newsletter's other repliers stay out. A link is followed only to
        a Message-ID that one message in the archive holds: a reused id (<1@localhost>) links nothing."""
        return own | self._closure(own, _UP) | self._closure(own, _DOWN)

    def _closure(self, start: set[int], step: str) -> set[int]:
        seen, frontier = set(start), set(start)
        while frontier:
            found: set[int] = set()
            batch = sorted(frontier)
            for at in range(0, len(batch), _BATCH):
                chunk = batch[at:at + _BATCH]
                query = step.format(",".join("?" * len(chunk)))  # only placeholders are formatted in
                found.update(row[0] for row in self.db.execute(query, chunk))
            frontier = found - seen
            seen |= frontier
        return seen - start

    def links(self, own: set[int]) -> tuple[set[str], set[str]]:
        """For mail the index does not cover yet: the unique Message-IDs of `own` and the replies to them (a
        message referring to one is a reply, down the thread) and what `own` and their ancestors refer to
        that no indexed message holds (a message with that id is an ancestor)."""
        down: set[str] = set()
        up: set[str] = set()
        for ident in own | self._closure(own, _DOWN):
            down.update(row[0] for row in self.db.execute(
                "SELECT m.message_id FROM messages m WHERE m.id = ? "
                "AND (SELECT count(*) FROM messages u WHERE u.message_id = m.message_id) = 1", (ident,)))
        for ident in own | self._closure(own, _UP):
            up.update(row[0] for row in self.db.execute(
                "SELECT r.ref FROM refs r WHERE r.message = ? "
                "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_id = r.ref)", (ident,)))
        return down, up

    def rows(self, ids: set[int]) -> list[tuple[Location, str, int]]:
        """The location, version and id of each message, in archive order."""
        found = []
        for ident in ids:
            row = self.db.execute("SELECT name, offset, length, version FROM messages WHERE id = ?",
                                  (ident,)).fetchone()
            if row is not None:
                found.append((Location(row[0], row[1], row[2]), row[3], ident))
        return sorted(found)

    def directories(self) -> dict[str, str]:
        """The archive's directories and their versions when it was indexed ({} for an archive in S3 or an
        index built before directories were recorded: then a lookup lists every file)."""
        try:
            return dict(self.db.execute("SELECT name, version FROM directories"))
        except sqlite3.DatabaseError:  # no such table
            return {}

    def known(self, folder: str, names: list[str]) -> set[str]:
        """Which of `names` (files in `folder`, "" for the top) the index has a row for: a message, or a
        file it found not to be mail. A folder's rows come in one range scan of the name index."""
        if not folder:
            query = "SELECT name FROM messages WHERE name = ?"
            # A name that is not UTF-8 is never indexed (index.py's `utf8_name`): unknown, read every time.
            return {name for name in names if utf8_name(name) and self.db.execute(query, (name,)).fetchone()}
        if not utf8_name(folder):
            return set()  # nothing under a name that is not UTF-8 is indexed
        # Every name under "folder/" sorts before "folder0" ('0' follows '/').
        rows = self.db.execute("SELECT name FROM messages WHERE name >= ? AND name < ?", (f"{folder}/", f"{folder}0"))
        wanted = set(names)
        return {row[0] for row in rows if row[0] in wanted}

    def versions(self) -> Iterator[tuple[str, str]]:
        """Every indexed file's name and version, sorted by name."""
        yield from self.db.execute("SELECT name, version FROM messages ORDER BY name")
