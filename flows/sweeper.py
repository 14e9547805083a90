"""Deleting what nobody can use any more: stored packages with no live link, staging no run will read.

A package is deleted once its request is closed, or once it was delivered
and every link to it is expired, used up or revoked. Staging (plaintext
personal data under `work/<REQ>/`) is deleted once its request is closed or
delivered, or once an open request has sat unclaimed by any run for
`STAGING_GRACE`. Every deletion is a ledger event with ids, reasons and
counts only.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.lapse import lapse_unverified
from flows.runtime import Runtime
from flows.store import Request

# A failed request is usually resumed within days of fixing its source, and the
# resume reuses what was staged. After a week, the plaintext is a liability
# rather than a saving: a later resume notices the missing staging and
# extracts anew, so deleting it costs time, never correctness.
STAGING_GRACE = timedelta(days=7)

_ENDED = frozenset({"closed", "duplicate"})


@dataclass(frozen=True)
class SweepCounts:
    packages_deleted: int
    staging_deleted: int
    requests_lapsed: int = 0


def expire_packages(rt: Runtime, staging_grace: timedelta = STAGING_GRACE) -> SweepCounts:
    """Close lapsed unverified requests, delete every stored package and staging folder no longer needed;
    how many of each."""
    lapsed = lapse_unverified(rt)
    now = rt.clock()
    packages = staging = 0
    for request in rt.store.list():
        why = _package_unneeded(rt, request, now)
        if why is not None:
            packages += delete_package(rt, request.id, why)
        why = _staging_unneeded(request, now, staging_grace)
        if why is not None:
            staging += delete_staging(rt, request.id, why)
    return SweepCounts(packages_deleted=packages, staging_deleted=staging, requests_lapsed=lapsed)


def delete_package(rt: Runtime, request_id: str, why: str) -> bool:
    """Delete the request's sealed package from storage, if it is there; True if it was."""
    sealed = rt.store.stage_done(request_id, "store:sealed")
    if sealed is None or not rt.storage.exists(sealed["object_key"]):
        return False
    rt.storage.delete(sealed["object_key"])
    rt.ledger.append_event(request_id, "dsar", "package_deleted", {"why": why, "sha256": sealed["sha256"]})
    return True


def delete_staging(rt: Runtime, request_id: str, why: str) -> bool:
    """Delete the request's staging folder, if there is one; True if there was."""
    folder = rt.work_dir(request_id)
    if not folder.exists():
        return False
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    shutil.rmtree(folder)
    rt.ledger.append_event(request_id, "dsar", "staging_deleted", {"why": why, "files": files})
    return True


def _package_unneeded(rt: Runtime, request: Request, now: datetime) -> str | None:
    if request.status in _ENDED:
        return "closed"
    if request.status != "delivered":
        return None  # not delivered yet: a resumed run delivers this very file
    links = rt.store.links_of(request.id)
    if links:
        return None if any(link.is_live(now) for link in links) else "links_dead"
    # Delivered before links were recorded: the one link is the one the deliver stage noted.
    delivered = rt.store.stage_done(request.id, "deliver")
    if delivered is None or now < datetime.fromisoformat(delivered["link_expires"]):
        return None
    return "links_dead"


def _staging_unneeded(request: Request, now: datetime, grace: timedelta) -> str | None:
    if request.status in _ENDED or request.status == "delivered":
        return request.status
    claimed = request.run_until is not None and request.run_until > now
    if not claimed and request.updated_at < now - grace:
        return "idle"
    return None
