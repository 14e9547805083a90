"""One flow run per request: a claim with a short renewed lease, taken over at once from a run that is gone.

A run claims its request with its Prefect flow-run id, its host, pid and the
process's start time, for `LEASE`; a daemon thread renews it every
`RENEW_EVERY` until the run ends. A run killed anywhere stops renewing, so its
claim lapses within a minute whatever host it was on. A new run does not wait
even that long when it can tell the holder is gone: on the same host its
process is dead (or the pid now belongs to a process started later), or its
Prefect run already ended. Each takeover is a ledger event, and the stale
Prefect run is set to Crashed so that the UI stops showing it running.

Prefect stays in flows.fulfil: it hands in a `RunStates` that reads and sets
flow-run states.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Protocol

from sqlalchemy.exc import SQLAlchemyError

from flows.errors import ClaimLost, InvalidRequest, RequestBusy
from flows.runtime import Runtime
from flows.store import RunClaim
from identity.evidence import known_staff

LEASE = timedelta(seconds=60)
RENEW_EVERY = 10.0  # seconds: five renewals may fail (a database hiccup) before the lease lapses

# Prefect state types of a run that will never run again.
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


class RunStates(Protocol):
    """What the orchestrator knows of flow runs (Prefect's API, in flows.fulfil)."""

    def state(self, run_id: str) -> str | None:
        """The run's state type (`RUNNING`, `CRASHED`, ...); None when the orchestrator does not know it."""

    def mark_crashed(self, run_id: str, message: str) -> None:
        """Set the run's state to Crashed, whatever it claims to be."""


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks after boot), or None if no live process has that pid.

    A zombie counts as dead: it has exited and only waits for its parent to read its status.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name in (...) may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]


def where() -> str:
    """This process's host as claims name it: the hostname and the pid namespace, since containers that share
    a hostname (host networking, one pod) each see only their own processes' pids."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:")
    except OSError:
        namespace = "?"
    return f"{socket.gethostname()}|{namespace}"[:200]


def this_process(request_id: str, run_id: str, until: datetime) -> RunClaim:
    """A claim for `run_id` held by this very process."""
    pid = os.getpid()
    return RunClaim(request_id, run_id, where(), pid, process_start(pid) or "?", until)


def why_gone(claim: RunClaim, now: datetime, states: RunStates | None) -> str | None:
    """Why the holder of `claim` can no longer be working on its request; None while it may be."""
    if not claim.is_live(now):
        return "lease_lapsed"
    if claim.host == where() and process_start(claim.pid) != claim.started:
        return "process_gone"
    state = states.state(claim.run_id) if states is not None else None
    if state in FINAL_STATES:
        return f"run_{state.lower()}"
    return None


class RunLease:
    """This run's claim on a request, renewed by a daemon thread until `release`."""

    def __init__(self, rt: Runtime, claim: RunClaim) -> None:
        self._rt, self._claim = rt, claim
        self._until = claim.until
        self._lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"claim-{claim.request_id}", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        claim, store = self._claim, self._rt.store
        while not self._stop.wait(RENEW_EVERY):
            until = self._rt.clock() + LEASE
            try:
                if not store.renew_run(claim.request_id, claim.run_id, until):
                    self._lost = True
                    return
            except SQLAlchemyError:
                continue  # the lease still runs; `check` stops the run if it runs out
            self._until = until

    def check(self) -> None:
        """ClaimLost once another run took the request over, it was unlocked, or the lease ran out unrenewed.

        Asks the store, not only what the renewing thread last saw: after an unlock and a new run's takeover,
        this run must stop at its next stage, not up to a renewal later.
        """
        held = self._rt.store.run_claim(self._claim.request_id)
        if self._lost or held is None or held.run_id != self._claim.run_id or not self._rt.clock() < self._until:
            self._lost = True
            raise ClaimLost(self._claim.request_id)

    def release(self) -> None:
        """Stop renewing and drop the claim (if this run still holds it)."""
        self._stop.set()
        self._thread.join()
        self._rt.store.release_run(self._claim.request_id, self._claim.run_id)

    def __enter__(self) -> RunLease:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def hold(rt: Runtime, request_id: str, run_id: str, states: RunStates | None = None) -> RunLease:
    """Claim the request for flow run `run_id`, taking it over from a holder that is gone; RequestBusy otherwise."""
    now = rt.clock()
    mine = this_process(request_id, run_id, now + LEASE)
    held = rt.store.run_claim(request_id)
    if held is None or held.run_id == run_id:
        if not rt.store.claim_run(mine, now):
            _busy(rt, request_id)  # another run claimed it a moment ago
        return RunLease(rt, mine)
    reason = why_gone(held, now, states)
    if reason is None:
        raise RequestBusy(request_id, held.run_id, f"{held.host}:{held.pid}", held.until)
    if not rt.store.claim_run(mine, now, replacing=held.run_id):
        _busy(rt, request_id)  # another run took it over first
    rt.ledger.append_event(request_id, "dsar", "run_takeover", {"from_run": held.run_id, "reason": reason})
    if states is not None and not reason.startswith("run_"):
        states.mark_crashed(held.run_id, f"taken over by flow run {run_id} ({reason})")
    return RunLease(rt, mine)


def _busy(rt: Runtime, request_id: str) -> NoReturn:
    held = rt.store.run_claim(request_id)
    if held is None:  # released in between: let the caller try again
        raise InvalidRequest(f"{request_id}: its claim changed meanwhile; try again")
    raise RequestBusy(request_id, held.run_id, f"{held.host}:{held.pid}", held.until)


def unlock(rt: Runtime, request_id: str, staff_id: str) -> RunClaim | None:
    """Release the request's claim at a member of staff's word, recorded in the ledger; the claim released.

    For a holder this host cannot see is gone (another machine that stopped
    without its lease lapsing yet, or an orchestrator that lost the run).
    The staff id must be one of `[identity] staff_ids` when the list is set.
    If the holder still lives, it stops at its next stage (ClaimLost).
    """
    known_staff(staff_id, rt.config.identity.staff_ids)
    rt.store.get(request_id)  # RequestNotFound names a mistyped id
    held = rt.store.run_claim(request_id)
    if held is None or not rt.store.release_run(request_id, held.run_id):
        return None
    rt.ledger.append_event(request_id, "privacy_team", "run_unlocked", {"by": staff_id, "run": held.run_id})
    return held
