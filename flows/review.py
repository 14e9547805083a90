"""Human review between redaction and packaging: a privacy officer approves or rejects what was staged.

`[review] required` makes every request wait for a decision, `when_withheld`
those with withheld items (category `withheld`: what a source could not hand
over safely). A waiting request is `awaiting_review`; the ledger gets counts
only (`review_requested`), and who decided (`review_approved`,
`review_rejected`). The decision and the staff member's note live in the
request store; the note never leaves it. A rejected request ends `failed`
with its staging deleted, so a later run extracts anew and is reviewed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from extractors.records import WITHHELD, Record, read_jsonl
from flows.errors import InvalidRequest
from flows.manual_check import check_note
from flows.runtime import Runtime
from flows.stages import open_request, staging_stages
from flows.sweeper import delete_staging
from identity.evidence import known_staff

AWAITING = "awaiting_review"


def review(rt: Runtime, request_id: str) -> dict[str, Any]:
    """The review stage: whether the request may go on to packaging. Counts only in what it returns.

    `{"review": "pending"}` while a decision is wanted and not made: the first
    time, the request becomes `awaiting_review` and the ledger gets
    `review_requested`; asking again (a resumed run) records nothing more.
    Otherwise `approved` or `not_needed`.
    """
    approved = rt.store.stage_done(request_id, "review")
    if approved is not None:
        return {"review": "approved", "by": approved["by"]}
    if rt.store.stage_done(request_id, "package") is not None:
        return {"review": "not_needed"}  # packaged without one: review resets with staging (stages.staging_stages)
    request = open_request(rt, request_id)
    withheld = sum(1 for _ in _withheld_records(rt, request_id))
    reasons = []
    if rt.config.review.required:
        reasons.append("required")
    if rt.config.review.when_withheld and withheld:
        reasons.append("withheld")
    if not reasons:
        return {"review": "not_needed"}
    if request.status != AWAITING:
        rt.ledger.append_event(request_id, "dsar", "review_requested", {
            "reasons": reasons, "withheld": withheld, "records": _records_per_source(rt, request_id)})
        rt.store.set_status(request_id, AWAITING, rt.clock(), reason=f"review: {', '.join(reasons)}")
    return {"review": "pending", "withheld": withheld}


def decide(rt: Runtime, request_id: str, approve: bool, staff_id: str, note: str = "") -> bool:
    """Record `staff_id`'s decision on a request awaiting review; returns `approve`.

    UnknownStaff unless `staff_id` is in `[identity] staff_ids` (any well-formed id while that list is empty);
    InvalidRequest when the request is not awaiting review or the note is refused. Nothing is recorded then.
    Approved, the next run packages; rejected, the request is `failed` ("review: rejected") and its staging
    is gone.
    """
    known_staff(staff_id, rt.config.identity.staff_ids)
    note = check_note(note)
    request = open_request(rt, request_id)
    if request.status != AWAITING:
        raise InvalidRequest(f"{request_id} is not awaiting review (it is {request.status})")

    def record(conn: Connection) -> None:
        if not rt.store.decide_review(request_id, staff_id, approve, note, rt.clock(), conn=conn):
            raise InvalidRequest(f"{request_id}: another decision was recorded meanwhile")  # the event rolls back
        if not approve:
            rt.store.reset_stages(request_id, staging_stages(rt), conn=conn)

    # The decision and its event in one transaction: neither is ever on record without the other.
    rt.ledger.append_event(request_id, "privacy_team", "review_approved" if approve else "review_rejected",
                           {"by": staff_id}, alongside=record)
    if not approve:
        delete_staging(rt, request_id, "review_rejected")
    return approve


@dataclass(frozen=True)
class ReviewView:
    """What a reviewer sees of one request: counts, the withheld items and the decisions so far."""

    status: str
    reason: str | None
    records: dict[str, dict[str, int]]  # per source and category, as staged for the package
    redaction: dict[str, int]
    withheld: list[dict[str, Any]]  # source, reason, sha256, bytes, message_id: never the item's content
    decisions: tuple[tuple[datetime, str, str, str], ...]


def show(rt: Runtime, request_id: str) -> ReviewView:
    request = rt.store.get(request_id)
    redacted = _redacted(rt, request_id)
    records: dict[str, dict[str, int]] = {}
    for path in sorted(redacted.glob("*/*.jsonl")):
        if path.stem != WITHHELD:
            records.setdefault(path.parent.name, {})[path.stem] = sum(1 for _ in read_jsonl(path))
    summary = rt.store.stage_done(request_id, "redact") or {}
    return ReviewView(
        status=request.status, reason=request.reason, records=records,
        redaction={k: v for k, v in summary.items() if isinstance(v, int)},
        withheld=[{"source": r.source, **r.data} for r in _withheld_records(rt, request_id)],
        decisions=rt.store.review_decisions(request_id),
    )


def awaiting(rt: Runtime) -> Iterator[str]:
    """Ids of the requests awaiting review, oldest first."""
    return (r.id for r in rt.store.list() if r.status == AWAITING)


def _redacted(rt: Runtime, request_id: str) -> Path:
    return rt.work_dir(request_id) / "redacted"


def _withheld_records(rt: Runtime, request_id: str) -> Iterator[Record]:
    for path in sorted(_redacted(rt, request_id).glob(f"*/{WITHHELD}.jsonl")):
        yield from read_jsonl(path)


def _records_per_source(rt: Runtime, request_id: str) -> dict[str, int]:
    counts = {}
    for spec in rt.config.sources:
        done = rt.store.stage_done(request_id, f"extract:{spec.name}") or {}
        counts[spec.name] = int(done.get("records", 0))
    return counts
