"""Store and ledger agree after any failure, and `dsar audit verify` says where they do not."""

import io
import json
import os
import shutil
import socket
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from audit.anchor import sign_head
from audit.event import parse_at
from exports.verify import verify_package
from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.ledger_check import cross_check
from flows.runtime import open_runtime
from flows.secrets import ledger_key
from tests.audit.tampering import rechain_without
from tests.flows.test_cli import dsar

STAGES = ("identity", "extract:customers", "extract:support_mail", "extract:marketing", "redact", "package", "store",
          "deliver")


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("agree") / "demo")


@pytest.fixture(scope="module")
def mailchimp(company):
    demo, secrets = company
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as server:
        yield server


@pytest.fixture
def rt(company, mailchimp):
    demo, _ = company
    return open_runtime(write_demo_config(demo, mailchimp.base_url))


def new_request(rt, company) -> str:
    demo, _ = company
    request = stages.register(rt, demo.subject_email, "fi", name=demo.subject_name)
    verify_by_outbox(rt, request.id)
    return request.id


@pytest.fixture
def request_id(rt, company):
    request_id = new_request(rt, company)
    yield request_id
    if rt.store.get(request_id).is_open:
        stages.close(rt, request_id, "withdrawn")


def run_all(rt, request_id, until: str = "deliver") -> None:
    stages.verify_identity(rt, request_id)
    for source in rt.config.sources:
        stages.extract(rt, request_id, source.name)
    for name, stage in (("redact", stages.redact), ("package", stages.package),
                        ("store", stages.encrypt_and_store), ("deliver", stages.deliver)):
        stage(rt, request_id)
        if name == until:
            return


def done_counts(rt, request_id) -> dict[str, int]:
    actions = [e.action for e in rt.ledger.events(request_id)]
    return {stage: actions.count(f"{stage}_done") for stage in STAGES}


def refuse_event(rt, action: str) -> None:
    """The database refuses one kind of event, as a crash or a full disk would at that moment."""
    refuse(rt, "audit_events", f"NEW.action = '{action}'")


def refuse(rt, table: str, when: str) -> None:
    with rt.engine.begin() as conn:
        conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} WHEN {when} "
                          "BEGIN SELECT RAISE(ABORT, 'refused'); END"))


def allow_events(rt) -> None:
    with rt.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse"))


def test_a_failed_event_leaves_no_stage_record_and_the_resume_records_one(rt, request_id):
    run_all(rt, request_id, until="redact")
    refuse_event(rt, "package_done")
    try:
        with pytest.raises(Exception, match="refused"):
            stages.package(rt, request_id)
    finally:
        allow_events(rt)
    assert rt.store.stage_done(request_id, "package") is None, "the stage is on record without its event"
    assert "package_done" not in [e.action for e in rt.ledger.events(request_id)]

    run_all(rt, request_id)  # the resume
    assert done_counts(rt, request_id) == dict.fromkeys(STAGES, 1)
    assert problems(rt, request_id) == []


def test_a_failed_stage_record_leaves_no_event(rt, request_id):
    run_all(rt, request_id, until="redact")
    refuse(rt, "request_stages", "NEW.stage = 'package'")
    try:
        with pytest.raises(Exception, match="refused"):
            stages.package(rt, request_id)
    finally:
        allow_events(rt)
    assert "package_done" not in [e.action for e in rt.ledger.events(request_id)], "an event without its record"
    run_all(rt, request_id)
    assert done_counts(rt, request_id) == dict.fromkeys(STAGES, 1)
    assert problems(rt, request_id) == []


def test_delivered_commits_with_its_event_and_the_resume_sends_one_link(rt, request_id):
    run_all(rt, request_id, until="store")
    refuse_event(rt, "deliver_done")
    try:
        with pytest.raises(Exception, match="refused"):
            stages.deliver(rt, request_id)
    finally:
        allow_events(rt)
    assert rt.store.get(request_id).status == "running", "delivered without deliver_done"

    stages.deliver(rt, request_id)
    assert rt.store.get(request_id).status == "delivered"
    assert done_counts(rt, request_id)["deliver"] == 1
    outbox = rt.config.base_dir / "outbox"
    assert len(list(outbox.glob(f"{request_id}-link*"))) == 1
    assert len(list(outbox.glob(f"{request_id}-passphrase*"))) == 1
    assert problems(rt, request_id) == []


def test_stage_events_say_when_how_long_where_and_in_which_run(rt, request_id, monkeypatch):
    rt.flow_run_id = lambda: "0b9c2a5e-3d1f-4f7a-9c1e-7e2d4b6a8f10"
    started = datetime.now(UTC).replace(microsecond=0)
    run_all(rt, request_id)
    events = [e for e in rt.ledger.events(request_id) if e.action.endswith("_done")]
    assert len(events) == len(STAGES)
    for event in events:
        run = {key: event.detail[key] for key in ("started_at", "duration_ms", "flow_run", "worker")}
        assert started <= parse_at(run["started_at"]) <= event.at, event.action
        assert isinstance(run["duration_ms"], int) and run["duration_ms"] >= 0
        assert run["flow_run"] == "0b9c2a5e-3d1f-4f7a-9c1e-7e2d4b6a8f10"
        assert run["worker"] == f"{socket.gethostname()}:{os.getpid()}"
        assert "@" not in json.dumps(run)
    # Extraction takes time: the durations are measured, not zero.
    assert sum(e.detail["duration_ms"] for e in events) > 0

    monkeypatch.setenv("DSAR_WORKER_NAME", "worker 2@eu-north-1")
    named = open_runtime(rt.config.path)
    assert named.worker == "worker-2-eu-north-1", "a configured name reaches the ledger only as a safe token"


