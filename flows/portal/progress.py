"""Where a request stands, in the steps a requester understands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flows.lapse import lapse_cutoff
from flows.runtime import Runtime
from flows.store import Request

STEPS = ("received", "verifying", "in_progress", "ready", "delivered")

_STEP_OF_STATUS = {
    "received": "received", "awaiting_identity": "verifying",
    # A failed run waits for the privacy team to resume it: for the requester it is still in progress.
    "verified": "in_progress", "running": "in_progress", "awaiting_review": "in_progress", "failed": "in_progress",
    "delivered": "ready", "duplicate": "duplicate", "closed": "closed",
}


@dataclass(frozen=True)
class Progress:
    step: str  # one of STEPS, "closed", or "duplicate" (the subject's earlier request is the one answered)
    received_on: date
    due_on: date  # the Art. 12(3) deadline, extended or not, as a date where the controller is
    extended_reason: str | None  # set when the deadline was extended


def stronger_needed(request: Request) -> bool:
    """Verified, but below the policy's minimum level: the request waits for a stronger method (an OIDC login)."""
    return request.status == "awaiting_identity" and request.evidence is not None


def progress(rt: Runtime, request: Request) -> Progress:
    """The request's step; "ready" becomes "delivered" once the package has been downloaded."""
    step = _STEP_OF_STATUS.get(request.status, "in_progress")
    if step in ("received", "verifying") and request.evidence is None and request.received_at < lapse_cutoff(rt):
        step = "closed"  # lapsed: a code can no longer verify it, even before the sweeper closes it
    if step == "ready" and any(event.action == "download" for event in rt.ledger.events(request.id)):
        step = "delivered"
    # The reason lives in the store: the ledger holds only its sha256.
    extension = rt.store.extension(request.id) if request.extended_to is not None else None
    return Progress(step, local_date(rt, request.received_at), local_date(rt, request.deadline),
                    extension.reason if extension is not None else None)


def local_date(rt: Runtime, moment: datetime) -> date:
    """`moment`'s calendar date in the controller's time zone."""
    return rt.config.controller.calendar.local_date(moment)


def local_time(rt: Runtime, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(rt.config.controller.time_zone)).replace(tzinfo=None)
