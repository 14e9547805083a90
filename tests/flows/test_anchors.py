"""The ledger's head outside its database: the checkpoint file under concurrent appenders (threads and
processes, SQLite and PostgreSQL), and write-once copies in an S3 bucket with Object Lock on moto's server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from audit.anchor import Head, sign_head, verify_head
from audit.anchored import check_anchored
from audit.ledger import Ledger
from audit.signing import encode_key, generate_key, public_key
from audit.verify import verify_ledger
from flows.checkpoint import CheckpointAnchor, read_checkpoint
from flows.store import make_engine
from flows.worm import WormAnchor
from tests.audit.tampering import rechain_without
from tests.flows.ledger_writer import append

WRITERS, EACH = 4, 25


def head_in(path: Path) -> Head:
    head = read_checkpoint(path)
    assert head is not None
    return head


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres_db")


def one_chain_and_its_head(url: str, key: bytes, checkpoint: Path) -> None:
    engine = make_engine(url)
    events = list(Ledger(engine).events())
    engine.dispose()
    assert verify_ledger(events, public_key(key)) == WRITERS * EACH
    assert sorted(e.request_id for e in events) == sorted(f"REQ-{w}" for w in range(WRITERS) for _ in range(EACH))
    head = read_checkpoint(checkpoint)
    assert head is not None and (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    verify_head(head, public_key(key))


def test_four_threads_keep_one_chain_and_leave_the_checkpoint_at_the_last_seq(url, tmp_path):
    key, checkpoint = generate_key(), tmp_path / "ledger-head.json"
    Ledger(make_engine(url))  # the table, before four writers race to create it
    threads = [threading.Thread(target=append, args=(url, key, checkpoint, EACH, f"REQ-{w}"))
               for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    one_chain_and_its_head(url, key, checkpoint)


def test_four_processes_keep_one_chain_and_leave_the_checkpoint_at_the_last_seq(url, tmp_path):
    key, checkpoint = generate_key(), tmp_path / "ledger-head.json"
    Ledger(make_engine(url))  # the table, before four processes race to create it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [subprocess.Popen([sys.executable, "-m", "tests.flows.ledger_writer", url, encode_key(key),
                                 str(checkpoint), str(EACH), f"REQ-{w}"], env=env) for w in range(WRITERS)]
    assert [w.wait(timeout=300) for w in writers] == [0] * WRITERS
    one_chain_and_its_head(url, key, checkpoint)


def test_a_lower_or_forged_head_never_replaces_a_higher_one(tmp_path):
    key, path = generate_key(), tmp_path / "ledger-head.json"
    ledger = Ledger(make_engine(f"sqlite:///{tmp_path / 'l.db'}"), key)
    first, second = ledger.append_event("REQ-1", "dsar", "a", {}), ledger.append_event("REQ-1", "dsar", "b", {})
    anchor = CheckpointAnchor(path, public_key(key))
    anchor.record(second, sign_head(key, second))
    anchor.record(first, sign_head(key, first))  # a slower appender finishing last
    assert head_in(path).seq == 2
    # A head signed by another key at a seq far ahead would stop the checkpoint for good: it is replaced.
    forged = sign_head(generate_key(), second)
    path.write_text(json.dumps(Head(10**9, forged.hash, forged.at, forged.sig).to_json()))
    third = ledger.append_event("REQ-1", "dsar", "c", {})
    anchor.record(third, sign_head(key, third))
    assert head_in(path).seq == 3
    path.write_text("not json")
    with pytest.raises(ValueError, match=r"^checkpoint ledger-head.json: "):
        read_checkpoint(path)



def test_the_checkpoint_and_its_lock_are_not_followed_through_symlinks(tmp_path):
    """Whoever can write the data directory could point them anywhere the flows' account can write, or at a
    device that never ends (/dev/zero), which every append and every verify would read."""
    key, path = generate_key(), tmp_path / "data" / "ledger-head.json"
    path.parent.mkdir()
    ledger = Ledger(make_engine(f"sqlite:///{tmp_path / 'l.db'}"), key)
    event = ledger.append_event("REQ-1", "dsar", "a", {})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lock = path.with_name(".ledger-head.json.lock")
    lock.symlink_to(elsewhere / "victim")
    anchor = CheckpointAnchor(path, public_key(key))
    with pytest.raises(OSError):
        anchor.record(event, sign_head(key, event))
    assert not (elsewhere / "victim").exists() and not path.exists()

    lock.unlink()
    (elsewhere / "head.json").write_text(json.dumps(sign_head(key, event).to_json()))
    path.symlink_to(elsewhere / "head.json")
    with pytest.raises(ValueError, match=r"^checkpoint ledger-head.json: not a regular file \(a link\?\)$"):
        read_checkpoint(path)
    second = ledger.append_event("REQ-1", "dsar", "b", {})
    anchor.record(second, sign_head(key, second))  # the link is replaced, its target untouched
    assert not path.is_symlink() and head_in(path).seq == 2
    assert Head.from_json(json.loads((elsewhere / "head.json").read_text())).seq == 1

# WORM copies on moto's S3 server --------------------------------------------------------------------------


@pytest.fixture
def worm(s3_bucket) -> WormAnchor:
    name = f"{s3_bucket.name}-worm"
    s3_bucket.client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True,
                                   CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    return WormAnchor(f"s3://{name}/ledger", 30, endpoint_url=s3_bucket.endpoint_url, region="eu-north-1")


def test_each_event_is_copied_once_locked_in_compliance_mode(worm, s3_bucket, tmp_path):
    key = generate_key()
    ledger = Ledger(make_engine(f"sqlite:///{tmp_path / 'l.db'}"), key, [worm])
    events = [ledger.append_event(f"REQ-{n % 2}", "dsar", "stage_done", {"n": n}) for n in range(5)]
    assert [(c.seq, c.hash) for c in worm.copies()] == [(e.seq, e.hash) for e in events]
    head = worm.head()
    assert head is not None and (head.seq, head.hash) == (5, events[-1].hash)
    verify_head(head, public_key(key))
    assert worm.object_lock_enabled()

    s3 = s3_bucket.client
    copy_key = f"ledger/events/{1:012d}-{events[0].hash}.json"
    stored = s3.head_object(Bucket=worm.bucket, Key=copy_key)
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    assert stored["ObjectLockRetainUntilDate"] >= events[0].at + timedelta(days=29)
    version = stored["VersionId"]
    # Not even the bucket's owner deletes a locked version.
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=worm.bucket, Key=copy_key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # An overwrite or a delete marker adds a version; the copy stays, and a verify still lists it.
    s3.put_object(Bucket=worm.bucket, Key=copy_key, Body=b"{}")
    s3.delete_object(Bucket=worm.bucket, Key=copy_key)
    original = s3.get_object(Bucket=worm.bucket, Key=copy_key, VersionId=version)["Body"].read()
    assert original.startswith(b'{"action":"stage_done"')
    assert [c.seq for c in worm.copies()].count(1) == 2  # the original and the attacker's overwrite


def test_a_request_erased_and_re_signed_with_the_stolen_key_is_named_by_the_worm_copies(worm, tmp_path):
    key = generate_key()
    engine = make_engine(f"sqlite:///{tmp_path / 'l.db'}")
    checkpoint = tmp_path / "ledger-head.json"
    ledger = Ledger(engine, key, [worm, CheckpointAnchor(checkpoint, public_key(key))])
    for n in range(30):
        ledger.append_event(f"REQ-{n % 3}", "dsar", "stage_done", {"n": n})
    last = rechain_without(engine, key, "REQ-1")
    checkpoint.write_text(json.dumps(sign_head(key, last).to_json()))  # the forged checkpoint
    report = check_anchored(ledger.events(), public_key(key), [("checkpoint", head_in(checkpoint))],
                            worm.copies())
    assert report.count == 20
    assert [p.message.split(":")[0] for p in report.problems] == ["rewritten at seq 2-20", "truncated"]
    assert "WORM copies reach seq 30" in report.problems[1].message


def test_an_unreachable_bucket_leaves_the_event_committed(tmp_path, aws_env, caplog):
    from tests.support import free_port

    worm = WormAnchor("s3://nowhere/ledger", 1, endpoint_url=f"http://127.0.0.1:{free_port()}", region="eu-north-1")
    ledger = Ledger(make_engine(f"sqlite:///{tmp_path / 'l.db'}"), generate_key(), [worm])
    ledger.append_event("REQ-1", "dsar", "request_received", {})
    assert [e.seq for e in ledger.events()] == [1]
    assert caplog.messages == ["ledger anchor WormAnchor failed at seq 1 (StorageError)"]
