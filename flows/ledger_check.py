"""Does the request store agree with the ledger? The cross-check behind `dsar audit verify`.

The store says what a resume skips; the ledger is what an auditor trusts. They
must tell the same story: every completed stage has exactly one `<stage>_done`
event with the same result (a `staging_lost` in between allows one more),
every event of a completed stage has its record, a delivered request has its
`deliver_done`, and every download link has the event that issued it. The
tables are read directly, so an auditor needs no key, and one request at a
time, so memory stays bounded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from audit.event import Event, canonical_json
from audit.ledger import Ledger
from flows.downloads import link_ref
from flows.stage_record import SUB_RECORDS, lost_with_staging, without_run
from flows.store import links_table, requests_table, run_claims_table, stages_table

_PAGE = 500


@dataclass(frozen=True)
class Mismatch:
    """One disagreement, named by request id and stage only (no personal data)."""

    request_id: str
    stage: str
    problem: str

    def __str__(self) -> str:
        return f"{self.request_id} {self.stage}: {self.problem}"


def cross_check(engine: Engine, ledger: Ledger, now: datetime | None = None) -> Iterator[Mismatch]:
    """Every disagreement between the store in `engine` and `ledger`, request by request.

    A link row without its event is not reported while a run holds the request
    (its claim lasts past `now`): a delivery records its link before the mail
    and the event after it.
    """
    now = now or datetime.now(UTC)
    for request_id, status, run_until in _requests(engine):
        held = run_until is not None and _utc(run_until) > now
        yield from _check_request(engine, ledger, request_id, status, held)


def _requests(engine: Engine) -> Iterator[tuple[str, str, datetime | None]]:
    """Each request's id, status and the end of its run claim's lease (None when unclaimed)."""
    table, claims, last = requests_table, run_claims_table, ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.status, claims.c.until)
                                .outerjoin(claims, claims.c.request_id == table.c.id).where(table.c.id > last)
                                .order_by(table.c.id).limit(_PAGE)).all()
        for row in rows:
            yield row.id, row.status, row.until
        if len(rows) < _PAGE:
            return
        last = rows[-1].id


# Stages whose completion event is named for what happened rather than `<stage>_done`.
_DONE_AS = {"review_approved": "review"}


def _check_request(engine: Engine, ledger: Ledger, request_id: str, status: str, held: bool) -> Iterator[Mismatch]:
    with engine.connect() as conn:
        rows = {stage: json.loads(detail) for stage, detail in conn.execute(
            select(stages_table.c.stage, stages_table.c.detail).where(stages_table.c.request_id == request_id))}
        jtis = conn.execute(select(links_table.c.jti).where(links_table.c.request_id == request_id)).scalars().all()
    done: dict[str, list[Event]] = {}  # each stage's done events since it was last forgotten
    issued: set[str] = set()
    for event in ledger.events(request_id):
        if event.action in ("staging_lost", "review_rejected"):  # both forget the staged stages
            for stage in [s for s in done if lost_with_staging(s)]:
                yield from _doubled(request_id, stage, done.pop(stage))
        elif event.action in _DONE_AS:
            done.setdefault(_DONE_AS[event.action], []).append(event)
        elif event.action.endswith("_done"):
            done.setdefault(event.action.removesuffix("_done"), []).append(event)
        if event.action in ("deliver_done", "link_reissued") and isinstance(event.detail.get("link"), str):
            issued.add(event.detail["link"])

    for stage in sorted((rows.keys() - SUB_RECORDS) | done.keys()):
        events, row = done.get(stage, []), rows.get(stage)
        yield from _doubled(request_id, stage, events)
        if row is None:
            yield Mismatch(request_id, stage, f"{stage}_done is in the ledger but the store has no record of it")
        elif not events:
            yield Mismatch(request_id, stage, f"done in the store but the ledger has no {stage}_done")
        elif _digest(row) != _digest(without_run(events[-1].detail)):
            yield Mismatch(request_id, stage, f"the store's record differs from {stage}_done (seq {events[-1].seq})")
    if status == "delivered" and "deliver" not in done:
        yield Mismatch(request_id, "deliver", "delivered in the store but the ledger has no deliver_done")
    if not held:
        for jti in sorted(jtis):
            if link_ref(jti) not in issued:
                yield Mismatch(request_id, "deliver", f"link {link_ref(jti)} has no deliver_done or link_reissued")


def _doubled(request_id: str, stage: str, events: list[Event]) -> Iterator[Mismatch]:
    if len(events) > 1:
        seqs = ", ".join(str(e.seq) for e in events)
        yield Mismatch(request_id, stage, f"{len(events)} {stage}_done events (seq {seqs}) without staging_lost "
                                          "between them")


def _digest(detail: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(detail).encode("utf-8")).hexdigest()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
