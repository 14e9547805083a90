"""The expiry sweeper on a real store and storage: what it deletes, what it leaves, what the ledger says."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from audit.verify import verify_ledger
from flows import downloads, stages
from flows.demo.run import prepare_demo, write_demo_config
from flows.runtime import open_runtime
from flows.store import RunClaim, links_table
from flows.sweeper import SweepCounts, expire_packages
from tests.flows.delivered import clocked_runtime, deliver, store
from tests.flows.privacy import drain_prefect, find_in_database


@pytest.fixture
def config(tmp_path):
    company, _ = prepare_demo(tmp_path / "demo")  # a store of its own: the counts below are exact
    return write_demo_config(company, "http://127.0.0.1:9/3.0")


@pytest.fixture
def rt(config):
    return clocked_runtime(config)


def stage(rt, request_id: str, files: int = 1) -> None:
    """Leave staged files behind for a request, as a crashed or failed run would."""
    folder = rt.work_dir(request_id) / "extracted"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        (folder / f"source{n}.jsonl").write_text('{"email": "someone@example.fi"}\n')


def package_of(rt, request_id: str) -> bool:
    return rt.storage.exists(f"{request_id}/{request_id}.zip.age")


def deletions(rt) -> list[tuple[str, str, dict]]:
    return [(e.request_id, e.action, e.detail) for e in rt.ledger.events()
            if e.action in ("package_deleted", "staging_deleted")]


def test_the_sweeper_deletes_what_no_link_or_run_can_use_and_keeps_the_rest(rt):
    live, _ = deliver(rt)
    stage(rt, live)  # left behind by a delivery that crashed after mailing the link
    revoked, _ = deliver(rt)
    downloads.revoke(rt, revoked)
    used_up, _ = deliver(rt)
    [link] = rt.store.links_of(used_up)
    for _ in range(3):
        assert rt.store.take_download(link.jti, rt.clock()) is not None
    closed, _ = deliver(rt)
    rt.store.set_status(closed, "closed", rt.clock())  # closed without the sweep close() does
    failed, _ = store(rt)
    rt.store.set_status(failed, "failed", rt.clock(), reason="extract:marketing: unreachable")
    stage(rt, failed, files=2)
    running, _ = store(rt)
    rt.store.set_status(running, "running", rt.clock())
    # A run on another host holds it: the sweeper goes by the lease alone.
    assert rt.store.claim_run(RunClaim(running, "run-1", "elsewhere", 1, "1", rt.clock() + timedelta(days=30)),
                              rt.clock())
    crashed, _ = store(rt)
    rt.store.set_status(crashed, "running", rt.clock())
    assert rt.store.claim_run(RunClaim(crashed, "run-2", "elsewhere", 2, "1", rt.clock() + timedelta(seconds=60)),
                              rt.clock())
    stage(rt, crashed, files=3)
    stage(rt, running)

    assert expire_packages(rt) == SweepCounts(packages_deleted=3, staging_deleted=1)
    assert [package_of(rt, r) for r in (live, revoked, used_up, closed, failed, running)] == [
        True, False, False, False, True, True]
    assert [rt.work_dir(r).exists() for r in (live, failed, running, crashed)] == [False, True, True, True]
    assert sorted(deletions(rt)) == sorted([
        (revoked, "package_deleted", {"why": "links_dead", "sha256": link_sha(rt, revoked)}),
        (used_up, "package_deleted", {"why": "links_dead", "sha256": link_sha(rt, used_up)}),
        (closed, "package_deleted", {"why": "closed", "sha256": link_sha(rt, closed)}),
        (live, "staging_deleted", {"why": "delivered", "files": 1}),
    ])
    assert expire_packages(rt) == SweepCounts(0, 0), "a second sweep finds nothing and records nothing"
    assert len(deletions(rt)) == 4

    # Within [delivery] abandoned_staging_hours (24) nobody's staging goes, though the crashed run's lease lapsed.
    rt.clock.now += timedelta(hours=23)
    assert expire_packages(rt) == SweepCounts(0, 0)
    # A week and a day later: the live link has expired, and the failed and crashed requests' staging is abandoned.
    rt.clock.now += timedelta(days=8)
    assert expire_packages(rt) == SweepCounts(packages_deleted=1, staging_deleted=2)
    assert not package_of(rt, live) and not rt.work_dir(failed).exists() and not rt.work_dir(crashed).exists()
    assert package_of(rt, failed), "a failed request's package is what its resume delivers"
    assert rt.work_dir(running).exists(), "a run still holds this request"
    assert sorted(deletions(rt)[-3:]) == sorted([
        (live, "package_deleted", {"why": "links_dead", "sha256": link_sha(rt, live)}),
        (failed, "staging_deleted", {"why": "abandoned", "files": 2}),
        (crashed, "staging_deleted", {"why": "abandoned", "files": 3})])

    assert verify_ledger(rt.ledger.events(), rt.ledger_public_key) == len(list(rt.ledger.events()))
    ledger = json.dumps([e.detail for e in rt.ledger.events()])
    assert "@" not in ledger and "Aino" not in ledger


def link_sha(rt, request_id: str) -> str:
    return rt.store.stage_done(request_id, "store:sealed")["sha256"]


def test_a_package_delivered_before_links_were_recorded_expires_with_its_one_link(rt):
    request_id, _ = deliver(rt)
    with rt.store.engine.begin() as conn:
        conn.execute(delete(links_table).where(links_table.c.request_id == request_id))
    assert expire_packages(rt) == SweepCounts(0, 0)
    rt.clock.now += timedelta(hours=rt.config.delivery.link_hours, seconds=1)
    assert expire_packages(rt) == SweepCounts(1, 0)
    assert not package_of(rt, request_id)


def test_a_request_closed_before_delivery_leaves_no_sealed_file(rt):
    request_id, _ = store(rt)
    stage(rt, request_id, files=3)
    stages.close(rt, request_id, "withdrawn")
    assert not package_of(rt, request_id) and not rt.work_dir(request_id).exists()
    assert not (Path(rt.storage.root) / request_id).exists(), "an empty folder of the request is left in storage"
    assert [e.action for e in rt.ledger.events(request_id)][-3:] == ["closed", "package_deleted", "staging_deleted"]


@pytest.mark.e2e
def test_the_prefect_flow_sweeps_and_keeps_personal_data_out_of_prefect(prefect_api, config, monkeypatch):
    import sqlite3

    from flows.fulfil import expire_packages as expire_flow

    rt = open_runtime(config)
    request_id, _ = deliver(rt)
    downloads.revoke(rt, request_id)
    monkeypatch.setenv("DSAR_CONFIG", str(config))
    assert expire_flow() == {"packages_deleted": 1, "staging_deleted": 0}
    assert not package_of(rt, request_id)

    drain_prefect()
    with sqlite3.connect(f"file:{prefect_api}?mode=ro", uri=True) as prefect:
        runs = prefect.execute("SELECT parameters, state_type FROM flow_run WHERE flow_id IN "
                               "(SELECT id FROM flow WHERE name = 'expire_packages')").fetchall()
    assert [(json.loads(parameters), state) for parameters, state in runs] == [({}, "COMPLETED")]
    request = rt.store.get(request_id)
    assert find_in_database(Path(prefect_api), [request.email, request_id]) == [], "the flow's log names no request"
