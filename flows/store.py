"""The request store: requests, their identity challenges, stage completion and download links.

It is the one place that holds the requester's contact details; everything
that leaves it for Prefect, logs or the ledger is the request id.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from flows.deadlines import DeadlineCalendar
from flows.errors import InvalidRequest, RequestClosed, RequestNotFound
from identity.address import ascii_lower
from identity.errors import RecordRejected
from identity.sealing import email_digest, seal, unseal

# A request is open until it reaches one of these; a subject has one VERIFIED open request at a time.
CLOSED = frozenset({"delivered", "duplicate", "closed"})
STATUSES = ("received", "awaiting_identity", "verified", "running", "awaiting_review", "failed", *sorted(CLOSED))
LANGUAGES = ("fi", "en")

metadata = MetaData()

requests_table = Table(
    "requests", metadata,
    Column("id", String(40), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("extended_to", DateTime(timezone=True)),
    Column("status", String(40), nullable=False),
    Column("reason", String(200)),
    Column("language", String(2), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(200)),
    Column("phone", String(40)),
    # sha256 of the email (ASCII case folded) while the request is open AND verified, NULL otherwise:
    # the unique index makes "one verified open request per subject" hold under races. Unverified
    # requests never hold it, so nobody can block a subject by asking in their name first.
    Column("open_key", String(64), unique=True),
    Column("duplicate_of", String(40)),
    Column("evidence", Text),
    Column("package_ref", String(500)),
    # Unused since claims moved to `run_claims`; kept because the table gains and loses no columns
    # without migrations.
    Column("run_holder", String(64)),
    Column("run_until", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

challenges_table = Table(
    "identity_challenges", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("challenge", Text, nullable=False),
)

# What a member of staff wrote about a manual check. Kept here only, never in the ledger: it may hold personal data.
check_notes_table = Table(
    "manual_check_notes", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("checked_at", DateTime(timezone=True), primary_key=True),
    Column("staff_id", String(40), nullable=False),
    Column("note", Text, nullable=False),
)

# Who approved or rejected a request's package before it was built. The note stays here, never in the ledger:
# it may hold personal data.
review_decisions_table = Table(
    "review_decisions", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("decided_at", DateTime(timezone=True), primary_key=True),
    Column("staff_id", String(40), nullable=False),
    Column("decision", String(10), nullable=False),  # approve | reject
    Column("note", Text, nullable=False),
)

stages_table = Table(
    "request_stages", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("stage", String(40), primary_key=True),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("detail", Text, nullable=False),
)

# One row per link sent to a requester. The token (a signed JWT) is never stored: its id (jti) is enough
# to count, expire and revoke it, and a leaked copy of this table grants no download.
links_table = Table(
    "links", metadata,
    Column("jti", String(64), primary_key=True),
    Column("request_id", String(40), nullable=False, index=True),
    Column("object_key", String(512), nullable=False),
    Column("package_sha256", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("downloads_left", Integer, nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# How a request's package is sealed, when it is not the default (age with a generated passphrase). A table of
# its own: the requests table gains no columns without migrations.
sealing_table = Table(
    "sealing", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("method", String(20), nullable=False),
    Column("recipient", String(200)),
)
SEALING_METHODS = ("age-passphrase", "age-recipient", "zip-aes")

# Which flow run works on a request, where, and until when: two runs at once would each seal the package with
# their own passphrase. The holder's host, pid and process start time let a run on the same host see at once
# that the holder is gone; the short lease, renewed while the run lives, covers every other host.
run_claims_table = Table(
    "run_claims", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", String(32), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
)


# Further identifiers a requester names (a work address, a phone), each verified by its own code before any source
# is searched for it. A table of its own: the requests table gains no columns without migrations, and
# `create_all` adds a new table to an existing store. `challenge` and `verified` are sealed, bound to the
# identifier: a code's tries or a verification copied from another row reads as absent.
identifiers_table = Table(
    "request_identifiers", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("challenge", Text),
    Column("verified", Text),
)


# A request's one Art. 12(3) extension. A table of its own: the requests table gains no columns without
# migrations, and `create_all` adds a new table to an existing store. The reason stays here, never in the
# ledger (which holds its sha256): staff type it, in Finnish with ä and ö, and it may name people.
extensions_table = Table(
    "extensions", metadata,
    Column("request_id", String(40), primary_key=True),
    Column("extended_at", DateTime(timezone=True), nullable=False),
    Column("months", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)


@dataclass(frozen=True)
class Extension:
    """How a request's deadline was extended: when, by how many months, and why (as mailed to the requester)."""

    extended_at: datetime
    months: int
    reason: str


