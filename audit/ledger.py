"""The append-only, hash-chained, signed event ledger over SQLAlchemy.

The ledger owns one table, `audit_events`, in a database it may share with the
request store. Appends from several threads (one lock per instance) and
processes (the seq primary key; a lost race is retried) keep the sequence
gapless and the chain linear. On SQLite and PostgreSQL an append first takes
the database's write lock (an advisory lock on PostgreSQL), so that writers
queue rather than race: with four busy writers, retries alone starved one. A caller's own writes can join an event's
transaction (`alongside`), so that a record and its event commit together.
"""

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from audit import signing
from audit.anchor import Head, sign_head
from audit.errors import LedgerBusy, LedgerTampered
from audit.event import ZERO_HASH, Event, canonical_json, event_hash, format_at, parse_at
from audit.guard import check_detail, check_name

__all__ = ["Anchor", "Event", "Ledger"]

_log = logging.getLogger(__name__)

_metadata = MetaData()

events_table = Table(
    "audit_events",
    _metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("request_id", String(100), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(100), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("sig", String(128), nullable=False),
    Index("ix_audit_events_request_id", "request_id"),
)

_APPEND_ATTEMPTS = 10
_PAGE = 500

# Writes of the caller's that commit in the event's transaction (or not at all); they may run more than once.
Alongside = Callable[[Connection], object]


class _SeqTaken(Exception):
    """The insert of `seq` failed on a constraint: a race if another append holds `seq` now."""

    def __init__(self, seq: int, error: IntegrityError) -> None:
        super().__init__(seq)
        self.seq, self.error = seq, error


class Anchor(Protocol):
    """Somewhere outside the database that keeps each committed event's head (a file, a WORM bucket)."""

    def record(self, event: Event, head: Head) -> None:
        """Keep `head` (of the ledger that just committed `event`); heads may arrive out of seq order."""


class Ledger:
    """The audit ledger in `engine`'s database.

    `private_key` (raw Ed25519, see `audit.signing.load_private_key`) is needed
    only to append; an auditor opens the ledger without it to read events.
    Each of `anchors` records every committed event's signed head.
    """

    def __init__(self, engine: Engine, private_key: bytes | None = None, anchors: Sequence[Anchor] = ()) -> None:
        self._engine = engine
        if private_key is not None:
            signing.public_key(private_key)  # refuse a malformed key now, not at the first append
        self._private_key = private_key
        self._anchors = tuple(anchors)
        self._lock = threading.Lock()
        _metadata.create_all(engine, tables=[events_table])

    def append_event(
        self,
        request_id: str,
        actor: str,
        action: str,
        detail: Mapping[str, Any],
        at: datetime | None = None,
        alongside: Alongside | None = None,
    ) -> Event:
        """Append one signed event and return it.

        `detail` may hold numbers, booleans, None, short ASCII text without "@"
        and lists or mappings of those; anything else raises ValueError naming
        the key (the ledger must never hold personal data). `at` defaults to
        now and must be timezone-aware.

        `alongside(conn)`, if given, makes the caller's own writes on `conn` in
        the event's transaction, before the event: both commit or neither does.
        A lost race for the next seq retries the whole transaction, so it must
        only write (it may run again); an error it raises ends the append.
        """
        if self._private_key is None:
            raise ValueError("this ledger was opened without a signing key; it can only be read")
        check_name("request_id", request_id)
        check_name("actor", actor)
        check_name("action", action)
        check_detail(detail)
        at = datetime.now(UTC) if at is None else at
        at_text = format_at(at)
        # A fresh, JSON-normalised copy: tuples become lists, later caller edits change nothing.
        detail_text = canonical_json(detail)
        normal_detail = json.loads(detail_text)
        at = parse_at(at_text)

        with self._lock:
            event = self._append(request_id, actor, action, normal_detail, detail_text, at, alongside)
        self._anchor(event)
        return event

    def _append(
        self, request_id: str, actor: str, action: str, detail: dict[str, Any], detail_text: str, at: datetime,
        alongside: Alongside | None,
    ) -> Event:
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                return self._append_once(request_id, actor, action, detail, detail_text, at, alongside)
            except _SeqTaken as failed:
                if not self._taken(failed.seq):
                    raise failed.error from None  # a constraint of the caller's, not a race: no retry
                # Another process took this seq between our read and our insert.
                time.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311 - jitter, not secrecy
        raise LedgerBusy(f"could not append to the ledger after {_APPEND_ATTEMPTS} attempts")

    def _anchor(self, event: Event) -> None:
        """The committed event's head to every anchor. A failure never reaches the caller: the event is
        committed, and a retry would append it twice; `dsar audit verify` reports the missing anchor."""
        if not self._anchors:
            return
        assert self._private_key is not None
        head = sign_head(self._private_key, event)
        for anchor in self._anchors:
            try:
                anchor.record(event, head)
            except Exception as exc:  # whatever an anchor meets, the append stands
                # Seq and types only: an error's text may quote a path or a bucket's answer.
                _log.warning("ledger anchor %s failed at seq %d (%s)", type(anchor).__name__, event.seq,
                             type(exc).__name__)

    def _taken(self, seq: int) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(select(events_table.c.seq).where(events_table.c.seq == seq)).first() is not None

    def _append_once(
        self, request_id: str, actor: str, action: str, detail: dict[str, Any], detail_text: str, at: datetime,
        alongside: Alongside | None,
    ) -> Event:
        assert self._private_key is not None
        with self._engine.begin() as conn:
            _queue(conn)
            if alongside is not None:
                alongside(conn)
            last = conn.execute(
                select(events_table.c.seq, events_table.c.hash).order_by(events_table.c.seq.desc()).limit(1)
            ).first()
            seq, prev_hash = (1, ZERO_HASH) if last is None else (last.seq + 1, last.hash)
            digest = event_hash(seq, at, request_id, actor, action, detail, prev_hash)
            sig = signing.sign(self._private_key, bytes.fromhex(digest)).hex()
            try:
                conn.execute(insert(events_table).values(
                    seq=seq,
                    at=format_at(at),
                    request_id=request_id,
                    actor=actor,
                    action=action,
                    detail=detail_text,
                    prev_hash=prev_hash,
                    hash=digest,
                    sig=sig,
                ))
            except IntegrityError as exc:
                raise _SeqTaken(seq, exc) from None
        return Event(seq, at, request_id, actor, action, detail, prev_hash, digest, sig)

    def events(self, request_id: str | None = None, *, from_seq: int = 1) -> Iterator[Event]:
        """Events in seq order from `from_seq`, all of them or one request's.

        Reads in pages so no connection stays open while the caller works. A row
        that cannot even be decoded raises LedgerTampered for its seq.
        """
        last_seq = from_seq - 1
        while True:
            query = select(events_table).where(events_table.c.seq > last_seq)
            if request_id is not None:
                query = query.where(events_table.c.request_id == request_id)
            query = query.order_by(events_table.c.seq).limit(_PAGE)
            with self._engine.connect() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield _event(row)
            if len(rows) < _PAGE:
                return
            last_seq = rows[-1].seq


# Any constant key of our own: PostgreSQL's advisory locks are per database.
_PG_LOCK = int.from_bytes(b"dsarlegr", "big") >> 1


def _queue(conn: Connection) -> None:
    """Hold the write lock for appends until this transaction ends, before the last seq is read."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        # A write that changes nothing still takes SQLite's write lock (a deferred BEGIN takes it at the first write).
        conn.execute(text("UPDATE audit_events SET seq = seq WHERE 0"))
    elif dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})


def _event(row: Any) -> Event:
    try:
        detail = json.loads(row.detail)
        at = parse_at(row.at)
    except (ValueError, TypeError):
        raise LedgerTampered(row.seq, "unreadable event") from None
    return Event(row.seq, at, row.request_id, row.actor, row.action, detail, row.prev_hash, row.hash, row.sig)
