"""The shared model every source speaks: who is asked about, and what was found."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from identity.address import ascii_lower

# Source and category names become directory and file names in the package.
NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}\Z")

def check_name(kind: str, name: str) -> str:
    """Return a source or category name if it is safe as a file name, else raise ValueError."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"{kind} name must match {NAME.pattern}")
    return name


# The category of items a source found but cannot hand over safely (a message
# that does not parse): their data describes the item, never its content, and
# the package lists them for review instead of delivering them.
WITHHELD = "withheld"


EMAIL, PHONE, CUSTOMER_ID = "email", "phone", "customer_id"
# The `source` of an identifier the requester named and verified with its own code, not found in a source.
REQUESTED = "request"


@dataclass(frozen=True)
class Identifier:
    """An identifier of the subject's found in a trusted source, with where it was found (provenance)."""

    kind: str  # EMAIL, PHONE or CUSTOMER_ID
    value: str  # an email as ascii_lower()ed, a phone in E.164
    source: str  # the source that holds it, or REQUESTED
    category: str = ""
    column: str = ""


@dataclass(frozen=True)
class Subject:
    """The data subject whose records are gathered.

    `email` is stored with A-Z lower-cased and nothing else folded; sources match on it
    ASCII-case-insensitively. Never `str.lower()`: it turns a Kelvin sign (U+212A) into `k`,
    so a look-alike address would match the real one.
    `phones` hold E.164 numbers the subject is known to use (their own data,
    kept by redaction).
    """

    email: str
    name: str | None = None
    phones: tuple[str, ...] = ()
    # Identifiers a trusted source holds for the subject (their customer row's other address, its
    # customer id): the sources that follow search for them too, and redaction keeps them.
    also: tuple[Identifier, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", ascii_lower(self.email.strip()))

    @property
    def emails(self) -> tuple[str, ...]:
        """Every address to search for: the verified one first, then those a trusted source holds."""
        return self.values(EMAIL)

    def values(self, kind: str) -> tuple[str, ...]:
        """Every identifier of one kind to search for, without repeats: what the request verified first."""
        given = (self.email,) if kind == EMAIL else self.phones if kind == PHONE else ()
        return tuple(dict.fromkeys([*given, *(i.value for i in self.also if i.kind == kind)]))


@dataclass(frozen=True)
class Record:
    """One item a source holds about the subject.

    `data` holds JSON-serialisable values only. `key` is stable within
    (source, category) so that the same record always lands in the same place.
    `provided` marks data the subject gave us themselves (Art. 20 portability).
    `about_subject` marks a record that describes the subject themselves (their
    own customer row, found by a verified identifier): the phone numbers in it
    are the subject's, and redaction keeps them.
    """

    source: str
    category: str
    key: str
    data: Mapping[str, Any] = field(default_factory=dict)
    provided: bool = False
    about_subject: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {"source": self.source, "category": self.category, "key": self.key,
             "provided": self.provided, "about_subject": self.about_subject, "data": self.data},
            ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> Record:
        raw = json.loads(line)
        return cls(raw["source"], raw["category"], raw["key"], raw["data"], raw["provided"], raw["about_subject"])


class Source(Protocol):
    """A configured place that holds personal data. Register under `dsar.sources`.

    The constructor takes the source's name, its config section (without
    `name` and `kind`), the directory relative paths are resolved against, and
    the environment to read secrets from; it raises `SourceConfigError` naming
    the bad key. `records()` streams: it never builds the whole result.
    """

    name: str

    def records(self, subject: Subject) -> Iterator[Record]: ...


@runtime_checkable
class PeopleSource(Protocol):
    """A source that can also list the names of everyone it holds (a customer table): redaction then
    recognises those names anywhere, even where nothing in a text marks them as names."""

    def people(self) -> Iterator[str]: ...


@runtime_checkable
class NotingSource(Protocol):
    """A source that can say how it searched, after `records()`: counts and states only (an index
    "missing", "stale" or "fresh", messages read without it), never values. The flow records them
    with the stage and warns the operator about what they should fix."""

    def notes(self) -> Mapping[str, int | str]: ...


@dataclass(frozen=True)
class Finding:
    """One line of `dsar check`: what was checked (a table, an archive, a list: never a value or a path that
    could name a person) and how it went."""

    status: Literal["ok", "warning", "error"]
    what: str
    message: str


@runtime_checkable
class CheckingSource(Protocol):
    """A source that can check itself without a subject: that it is reachable, its credentials accepted and
    its configuration matches what it holds. `check()` never reads a person's data and never raises for a
    problem it can name: it yields an "error" finding instead."""

    def check(self) -> Iterator[Finding]: ...


def write_jsonl(path: Path, records: Iterator[Record]) -> int:
    """Stream records to a JSON-lines file atomically; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(record.to_json())
                out.write("\n")
                count += 1
    except BaseException:
        tmp.unlink(missing_ok=True)  # no half-written personal data left behind
        raise
    tmp.replace(path)
    return count


def read_jsonl(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield Record.from_json(line)
