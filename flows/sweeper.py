"""Deleting what nobody can use any more: stored packages with no live link, staging no run will read.

A package is deleted once its request is closed, or once it was delivered
and every link to it is expired, used up or revoked. Staging (plaintext
personal data under `work/<REQ>/`) is deleted once its request is closed or
delivered, or once no live run holds the request and nothing in the staging
was written for `[delivery] abandoned_staging_hours` (a run killed, or a
failed request nobody resumed). Every deletion is a ledger event with ids,
reasons and counts only.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.lapse import lapse_unverified
from flows.runtime import Runtime
from flows.store import Request

_ENDED = frozenset({"closed", "duplicate"})


@dataclass(frozen=True)
class SweepCounts:
    packages_deleted: int
    staging_deleted: int
    requests_lapsed: int = 0


def expire_packages(rt: Runtime) -> SweepCounts:
    """Close lapsed unverified requests, delete every stored package and staging folder no longer needed;
    how many of each."""
    lapsed = lapse_unverified(rt)
    now = rt.clock()
    # Abandoned plaintext is a liability rather than a saving: a later resume notices the missing staging
    # and extracts anew, so deleting it costs time, never correctness.
    grace = timedelta(hours=rt.config.delivery.abandoned_staging_hours)
    claims = rt.store.run_claims()
    packages = staging = 0
    for request in rt.store.list():
        why = _package_unneeded(rt, request, now)
        if why is not None:
            packages += delete_package(rt, request.id, why)
        claim = claims.get(request.id)
        why = _staging_unneeded(rt, request, claim is not None and claim.is_live(now), now, grace)
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


def _staging_unneeded(rt: Runtime, request: Request, claimed: bool, now: datetime, grace: timedelta) -> str | None:
    if request.status in _ENDED or request.status == "delivered":
        return request.status
    if claimed:
        return None
    written = _last_written(rt.work_dir(request.id))
    if written is not None and written < now - grace:
        return "abandoned"
    return None


def _last_written(folder: Path) -> datetime | None:
    """When anything in `folder` was last written; None when there is no such folder."""
    if not folder.is_dir():
        return None
    newest = max(path.stat().st_mtime for path in itertools.chain([folder], folder.rglob("*")))
    return datetime.fromtimestamp(newest, UTC)