def test_a_rebuilt_package_is_byte_identical_and_verifies(rt, request_id):
    run_all(rt, request_id, until="package")
    zip_path = rt.work_dir(request_id) / f"{request_id}.zip"
    first = zip_path.read_bytes()
    # A crash after the package was built but before it was recorded; the run resumes hours later.
    rt.store.reset_stages(request_id, ["package"])
    zip_path.unlink()
    rt.clock = lambda: datetime.now(UTC) + timedelta(hours=7, seconds=13)
    stages.package(rt, request_id)
    assert zip_path.read_bytes() == first
    packaged = [e.detail for e in rt.ledger.events(request_id) if e.action == "package_done"]
    assert packaged[0]["zip_sha256"] == packaged[1]["zip_sha256"], "the ledger names two different packages"

    as_of = rt.store.stage_done(request_id, "redact")["as_of"]
    verified = verify_package(zip_path, rt.package_public_key)  # member times equal generated_at
    assert verified.request_id == request_id
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        index = json.loads(package.read(f"{request_id}/index.json"))
        times = {info.date_time for info in package.infolist()}
    assert parse_at(as_of) == datetime.fromisoformat(index["generated_at"])
    assert "as_of" not in index["redaction"]
    moment = parse_at(as_of)
    assert times == {(*moment.timetuple()[:5], moment.second - moment.second % 2)}  # zip times are even seconds


def database_copy(rt, tmp_path):
    """A copy of the store and ledger to damage, and its runtime."""
    source = sqlite3.connect(rt.engine.url.database)
    copy_dir = tmp_path / "copy"
    shutil.copytree(rt.config.base_dir, copy_dir, ignore=shutil.ignore_patterns("*.db*", "work", "outbox", "packages"))
    target = sqlite3.connect(copy_dir / "dsar.db")
    source.backup(target)
    source.close()
    return open_runtime(copy_dir / "dsar.toml"), target


@pytest.fixture
def delivered(rt, request_id, tmp_path):
    run_all(rt, request_id)
    copy, db = database_copy(rt, tmp_path)
    assert problems(copy, request_id) == []
    yield copy, db, request_id
    db.close()


def problems(rt, request_id) -> list[tuple[str, str]]:
    """The request's disagreements; other tests' requests in the same database have their own."""
    return [(m.request_id, m.stage) for m in cross_check(rt.engine, rt.ledger) if m.request_id == request_id]


def test_a_deleted_event_is_found(delivered):
    copy, db, request_id = delivered
    db.execute("DELETE FROM audit_events WHERE request_id = ? AND action = 'package_done'", (request_id,))
    db.commit()
    assert problems(copy, request_id) == [(request_id, "package")]


def test_a_deleted_stage_record_is_found(delivered):
    copy, db, request_id = delivered
    db.execute("DELETE FROM request_stages WHERE request_id = ? AND stage = 'redact'", (request_id,))
    db.commit()
    assert problems(copy, request_id) == [(request_id, "redact")]


def test_a_doubled_event_is_found(delivered):
    copy, _db, request_id = delivered
    package = next(e for e in copy.ledger.events(request_id) if e.action == "package_done")
    copy.ledger.append_event(request_id, "dsar", "package_done", package.detail)
    assert problems(copy, request_id) == [(request_id, "package")]


def test_an_altered_stage_record_is_found(delivered):
    copy, db, request_id = delivered
    db.execute("UPDATE request_stages SET detail = replace(detail, '\"files\": ', '\"files\": 1') "
               "WHERE request_id = ? AND stage = 'package'", (request_id,))
    db.commit()
    assert problems(copy, request_id) == [(request_id, "package")]


def test_a_delivery_without_its_event_fails_audit_verify_naming_request_and_stage(delivered, company):
    copy, db, request_id = delivered
    # deliver_done is the ledger's last event: without it the chain still verifies, as after a crash before it.
    last = db.execute("SELECT action, request_id FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    assert last == ("deliver_done", request_id)
    db.execute("DELETE FROM audit_events WHERE request_id = ? AND action = 'deliver_done'", (request_id,))
    db.commit()
    # Without the event the stage record, the delivered status and the link each lack theirs.
    assert problems(copy, request_id) == [(request_id, "deliver")] * 3
    verify = dsar("audit", "verify", "--config", str(copy.config.path))
    assert verify.returncode == 2
    assert f"{request_id} deliver: delivered in the store but the ledger has no deliver_done" in verify.stderr
    demo, _ = company
    assert demo.subject_email not in verify.stdout + verify.stderr


def test_lost_staging_allows_a_second_extraction(rt, request_id):
    run_all(rt, request_id, until="redact")
    (rt.work_dir(request_id) / "redacted" / "customers" / "customer.jsonl").unlink()
    with pytest.raises(Exception, match="staged data is missing or changed"):
        stages.package(rt, request_id)
    run_all(rt, request_id)
    assert done_counts(rt, request_id)["extract:customers"] == 2
    assert problems(rt, request_id) == []


def test_a_delivered_request_erased_and_re_signed_with_the_stolen_key_is_found(delivered):
    copy, _db, request_id = delivered
    stolen = ledger_key(copy.config)
    last = rechain_without(copy.engine, stolen, request_id)
    copy.checkpoint_path.write_text(json.dumps(sign_head(stolen, last).to_json()))  # the checkpoint forged too
    result = dsar("audit", "verify", "--config", str(copy.config.path))
    # The chain and the forged checkpoint pass; the store still knows the request was delivered.
    assert result.returncode == 2
    assert result.stdout.startswith("ledger intact: ")
    assert f"dsar: store and ledger disagree: {request_id} deliver: delivered in the store but the ledger has " \
           "no deliver_done\n" in result.stderr