@dataclass(frozen=True)
class RequestIdentifier:
    """An identifier the requester named besides the request's address: an email (canonical, ASCII lower-cased)
    or a phone (E.164). `verified_at` is None until its own code was typed right."""

    kind: str
    value: str
    added_at: datetime
    verified_at: datetime | None = None


@dataclass(frozen=True)
class RunClaim:
    """A flow run's hold on a request: its Prefect flow-run id, its process and the lease's end."""

    request_id: str
    run_id: str
    host: str
    pid: int
    started: str  # the process's start time in clock ticks after boot (/proc/<pid>/stat): a reused pid differs
    until: datetime

    def is_live(self, now: datetime) -> bool:
        return now < self.until


@dataclass(frozen=True)
class Sealing:
    """`age-passphrase` (the default), `age-recipient` (the requester's own `age1...` key) or `zip-aes`
    (WinZip AES-256 with a generated passphrase, for requesters without age)."""

    method: str = "age-passphrase"
    recipient: str | None = None

    @property
    def passphrase(self) -> bool:
        """Whether a generated passphrase opens the package (and so goes to the requester)."""
        return self.method != "age-recipient"


@dataclass(frozen=True)
class Request:
    id: str
    received_at: datetime
    due_at: datetime
    extended_to: datetime | None
    status: str
    reason: str | None
    language: str
    email: str
    name: str | None
    phone: str | None
    duplicate_of: str | None
    evidence: dict[str, Any] | None
    package_ref: str | None
    updated_at: datetime

    @property
    def deadline(self) -> datetime:
        """When the reply is due: the extended date once extended (Art. 12(3)), else one month from receipt;
        the last instant of the due day in the controller's zone (flows.deadlines)."""
        return self.extended_to or self.due_at

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED


@dataclass(frozen=True)
class Link:
    """A download link as recorded: what it grants and how much of it is left."""

    jti: str
    request_id: str
    object_key: str
    package_sha256: str
    issued_at: datetime
    expires_at: datetime
    downloads_left: int
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        """Whether the link could still download: not revoked, not expired, not used up."""
        return self.revoked_at is None and now < self.expires_at and self.downloads_left > 0


def new_request_id() -> str:
    """`REQ-` and 16 base32 characters (80 random bits): unguessable, safe in file names."""
    return "REQ-" + base64.b32encode(secrets.token_bytes(10)).decode("ascii")


def _subject_key(email: str) -> str:
    return hashlib.sha256(ascii_lower(email.strip()).encode("utf-8")).hexdigest()


def _identifier_ref(kind: str, value: str) -> str:
    """What binds a sealed record to its identifier row."""
    return hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()


def _identifier_row(request_id: str, kind: str, value: str) -> tuple[Any, ...]:
    table = identifiers_table
    return table.c.request_id == request_id, table.c.kind == kind, table.c.value == value


@overload
def _utc(value: datetime) -> datetime: ...


@overload
def _utc(value: None) -> None: ...


def _utc(value: datetime | None) -> datetime | None:
    # Everything we store is UTC. SQLite hands back naive datetimes; PostgreSQL
    # aware ones in the session's time zone.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _wal(connection: Any, _record: Any) -> None:
            connection.execute("PRAGMA journal_mode=WAL")

        return engine
    return create_engine(url, pool_pre_ping=True)


