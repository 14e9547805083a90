"""Run claims on a real store: who may take a request over, when, and what the ledger and Prefect are told."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from flows import claims
from flows.claims import LEASE, hold, process_start, unlock, where
from flows.demo.run import prepare_demo, write_demo_config
from flows.errors import ClaimLost, RequestBusy
from flows.store import RunClaim
from identity.errors import UnknownStaff
from tests.flows.delivered import clocked_runtime, store


@pytest.fixture
def rt(tmp_path):
    company, _ = prepare_demo(tmp_path / "demo")
    return clocked_runtime(write_demo_config(company, "http://127.0.0.1:9/3.0"))


class States:
    """Flow-run states as an orchestrator would answer them, and the runs it was told to mark Crashed."""

    def __init__(self, states: dict[str, str]) -> None:
        self.states: dict[str, str] = states
        self.crashed: list[tuple[str, str]] = []

    def state(self, run_id):
        return self.states.get(run_id)

    def mark_crashed(self, run_id, message):
        self.crashed.append((run_id, message))


def dead_pid() -> tuple[int, str]:
    """The pid and start time of a process that ran on this host and has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_start(child.pid)
    child.kill()
    child.wait()
    assert started is not None and process_start(child.pid) is None
    return child.pid, started


def claim_by(rt, request_id, run_id, host, pid, started, lease=LEASE) -> None:
    assert rt.store.claim_run(RunClaim(request_id, run_id, host, pid, started, rt.clock() + lease), rt.clock())


def until(rt, request_id):
    claim = rt.store.run_claim(request_id)
    return None if claim is None else claim.until


def takeovers(rt, request_id):
    return [e.detail for e in rt.ledger.events(request_id) if e.action == "run_takeover"]


def test_a_dead_process_on_this_host_is_taken_over_at_once_and_its_run_marked_crashed(rt):
    request_id, _ = store(rt)
    pid, started = dead_pid()
    claim_by(rt, request_id, "run-dead", where(), pid, started)
    states = States({"run-dead": "RUNNING"})
    with hold(rt, request_id, "run-new", states):
        held = rt.store.run_claim(request_id)
        assert (held.run_id, held.host, held.pid) == ("run-new", where(), os.getpid())
        assert held.started == process_start(os.getpid())
    assert takeovers(rt, request_id) == [{"from_run": "run-dead", "reason": "process_gone"}]
    assert states.crashed == [("run-dead", "taken over by flow run run-new (process_gone)")]
    assert rt.store.run_claim(request_id) is None, "the lease is released at the end"


def test_a_reused_pid_is_not_the_holder(rt):
    request_id, _ = store(rt)
    # This very process, but started at another time: the holder's pid was reused.
    claim_by(rt, request_id, "run-old", where(), os.getpid(), "1")
    with hold(rt, request_id, "run-new", States({})):
        pass
    assert takeovers(rt, request_id) == [{"from_run": "run-old", "reason": "process_gone"}]


@pytest.mark.parametrize("state", ["CRASHED", "FAILED", "CANCELLED", "COMPLETED"])
def test_a_holder_whose_prefect_run_ended_is_taken_over_on_any_host(rt, state):
    request_id, _ = store(rt)
    claim_by(rt, request_id, "run-ended", "elsewhere", 1, "1")
    states = States({"run-ended": state})
    with hold(rt, request_id, "run-new", states):
        pass
    assert takeovers(rt, request_id) == [{"from_run": "run-ended", "reason": f"run_{state.lower()}"}]
    assert states.crashed == [], "a run Prefect already ended keeps its state"


def test_a_live_holder_keeps_the_request_until_its_lease_lapses(rt):
    request_id, _ = store(rt)
    claim_by(rt, request_id, "run-live", "elsewhere", 1, "1")  # another host, Prefect says RUNNING
    states = States({"run-live": "RUNNING"})
    with pytest.raises(RequestBusy) as busy:
        hold(rt, request_id, "run-new", states)
    until = rt.clock() + LEASE
    assert str(busy.value) == (
        f"{request_id} is being run by flow run run-live on elsewhere:1, claimed until "
        f"{until:%Y-%m-%d %H:%M:%S} UTC and renewed while it lives; if that run is gone, "
        f"`dsar request unlock {request_id} --by STAFF_ID` releases it")
    # Also this process's own pid: alive, same start time.
    mine = RunClaim(request_id, "run-here", where(), os.getpid(), process_start(os.getpid()) or "", until)
    assert claims.why_gone(mine, rt.clock(), states) is None

    rt.clock.now += LEASE + timedelta(seconds=1)  # killed on its host: nothing renewed it for a minute
    with hold(rt, request_id, "run-new", states):
        pass
    assert takeovers(rt, request_id) == [{"from_run": "run-live", "reason": "lease_lapsed"}]
    assert [run for run, _ in states.crashed] == ["run-live"]


def test_the_lease_is_renewed_while_the_run_lives_and_a_lost_claim_stops_it(rt, monkeypatch):
    monkeypatch.setattr(claims, "RENEW_EVERY", 0.05)
    request_id, _ = store(rt)
    lease = hold(rt, request_id, "run-a")
    first = until(rt, request_id)
    rt.clock.now += timedelta(seconds=30)
    # Renewed by the thread: wait for it by polling the store (no timed assert: the loop waits as long as needed).
    while until(rt, request_id) == first:
        lease._stop.wait(0.05)
    lease.check()
    assert getattr(unlock(rt, request_id, "anna.k"), "run_id", None) == "run-a"
    while not lease._lost:
        lease._stop.wait(0.05)
    with pytest.raises(ClaimLost):
        lease.check()
    lease.release()
    assert rt.store.run_claim(request_id) is None, "a lost claim is not put back"


def test_unlock_needs_a_listed_staff_id_and_is_on_the_ledger(rt):
    request_id, _ = store(rt)
    claim_by(rt, request_id, "run-far", "elsewhere", 7, "1")
    for who in ("mallory", "Anna Example"):
        with pytest.raises(UnknownStaff):
            unlock(rt, request_id, who)
    assert rt.store.run_claim(request_id) is not None
    assert getattr(unlock(rt, request_id, "ville.n"), "run_id", None) == "run-far"
    assert unlock(rt, request_id, "ville.n") is None, "nothing left to release, nothing recorded"
    assert [e.detail for e in rt.ledger.events(request_id) if e.action == "run_unlocked"] == [
        {"by": "ville.n", "run": "run-far"}]
    with hold(rt, request_id, "run-new"):
        pass
    assert takeovers(rt, request_id) == [], "after an unlock a run simply claims"


def test_a_run_unlocked_and_taken_over_stops_at_its_next_check_not_a_renewal_later(rt):
    request_id, _ = store(rt)
    old = hold(rt, request_id, "run-old")  # renews every 10 s: the check must not wait for that
    try:
        unlock(rt, request_id, "anna.k")
        new = hold(rt, request_id, "run-new")
        with pytest.raises(ClaimLost):
            old.check()
        new.check()
        new.release()
    finally:
        old.release()


def test_a_holder_in_another_pid_namespace_of_the_same_hostname_is_not_judged_by_our_pids(rt):
    """Containers sharing a hostname (host networking, one pod) each see only their own pids."""
    request_id, _ = store(rt)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    hostname = where().split("|")[0]
    claim_by(rt, request_id, "run-elsewhere", f"{hostname}|4026531999", int(dead.stdout), "12345")
    with pytest.raises(RequestBusy):
        hold(rt, request_id, "run-here")
