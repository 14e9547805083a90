"""Reading a built address index: which messages name an address, and the threads they are in."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from extractors.mail.archive import Archive, Location
from extractors.mail.index import SCHEMA, read_meta, readonly_uri, utf8_name
from identity.address import ascii_lower


class AddressIndex:
    """A built index, read-only: which messages name an address, and their threads."""

    def __init__(self, path: Path) -> None:
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

    def threads(self, ids: set[int]) -> set[int]:
        """`ids` and every message connected to them by Message-ID, In-Reply-To or References."""
        seen, frontier = set(ids), set(ids)
        while frontier:
            marks = ",".join("?" * len(frontier))
            args = tuple(frontier)
            linked = self.db.execute(f"""
                SELECT r.message FROM messages m JOIN refs r ON r.ref = m.message_id WHERE m.id IN ({marks})
                UNION SELECT m2.id FROM refs r JOIN messages m2 ON m2.message_id = r.ref WHERE r.message IN ({marks})
                UNION SELECT r2.message FROM refs r JOIN refs r2 ON r2.ref = r.ref WHERE r.message IN ({marks})
                UNION SELECT m2.id FROM messages m JOIN messages m2 ON m2.message_id = m.message_id
                      WHERE m.id IN ({marks})""", args * 4)  # noqa: S608 - only placeholders are formatted in
            frontier = {row[0] for row in linked} - seen
            seen |= frontier
        return seen

    def rows(self, ids: set[int]) -> list[tuple[Location, str, int]]:
        """The location, version and id of each message, in archive order."""
        found = []
        for ident in ids:
            row = self.db.execute("SELECT name, offset, length, version FROM messages WHERE id = ?",
                                  (ident,)).fetchone()
            if row is not None:
                found.append((Location(row[0], row[1], row[2]), row[3], ident))
        return sorted(found)

    def message_ids(self, ids: set[int]) -> set[str]:
        """The Message-IDs of these messages and those they refer to (to link mail not indexed yet)."""
        found: set[str] = set()
        for ident in ids:
            found.update(row[0] for row in self.db.execute(
                "SELECT message_id FROM messages WHERE id = ? AND message_id IS NOT NULL "
                "UNION SELECT ref FROM refs WHERE message = ?", (ident, ident)))
        return found

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
        # Every name under "folder/" sorts before "folder0" ('0' follows '/').
        rows = self.db.execute("SELECT name FROM messages WHERE name >= ? AND name < ?", (f"{folder}/", f"{folder}0"))
        wanted = set(names)
        return {row[0] for row in rows if row[0] in wanted}

    def versions(self) -> Iterator[tuple[str, str]]:
        """Every indexed file's name and version, sorted by name."""
        yield from self.db.execute("SELECT name, version FROM messages ORDER BY name")
