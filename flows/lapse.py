"""Requests nobody verified lapse: they stop being verifiable and are closed with reason `lapsed`.

Unverified requests never block their subject (only a verified one does, see
`RequestStore.create`), so lapsing is housekeeping and a bound on how long a
code can be re-sent in someone's name: the sweeper closes them all
(`dsar packages expire`), and a code sent or typed for a lapsed request closes
it on the spot, so the outcome never depends on when the sweeper last ran.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.errors import RequestClosed
from flows.runtime import Runtime
from flows.store import Request


def lapse_cutoff(rt: Runtime) -> datetime:
    """Requests received before this and still unverified have lapsed."""
    return rt.clock() - timedelta(days=rt.config.identity.unverified_lapse_days)


def lapse_unverified(rt: Runtime) -> int:
    """Close every lapsed unverified request, drop its code, record it; how many."""
    lapsed = rt.store.lapse_unverified(lapse_cutoff(rt), rt.clock())
    for request_id in lapsed:
        rt.store.delete_challenge(request_id)
        rt.ledger.append_event(request_id, "dsar", "closed",
                               {"reason": "lapsed", "days": rt.config.identity.unverified_lapse_days})
    return len(lapsed)


def refuse_if_lapsed(rt: Runtime, request: Request) -> None:
    """RequestClosed (and the request closed) if `request` is unverified and past its lapse time."""
    if request.evidence is None and request.received_at < lapse_cutoff(rt):
        lapse_unverified(rt)
        raise RequestClosed(request.id, "closed (lapsed: identity not verified in time)")
