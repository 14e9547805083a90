"""kill -9 at every fault point (flows.faults), then `dsar run` again: one delivery, nothing sent twice.

Every run is a real `dsar run` process with its own temporary Prefect server,
killed by SIGKILL where `DSAR_FAULT` says; the next `dsar run` must take the
request over at once (no waiting for a lease, no database edit) and deliver.
Lanes (each a demo company with its own store, ledger and Prefect home) run
side by side to keep the ~7 s Prefect start-up per process affordable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from exports.storage import LocalStorage
from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.notify import Outbox
from flows.runtime import Runtime, open_runtime
from tests.exports.age_cli import age_decrypt
from tests.support import need_command

pytestmark = pytest.mark.e2e

DSAR = str(Path(sys.executable).with_name("dsar"))
STAGES = ("identity", "extract:customers", "extract:support_mail", "extract:marketing", "redact", "package",
          "store", "deliver")

# Every stage boundary (worked but not recorded, recorded; a stage's `start` differs from the previous stage's
# `recorded` only by the status it sets, so the first stage's stands for them), and every side effect against
# its record. `send_code:mailed` is in `dsar request new`, not in `dsar run`.
POINTS = (
    "send_code:mailed",
    "identity:start", "identity:recorded",
    "extract:customers:worked", "extract:marketing:recorded",
    "redact:worked", "redact:recorded",
    "package:worked", "package:recorded",
    "store:put", "store:sealed", "store:worked", "store:recorded",
    "deliver:link_recorded", "deliver:link_mailed", "deliver:worked", "deliver:recorded",
)  # `delivered` commits with deliver_done's record, so deliver:recorded is also "after delivered"
LANES = 2  # two cores: Prefect's start-up in each `dsar run` keeps one busy


@dataclass
class Lane:
    """One demo company: its config, its own Prefect home, the customers not yet used for a request."""

    config: Path
    env: dict[str, str]
    customers: Iterator[str]
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    @property
    def rt(self) -> Runtime:
        return open_runtime(self.config)


@dataclass
class Outcome:
    request_id: str
    killed: int  # the return code of the run with the fault
    resumed: subprocess.CompletedProcess


def _lane(root: Path, stack: ExitStack) -> Lane:
    company, secrets = prepare_demo(root / "demo")
    data = json.loads(company.mailchimp_data.read_text(encoding="utf-8"))
    mailchimp = stack.enter_context(serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]))
    config = write_demo_config(company, mailchimp.base_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_", "DSAR_FAULT", "PYTEST"))}
    env |= {"PREFECT_HOME": str(root / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1", "DSAR_CONFIG": str(config),
            # A fresh Prefect home migrates its database first: on a loaded machine that outlasts the default 20 s.
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    with sqlite3.connect(company.workdir / "customers.db") as db:
        emails = [email for (email,) in db.execute("SELECT email FROM customers WHERE id > 1 ORDER BY id")]
    return Lane(config, env, iter(emails))


def dsar(lane: Lane, *args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    """Run `dsar` as a user would; with `fault`, the process dies there.

    In a session of its own, so that what it leaves running (its temporary Prefect server, which is signalled
    when its parent dies but may still be shutting down) ends with it. Output goes through files: that server
    holds copies of the descriptors, and a pipe would not close until it ended.
    """
    env = lane.env | ({"DSAR_FAULT": fault} if fault else {})
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([DSAR, *args, "--config", str(lane.config)], env=env, text=True,
                                 stdout=out, stderr=err, start_new_session=True)
        try:
            child.wait(timeout=300)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # the group of the process this test started
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(child.args, child.returncode, out.read(), err.read())


def crash_and_resume(lane: Lane, point: str) -> Outcome:
    rt = lane.rt
    email = next(lane.customers)
    if point.startswith("send_code:"):
        killed = dsar(lane, "request", "new", "--email", email, "--language", "en", fault=point)
        [request] = [r for r in rt.store.list() if r.email == email]
        code = re.search(r"\b(\d{8})\b", _read(rt, _mails(rt, request.id, "code")[0].stem))
        assert code is not None
        stages.submit_code(rt, request.id, code.group(1))  # the code mailed before the kill works
        request_id = request.id
    else:
        request_id = stages.register(rt, email, "en").id
        verify_by_outbox(rt, request_id)
        killed = dsar(lane, "run", request_id, fault=point)
    resumed = dsar(lane, "run", request_id)
    return Outcome(request_id, killed.returncode, resumed)


def _read(rt: Runtime, key: str) -> str:
    assert isinstance(rt.mailer, Outbox)
    return rt.mailer.read(key)


def _mails(rt: Runtime, request_id: str, kind: str) -> list[Path]:
    return sorted(rt.config.base_dir.joinpath("outbox").glob(f"{request_id}-{kind}*.eml"))


@pytest.fixture(scope="module")
def lanes(tmp_path_factory) -> Iterator[list[Lane]]:
    need_command("age")
    with ExitStack() as stack:
        lanes = [_lane(tmp_path_factory.mktemp(f"crash-lane{n}"), stack) for n in range(LANES)]

        def run(lane: Lane, points: tuple[str, ...]) -> None:
            for point in points:
                lane.outcomes[point] = crash_and_resume(lane, point)

        with ThreadPoolExecutor(len(lanes)) as pool:
            done = [pool.submit(run, lane, POINTS[n::len(lanes)]) for n, lane in enumerate(lanes)]
            for future in done:
                future.result()
        yield lanes


def test_a_run_killed_at_any_point_resumes_to_one_delivery(lanes):
    problems: dict[str, list[str]] = {}
    for lane in lanes:
        rt = lane.rt
        for point, outcome in lane.outcomes.items():
            wrong = problems.setdefault(point, [])
            request_id = outcome.request_id
            if outcome.killed != -signal.SIGKILL:
                wrong.append(f"the faulty run ended {outcome.killed}, not killed at the point")
            if outcome.resumed.returncode != 0 or outcome.resumed.stdout != f"{request_id}: delivered\n":
                wrong.append(f"the resume ended {outcome.resumed.returncode}: {outcome.resumed.stderr[-400:]}")
                continue
            counts = {kind: len(_mails(rt, request_id, kind)) for kind in ("code", "passphrase", "link")}
            if counts != {"code": 1, "passphrase": 1, "link": 1}:
                wrong.append(f"mails sent: {counts}")
            if rt.store.run_claim(request_id) is not None:
                wrong.append("the resumed run kept its claim")
            if not point.startswith("send_code:"):
                takeovers = [e.detail for e in rt.ledger.events(request_id) if e.action == "run_takeover"]
                if [t["reason"] for t in takeovers] != ["process_gone"]:
                    wrong.append(f"takeovers: {takeovers}")
                states = _prefect_states(lane, request_id)
                if states != ["COMPLETED", "CRASHED"]:
                    wrong.append(f"Prefect runs of the request: {states}")
            events = [e for e in rt.ledger.events(request_id) if e.action == "package_done"]
            passphrase = _read(rt, f"{request_id}-passphrase").strip().splitlines()[-1].strip()
            sealed = rt.store.stage_done(request_id, "store")
            assert isinstance(rt.storage, LocalStorage) and sealed is not None
            plain = age_decrypt(rt.storage.path(sealed["object_key"]), passphrase)
            if not events or hashlib.sha256(plain).hexdigest() != events[-1].detail["zip_sha256"]:
                wrong.append("the delivered package is not the one on the ledger")
        audit = dsar(lane, "audit", "verify")
        assert audit.returncode == 0 and audit.stdout.startswith("ledger intact: "), audit.stderr
    assert {point: wrong for point, wrong in problems.items() if wrong} == {}
    assert sorted(problems) == sorted(POINTS), "a point was not tried"


def test_each_stage_is_done_once_on_the_ledger(lanes):
    """What issue 8 item 4 (a stage's record and its ledger event as one step) must keep true at every point."""
    problems = {}
    for lane in lanes:
        rt = lane.rt
        for point, outcome in lane.outcomes.items():
            actions = [e.action for e in rt.ledger.events(outcome.request_id)]
            counts = {stage: actions.count(f"{stage}_done") for stage in STAGES}
            if counts != dict.fromkeys(STAGES, 1):
                problems[point] = counts
    assert problems == {}


def _prefect_states(lane: Lane, request_id: str) -> list[str]:
    """The state of every Prefect flow run of the request, in the lane's own Prefect database."""
    db = Path(lane.env["PREFECT_HOME"]) / "prefect.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as prefect:
        rows = prefect.execute("SELECT state_type FROM flow_run WHERE name = ?", (request_id,)).fetchall()
    return sorted(state for (state,) in rows)


def test_show_names_the_killed_holder_and_unlock_releases_it(lanes):
    lane = lanes[0]
    rt = lane.rt
    request_id = stages.register(rt, next(lane.customers), "en").id
    verify_by_outbox(rt, request_id)
    killed = dsar(lane, "run", request_id, fault="redact:start")
    assert killed.returncode == -signal.SIGKILL
    claim = rt.store.run_claim(request_id)
    assert claim is not None
    show = dsar(lane, "request", "show", request_id)
    assert f"  run         flow run {claim.run_id} on {claim.host}:{claim.pid}, until " in show.stdout
    listed = dsar(lane, "requests", "list")
    assert f"run flow run {claim.run_id} on {claim.host}:{claim.pid}" in listed.stdout
    assert _prefect_states(lane, request_id) == ["RUNNING"], "a killed run stays RUNNING in Prefect"

    refused = dsar(lane, "request", "unlock", request_id, "--by", "mallory")
    assert (refused.returncode, refused.stderr) == (
        2, "dsar: error: unknown staff id: use one listed in [identity] staff_ids of the config\n")
    unlocked = dsar(lane, "request", "unlock", request_id, "--by", "anna.k")
    assert unlocked.stdout == (f"{request_id}: released the claim of flow run {claim.run_id} "
                               f"({claim.host}:{claim.pid}).\n")
    assert [e.detail for e in rt.ledger.events(request_id) if e.action == "run_unlocked"] == [
        {"by": "anna.k", "run": claim.run_id}]
    assert "  run         -" in dsar(lane, "request", "show", request_id).stdout
    resumed = dsar(lane, "run", request_id)
    assert resumed.stdout == f"{request_id}: delivered\n", resumed.stderr