class RequestStore:
    """Requests and what belongs to them.

    Identity challenges and evidence are kept sealed by `record_key` (see
    identity.sealing): a record edited in the database, or copied from another
    request, reads as absent, and `on_rejected(request_id, kind)` is told.
    Deadlines are counted in `calendar` (the controller's time zone and holidays; default Helsinki and FI).
    """

    def __init__(
        self, engine: Engine, record_key: bytes, on_rejected: Callable[[str, str], None] | None = None,
        calendar: DeadlineCalendar | None = None,
    ) -> None:
        self.engine = engine
        self.calendar = calendar or DeadlineCalendar()
        self._record_key = record_key
        self._on_rejected = on_rejected
        metadata.create_all(engine)

    def _unseal(self, data: str, request_id: str, kind: str) -> dict[str, Any] | None:
        try:
            stored = json.loads(data)
            if not isinstance(stored, dict):
                raise RecordRejected(kind)
            return unseal(stored, request_id, kind, self._record_key)
        except (ValueError, RecordRejected):  # JSONDecodeError is a ValueError
            if self._on_rejected is not None:
                self._on_rejected(request_id, kind)
            return None

    def _sealed(self, record: Mapping[str, Any], request_id: str, kind: str) -> str:
        return json.dumps(seal(record, request_id, kind, self._record_key), sort_keys=True)

    def create(
        self, email: str, language: str, now: datetime, name: str | None = None, phone: str | None = None,
    ) -> Request:
        """Register a request; a subject who already has a verified open request gets a `duplicate` one.

        `email` is the canonical address (identity.canonical_address). An unverified
        request of the same subject does not count: each gets its own code.
        """
        if language not in LANGUAGES:
            raise InvalidRequest(f"language must be one of {', '.join(LANGUAGES)}")
        if "@" not in email:
            raise InvalidRequest("the requester's email address is not valid")
        row: dict[str, Any] = {
            "id": new_request_id(), "received_at": now, "due_at": self.calendar.due_at(now), "status": "received",
            "language": language, "email": email.strip(), "name": name, "phone": phone, "updated_at": now,
        }
        with self.engine.begin() as conn:
            # A verified request that appears after this read is caught when this one verifies (save_evidence).
            verified = conn.execute(select(requests_table.c.id).where(
                requests_table.c.open_key == _subject_key(email), requests_table.c.evidence.is_not(None),
            )).scalar_one_or_none()
            if verified is not None:
                row |= {"status": "duplicate", "duplicate_of": verified}
            conn.execute(insert(requests_table).values(row))
        return self.get(row["id"])

    def get(self, request_id: str) -> Request:
        with self.engine.connect() as conn:
            row = conn.execute(select(requests_table).where(requests_table.c.id == request_id)).mappings().first()
        if row is None:
            raise RequestNotFound(request_id)
        return self._request(row)

    def list(self) -> Iterator[Request]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(requests_table).order_by(requests_table.c.received_at)).mappings().all()
        for row in rows:
            yield self._request(row)

    def open_due_by(self, moment: datetime) -> Iterator[Request]:
        """Open requests whose deadline (the extended date, else the due date) is at or before `moment`,
        earliest first."""
        table = requests_table
        deadline = func.coalesce(table.c.extended_to, table.c.due_at)
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.status.not_in(CLOSED), deadline <= _utc(moment))
                                .order_by(deadline, table.c.id)).mappings().all()
        for row in rows:
            yield self._request(row)

    def extend(self, request_id: str, extension: Extension, extended_to: datetime,
               conn: Connection | None = None) -> None:
        """Record the request's one extension (in `conn`'s transaction if given).

        One conditional write: of two extensions at once, or one racing the request's close, one wins and the
        other gets InvalidRequest (nothing written).
        """
        table = requests_table
        with self._begin(conn) as conn:
            result = conn.execute(update(table).where(
                table.c.id == request_id, table.c.extended_to.is_(None), table.c.status.not_in(CLOSED),
            ).values(extended_to=_utc(extended_to), updated_at=extension.extended_at))
            if result.rowcount != 1:
                raise InvalidRequest(f"{request_id} was extended or closed meanwhile; nothing changed")
            conn.execute(insert(extensions_table).values(request_id=request_id, **dataclasses.asdict(extension)))

    def extension(self, request_id: str) -> Extension | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(extensions_table).where(extensions_table.c.request_id == request_id)).first()
        return None if row is None else Extension(_utc(row.extended_at), row.months, row.reason)

    @contextmanager
    def _begin(self, conn: Connection | None) -> Iterator[Connection]:
        """`conn` when the caller's transaction (a ledger event's, say) is to hold the write; else a new one."""
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as own:
            yield own

    def set_status(self, request_id: str, status: str, now: datetime, reason: str | None = None,
                   conn: Connection | None = None, **values: Any) -> None:
        """Move a request to `status` in one transaction (`conn`'s if given); closing it frees the subject for a
        new one."""
        changes = {"status": status, "reason": reason, "updated_at": now, **values}
        if status in CLOSED:
            changes["open_key"] = None
        with self._begin(conn) as conn:
            result = conn.execute(update(requests_table).where(requests_table.c.id == request_id).values(changes))
            if result.rowcount != 1:
                raise RequestNotFound(request_id)

    def claim_run(self, claim: RunClaim, now: datetime, replacing: str | None = None) -> bool:
        """Take the request for `claim.run_id`; True if that run holds it now.

        Taken when nobody holds it, when the holder's lease ended before `now`, or when the holder is
        `replacing` (a run the caller found gone). One conditional write each, so of two runs taking the same
        request at once exactly one wins.
        """
        table, values = run_claims_table, {**dataclasses.asdict(claim), "until": _utc(claim.until)}
        free = or_(table.c.until < _utc(now), table.c.run_id == claim.run_id)
        if replacing is not None:
            free = or_(free, table.c.run_id == replacing)
        with self.engine.begin() as conn:
            result = conn.execute(update(table).where(table.c.request_id == claim.request_id, free).values(values))
        if result.rowcount == 1:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(values))
        except IntegrityError:  # held, and not free
            return False
        return True

    def renew_run(self, request_id: str, run_id: str, until: datetime) -> bool:
        """Extend the claim `run_id` holds; False when it holds none any more (taken over or unlocked)."""
        table = run_claims_table
        with self.engine.begin() as conn:
            result = conn.execute(update(table).where(table.c.request_id == request_id, table.c.run_id == run_id)
                                  .values(until=_utc(until)))
        return result.rowcount == 1

    def release_run(self, request_id: str, run_id: str) -> bool:
        """Drop the claim if `run_id` holds it; True if it did."""
        table = run_claims_table
        with self.engine.begin() as conn:
            result = conn.execute(delete(table).where(table.c.request_id == request_id, table.c.run_id == run_id))
        return result.rowcount == 1

    def run_claim(self, request_id: str) -> RunClaim | None:
        """The claim on a request, live or lapsed; None when no run holds it."""
        with self.engine.connect() as conn:
            row = conn.execute(select(run_claims_table).where(run_claims_table.c.request_id == request_id)
                               ).mappings().first()
        return None if row is None else self._claim(row)

    def run_claims(self) -> dict[str, RunClaim]:
        """Every claim, live or lapsed, by request id."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(run_claims_table)).mappings().all()
        return {row["request_id"]: self._claim(row) for row in rows}

    @staticmethod
    def _claim(row: RowMapping) -> RunClaim:
        return RunClaim(request_id=row["request_id"], run_id=row["run_id"], host=row["host"], pid=row["pid"],
                        started=row["started"], until=_utc(row["until"]))

    def save_evidence(self, request_id: str, evidence: Mapping[str, Any], now: datetime,
                      replaces: Mapping[str, Any] | None = None) -> Request:
        """Mark an open request verified and make it its subject's one open request; the request as it is now.

        `replaces` is the evidence the caller decided on (None: there was none). The write happens only if
        that is still what the request holds, so two methods finishing at once cannot have the weaker one
        overwrite the stronger: the later gets InvalidRequest and may try again.

        The evidence is kept bound to this request and to the email on record now
        (`request_id`, `email_sha256`, under the store's MAC); readers compare the
        latter with the email on record before anything is delivered. If the
        subject already has a verified open request (two of theirs verified at
        once), this one becomes its `duplicate`. RequestClosed if it closed
        (lapsed) meanwhile: evidence never reopens a request.
        """
        table = requests_table
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == request_id)).mappings().first()
        if row is None:
            raise RequestNotFound(request_id)
        request, held = self._request(row), row["evidence"]
        if request.evidence != (dict(replaces) if replaces is not None else None):
            raise InvalidRequest(f"{request_id}: its identity evidence changed meanwhile; try again")
        unchanged = table.c.evidence.is_(None) if held is None else table.c.evidence == held
        key = _subject_key(request.email)
        bound = {**evidence, "request_id": request_id, "email_sha256": email_digest(request.email)}
        changes = {"status": "verified", "reason": None, "updated_at": now,
                   "evidence": self._sealed(bound, request_id, "evidence")}
        try:
            with self.engine.begin() as conn:
                # Stores written before verified-only keys let unverified requests hold one: free it.
                conn.execute(update(table).where(table.c.open_key == key, table.c.evidence.is_(None))
                             .values(open_key=None))
                result = conn.execute(update(table).where(table.c.id == request_id, table.c.status.not_in(CLOSED),
                                                          unchanged).values({**changes, "open_key": key}))
        except IntegrityError:
            with self.engine.begin() as conn:
                holder = conn.execute(select(table.c.id).where(table.c.open_key == key)).scalar_one_or_none()
                duplicate = {**changes, "status": "duplicate", "duplicate_of": holder, "open_key": None}
                result = conn.execute(update(table).where(table.c.id == request_id, table.c.status.not_in(CLOSED),
                                                          unchanged).values(duplicate))
        if result.rowcount != 1:
            now_held = self.get(request_id)
            if now_held.is_open:
                raise InvalidRequest(f"{request_id}: its identity evidence changed meanwhile; try again")
            raise RequestClosed(request_id, now_held.status)
        return self.get(request_id)

    def lapse_unverified(self, received_before: datetime, now: datetime) -> tuple[str, ...]:
        """Close every open request received before `received_before` that nobody verified; their ids.

        Each is closed by one conditional UPDATE, so a code checked at the same moment
        either verifies the request first or finds it closed, never both.
        """
        table = requests_table
        unverified = (table.c.evidence.is_(None), table.c.status.not_in(CLOSED), table.c.received_at < received_before)
        with self.engine.connect() as conn:
            ids = conn.execute(select(table.c.id).where(*unverified).order_by(table.c.received_at)).scalars().all()
        lapsed: tuple[str, ...] = ()
        for request_id in ids:
            with self.engine.begin() as conn:
                result = conn.execute(update(table).where(table.c.id == request_id, *unverified).values(
                    status="closed", reason="lapsed", open_key=None, updated_at=now))
            if result.rowcount == 1:
                lapsed += (request_id,)
        return lapsed

    # Identity challenges -------------------------------------------------

    def put_challenge(self, request_id: str, challenge: Mapping[str, Any]) -> None:
        data = self._sealed(challenge, request_id, "challenge")
        with self.engine.begin() as conn:
            conn.execute(challenges_table.delete().where(challenges_table.c.request_id == request_id))
            conn.execute(insert(challenges_table).values(request_id=request_id, challenge=data))

    def swap_challenge(self, request_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """Replace the challenge only if it is still `old`: two guesses at once cannot spend one try."""
        with self.engine.begin() as conn:
            result = conn.execute(update(challenges_table).where(
                challenges_table.c.request_id == request_id,
                challenges_table.c.challenge == self._sealed(old, request_id, "challenge"),
            ).values(challenge=self._sealed(new, request_id, "challenge")))
        return result.rowcount == 1

    def delete_challenge(self, request_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(challenges_table.delete().where(challenges_table.c.request_id == request_id))

    def get_challenge(self, request_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            data = conn.execute(
                select(challenges_table.c.challenge).where(challenges_table.c.request_id == request_id)
            ).scalar_one_or_none()
        return None if data is None else self._unseal(data, request_id, "challenge")

    # Further identifiers ------------------------------------------------

    def add_identifier(self, request_id: str, kind: str, value: str, now: datetime) -> bool:
        """Name a further identifier of the requester's; False if the request already names it."""
        self.get(request_id)  # RequestNotFound names a mistyped id
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(identifiers_table).values(request_id=request_id, kind=kind, value=value,
                                                              added_at=now))
        except IntegrityError:
            return False
        return True

    def identifiers(self, request_id: str) -> tuple[RequestIdentifier, ...]:
        """The further identifiers a request names, in the order they were named."""
        table = identifiers_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.request_id == request_id)
                                .order_by(table.c.added_at, table.c.kind, table.c.value)).mappings().all()
        return tuple(RequestIdentifier(row["kind"], row["value"], _utc(row["added_at"]), self._verified_at(row))
                     for row in rows)

    def _verified_at(self, row: RowMapping) -> datetime | None:
        if row["verified"] is None:
            return None
        record = self._unseal(row["verified"], row["request_id"], "identifier")
        if record is None or record.get("identifier") != _identifier_ref(row["kind"], row["value"]):
            return None
        return datetime.fromisoformat(record["verified_at"])

    def put_identifier_challenge(self, request_id: str, kind: str, value: str, challenge: Mapping[str, Any]) -> None:
        """Keep the challenge of a code sent to one identifier (the identifier must be named first)."""
        sealed = self._sealed({**challenge, "identifier": _identifier_ref(kind, value)}, request_id, "challenge")
        with self.engine.begin() as conn:
            result = conn.execute(update(identifiers_table).where(*_identifier_row(request_id, kind, value))
                                  .values(challenge=sealed))
        if result.rowcount != 1:
            raise InvalidRequest(f"{request_id} names no such identifier")

    def identifier_challenge(self, request_id: str, kind: str, value: str) -> dict[str, Any] | None:
        """The outstanding challenge of one identifier, None if there is none or it does not hold."""
        with self.engine.connect() as conn:
            data = conn.execute(select(identifiers_table.c.challenge)
                                .where(*_identifier_row(request_id, kind, value))).scalar_one_or_none()
        record = None if data is None else self._unseal(data, request_id, "challenge")
        if record is None or record.pop("identifier", None) != _identifier_ref(kind, value):
            return None
        return record

    def swap_identifier_challenge(self, request_id: str, kind: str, value: str, old: Mapping[str, Any],
                                  new: Mapping[str, Any]) -> bool:
        """Replace the identifier's challenge only if it is still `old`: two guesses at once cannot spend one try."""
        ref = _identifier_ref(kind, value)
        with self.engine.begin() as conn:
            result = conn.execute(update(identifiers_table).where(
                *_identifier_row(request_id, kind, value),
                identifiers_table.c.challenge == self._sealed({**old, "identifier": ref}, request_id, "challenge"),
            ).values(challenge=self._sealed({**new, "identifier": ref}, request_id, "challenge")))
        return result.rowcount == 1

    def verify_identifier(self, request_id: str, kind: str, value: str, now: datetime) -> None:
        """Mark one identifier verified; its code is used up."""
        record = {"identifier": _identifier_ref(kind, value), "verified_at": _utc(now).isoformat()}
        with self.engine.begin() as conn:
            conn.execute(update(identifiers_table).where(*_identifier_row(request_id, kind, value)).values(
                challenge=None, verified=self._sealed(record, request_id, "identifier")))

    def add_check_note(self, request_id: str, staff_id: str, now: datetime, note: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(check_notes_table).values(
                request_id=request_id, checked_at=now, staff_id=staff_id, note=note))

    def check_notes(self, request_id: str) -> tuple[tuple[datetime, str, str], ...]:
        """(checked_at, staff_id, note) of a request's manual checks, oldest first."""
        table = check_notes_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.checked_at, table.c.staff_id, table.c.note)
                                .where(table.c.request_id == request_id).order_by(table.c.checked_at)).all()
        return tuple((_utc(at), staff, note) for at, staff, note in rows)

    # Review decisions --------------------------------------------------------

    def decide_review(self, request_id: str, staff_id: str, approve: bool, note: str, now: datetime,
                      conn: Connection | None = None) -> bool:
        """Record a decision on a request that awaits review; False if it no longer does (decided meanwhile).

        One transaction (`conn`'s if given): the request leaves `awaiting_review` (approved: `verified`, ready
        to run on; rejected: `failed`), the decision is kept, and an approval completes the `review` stage with
        the approver's id (what its ledger event says).
        """
        status, reason = ("verified", "review: approved") if approve else ("failed", "review: rejected")
        table = requests_table
        with self._begin(conn) as conn:
            result = conn.execute(update(table).where(table.c.id == request_id, table.c.status == "awaiting_review")
                                  .values(status=status, reason=reason, updated_at=now))
            if result.rowcount != 1:
                return False
            conn.execute(insert(review_decisions_table).values(
                request_id=request_id, decided_at=now, staff_id=staff_id,
                decision="approve" if approve else "reject", note=note))
            if approve:
                self.complete_stage(request_id, "review", {"by": staff_id}, now, conn=conn)
        return True

    def review_decisions(self, request_id: str) -> tuple[tuple[datetime, str, str, str], ...]:
        """(decided_at, staff_id, decision, note) of a request's review decisions, oldest first."""
        table = review_decisions_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.decided_at, table.c.staff_id, table.c.decision, table.c.note)
                                .where(table.c.request_id == request_id).order_by(table.c.decided_at)).all()
        return tuple((_utc(at), staff, decision, note) for at, staff, decision, note in rows)

    # Stage completion: what a re-run skips ---------------------------------

    def stage_done(self, request_id: str, stage: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            detail = conn.execute(
                select(stages_table.c.detail).where(
                    stages_table.c.request_id == request_id, stages_table.c.stage == stage)
            ).scalar_one_or_none()
        return None if detail is None else json.loads(detail)

    def reset_stages(self, request_id: str, stages: Iterable[str], conn: Connection | None = None) -> None:
        """Forget that `stages` completed, so that a re-run does them again."""
        with self._begin(conn) as conn:
            conn.execute(stages_table.delete().where(
                stages_table.c.request_id == request_id, stages_table.c.stage.in_(list(stages))))

    def complete_stage(self, request_id: str, stage: str, detail: Mapping[str, Any], now: datetime,
                       conn: Connection | None = None) -> None:
        with self._begin(conn) as conn:
            conn.execute(insert(stages_table).values(
                request_id=request_id, stage=stage, completed_at=now, detail=json.dumps(detail, sort_keys=True)))

    def _request(self, row: RowMapping) -> Request:
        return Request(
            id=row["id"], received_at=_utc(row["received_at"]), due_at=_utc(row["due_at"]),
            extended_to=_utc(row["extended_to"]), status=row["status"], reason=row["reason"],
            language=row["language"], email=row["email"], name=row["name"], phone=row["phone"],
            duplicate_of=row["duplicate_of"],
            evidence=None if row["evidence"] is None else self._unseal(row["evidence"], row["id"], "evidence"),
            package_ref=row["package_ref"], updated_at=_utc(row["updated_at"]),
        )

    # Sealing ------------------------------------------------------------------------

    def set_sealing(self, request_id: str, sealing: Sealing) -> None:
        if sealing.method not in SEALING_METHODS or (sealing.recipient is None) != (sealing.method != "age-recipient"):
            raise InvalidRequest("sealing is age-passphrase, zip-aes, or age-recipient with a recipient")
        self.get(request_id)  # RequestNotFound names a mistyped id
        with self.engine.begin() as conn:
            conn.execute(delete(sealing_table).where(sealing_table.c.request_id == request_id))
            conn.execute(insert(sealing_table).values(request_id=request_id, method=sealing.method,
                                                      recipient=sealing.recipient))

    def sealing(self, request_id: str) -> Sealing:
        with self.engine.connect() as conn:
            row = conn.execute(select(sealing_table).where(sealing_table.c.request_id == request_id)).first()
        return Sealing() if row is None else Sealing(row.method, row.recipient)

    # Download links -------------------------------------------------------------

    def add_link(self, link: Link) -> None:
        """Record a link before it is sent; recording the same jti again (a resumed delivery) changes nothing."""
        with self.engine.begin() as conn:
            exists = conn.execute(select(links_table.c.jti).where(links_table.c.jti == link.jti)).first()
            if exists is None:
                conn.execute(insert(links_table).values(dataclasses.asdict(link)))

    def link(self, jti: str) -> Link | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(links_table).where(links_table.c.jti == jti)).mappings().first()
        return None if row is None else self._link(row)

    def links_of(self, request_id: str) -> tuple[Link, ...]:
        """Every link ever sent for a request, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(links_table).where(links_table.c.request_id == request_id)
                                .order_by(links_table.c.issued_at, links_table.c.jti)).mappings().all()
        return tuple(self._link(row) for row in rows)

    def take_download(self, jti: str, now: datetime) -> Link | None:
        """Spend one download of a live link; the link as it is afterwards, or None if it is not live.

        One conditional UPDATE does the check and the spending, so downloads at
        the same moment can never take more than the link had left.
        """
        table = links_table
        with self.engine.begin() as conn:
            row = conn.execute(
                update(table).where(
                    table.c.jti == jti, table.c.downloads_left > 0, table.c.revoked_at.is_(None),
                    table.c.expires_at > _utc(now),
                ).values(downloads_left=table.c.downloads_left - 1).returning(*table.c)
            ).mappings().first()
        return None if row is None else self._link(row)

    def revoke_links(self, request_id: str, now: datetime) -> int:
        """Kill every link of a request that is not yet revoked; how many were."""
        table = links_table
        with self.engine.begin() as conn:
            result = conn.execute(update(table).where(table.c.request_id == request_id, table.c.revoked_at.is_(None))
                                  .values(revoked_at=_utc(now)))
        return result.rowcount

    @staticmethod
    def _link(row: RowMapping) -> Link:
        return Link(
            jti=row["jti"], request_id=row["request_id"], object_key=row["object_key"],
            package_sha256=row["package_sha256"], issued_at=_utc(row["issued_at"]),
            expires_at=_utc(row["expires_at"]), downloads_left=row["downloads_left"],
            revoked_at=_utc(row["revoked_at"]),
        )
