"""`dsar audit verify` as an auditor runs it on the demo company: truncation named against the checkpoint, and
a warning, saying where it belongs, while the ledger key sits beside the ledger (the demo keeps it outside)."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.anchor import sign_head
from audit.signing import encode_key, generate_key, load_public_key
from audit.signing import fingerprint as key_fingerprint
from flows.config import load_config
from flows.demo.run import demo_company, demo_key_file, prepare_demo, verified_requests, write_demo_config
from flows.errors import ConfigError
from flows.runtime import open_runtime
from flows.secrets import ledger_key, ledger_key_beside
from tests.audit.tampering import rechain_without
from tests.flows.test_cli import dsar


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Path]:
    with demo_company(tmp_path_factory.mktemp("audit") / "demo") as (_, path):
        verified_requests(open_runtime(path), ["a@example.fi", "b@example.fi"])
        yield path


_copies = itertools.count(1)


def copy_of(demo: Path, tmp_path: Path) -> Path:
    """The demo's config dir with a copy of its database and checkpoint, to damage."""
    copy = tmp_path / f"copy-{next(_copies)}"
    copy.mkdir()
    for name in ("dsar.toml", "dsar.env", "ledger-head.json"):
        (copy / name).write_bytes((demo.parent / name).read_bytes())
        (copy / name).chmod(0o600)
    with sqlite3.connect(demo.parent / "dsar.db") as source, sqlite3.connect(copy / "dsar.db") as target:
        source.backup(target)
    return copy / "dsar.toml"


def test_an_intact_ledger_is_checked_against_its_checkpoint_without_warnings(demo):
    result = dsar("audit", "verify", "--config", str(demo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith(" events verified against the checkpoint ledger-head.json")
    assert result.stderr == ""  # the demo's key is outside its data directory: nothing to warn about
    check = dsar("check", "--config", str(demo))
    assert check.returncode == 0 and "beside" not in check.stdout


def test_the_demo_keeps_its_ledger_key_owner_only_outside_its_data_directory_and_moves_an_older_ones(demo, tmp_path):
    workdir = demo.parent
    key_file = demo_key_file(workdir)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert not key_file.is_relative_to(workdir) and "DSAR_LEDGER_KEY" not in (workdir / "dsar.env").read_text()
    assert load_config(demo).store.ledger_key_file == str(key_file)
    key = key_file.read_bytes()

    # A demo workdir made before: its ledger signed by the key it keeps in dsar.env, which is warned about.
    old = copy_of(demo, tmp_path)
    old.write_text(old.read_text().replace("ledger_key_file = ", "# ledger_key_file = "))
    with (old.parent / "dsar.env").open("ab") as held:
        held.write(b"DSAR_LEDGER_KEY=" + key)
    warned = dsar("audit", "verify", "--config", str(old))
    assert warned.returncode == 0, warned.stderr
    assert warned.stderr.startswith("dsar: warning: the ledger signing key comes from dsar.env, beside the ledger "
                                    "in its data directory: whoever can rewrite the ledger can re-sign it. Move "
                                    "it to a file of its own outside the data directory")
    assert "[store] ledger_key_file" in warned.stderr
    check = dsar("check", "--config", str(old))
    assert "warning secret DSAR_LEDGER_KEY: the ledger signing key comes from dsar.env" in check.stdout

    # The next demo run there moves that same key out (the ledger verifies with it), and a run after keeps it.
    company, secrets = prepare_demo(old.parent)
    moved = demo_key_file(old.parent)
    assert moved.read_bytes() == key and stat.S_IMODE(moved.stat().st_mode) == 0o600
    assert "DSAR_LEDGER_KEY" not in secrets and "DSAR_LEDGER_KEY" not in (old.parent / "dsar.env").read_text()
    write_demo_config(company, "http://127.0.0.1:9/3.0")
    verified = dsar("audit", "verify", "--config", str(old))
    assert (verified.returncode, verified.stderr) == (0, ""), verified.stderr
    inode = moved.stat().st_ino
    prepare_demo(old.parent)
    assert (moved.read_bytes(), moved.stat().st_ino) == (key, inode)

    # Never a second key for one ledger: a different one in dsar.env, or none at all, stops the demo.
    env = old.parent / "dsar.env"
    before = env.read_text()
    env.write_text(before + f"DSAR_LEDGER_KEY={encode_key(generate_key())}\n")
    with pytest.raises(ConfigError, match=re.escape(f"DSAR_LEDGER_KEY: differs from the key in {moved}: keep")):
        prepare_demo(old.parent)
    assert moved.read_bytes() == key
    env.write_text(before)
    moved.rename(tmp_path / "elsewhere.key")
    with pytest.raises(ConfigError, match=re.escape(f"{moved} is missing and the demo's ledger in {old.parent} was")):
        prepare_demo(old.parent)
    assert not moved.exists()


def test_the_last_events_deleted_are_named_as_truncation(demo, tmp_path):
    config = copy_of(demo, tmp_path)
    with sqlite3.connect(config.parent / "dsar.db") as db:
        last = db.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
        db.execute("DELETE FROM audit_events WHERE seq > ?", (last - 3,))
    result = dsar("audit", "verify", "--config", str(config))
    assert result.returncode == 2
    assert f"dsar: error: truncated: the ledger ends at seq {last - 3} but the checkpoint ledger-head.json " \
           f"written at " in result.stderr
    assert f" is at seq {last}\n" in result.stderr
    assert "ledger intact" not in result.stdout



def test_the_last_events_deleted_with_the_checkpoint_are_named(demo, tmp_path):
    """The checkpoint sits in the data directory: whoever truncates the ledger there can delete it too (no key
    needed). A ledger with events and no signed head cannot be vouched for."""
    config = copy_of(demo, tmp_path)
    with sqlite3.connect(config.parent / "dsar.db") as db:
        db.execute("DELETE FROM audit_events WHERE seq > 3")
    config.with_name("ledger-head.json").unlink()
    result = dsar("audit", "verify", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "dsar: error: missing checkpoint ledger-head.json: the ledger holds 3 events but no signed head, so events "
        "removed from its end cannot be told: it was deleted or moved (or [audit] checkpoint_file changed)")
    assert "ledger intact" not in result.stdout

def test_a_key_file_outside_the_data_directory_is_read_and_not_warned_about(demo, tmp_path):
    key = generate_key()
    outside = tmp_path / "keys" / "ledger.key"
    outside.parent.mkdir()
    outside.write_text(encode_key(key) + "\n")
    outside.chmod(0o600)
    config = copy_of(demo, tmp_path)
    text = config.read_text().replace(str(demo_key_file(demo.parent)), str(outside), 1)
    config.write_text(text)
    loaded = load_config(config)
    assert ledger_key(loaded) == key and ledger_key_beside(loaded) is None

    beside = config.parent / "ledger.key"
    beside.write_bytes(outside.read_bytes())
    beside.chmod(0o644)
    config.write_text(text.replace(str(outside), "ledger.key"))
    result = dsar("audit", "verify", "--config", str(config))
    assert result.returncode == 2
    assert "store.ledger_key_file" in result.stderr and "must be readable by its owner only (chmod 600)" in \
        result.stderr
    beside.chmod(0o600)
    warning = ledger_key_beside(load_config(config))
    assert warning is not None and warning.startswith(f"the ledger signing key is in {beside}, beside")


def test_with_worm_copies_a_request_erased_and_re_signed_with_the_stolen_key_is_named(demo, tmp_path, s3_bucket):
    worm = f"{s3_bucket.name}-worm"
    s3_bucket.client.create_bucket(Bucket=worm, ObjectLockEnabledForBucket=True,
                                   CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    config = copy_of(demo, tmp_path)
    config.write_text(config.read_text().replace('[storage]\nurl = "file://packages"\n', (
        f'[storage]\nurl = "s3://{s3_bucket.name}/packages"\nkms_key_id = "{s3_bucket.kms_key_id}"\n'
        f'endpoint_url = "{s3_bucket.endpoint_url}"\nregion = "eu-north-1"\n\n'
        f'[audit]\nworm_url = "s3://{worm}/ledger"\nworm_retention_days = 1\n'), 1))
    config.with_name("ledger-head.json").unlink()  # a fresh ledger, every event copied
    (config.parent / "dsar.db").unlink()
    rt = open_runtime(config)
    first, second = verified_requests(rt, ["a@example.fi", "b@example.fi"])
    intact = dsar("audit", "verify", "--config", str(config))
    assert intact.returncode == 0, intact.stderr
    assert " events verified against the checkpoint ledger-head.json and WORM head and WORM copies\n" in \
        intact.stdout

    stolen = ledger_key(rt.config)
    last = rechain_without(rt.engine, stolen, first)
    rt.checkpoint_path.write_text(json.dumps(sign_head(stolen, last).to_json()))  # forged beside the ledger
    result = dsar("audit", "verify", "--config", str(config))
    assert result.returncode == 2
    errors = [re.sub(r" \(?written .*", "", line) for line in result.stderr.splitlines()
              if line.startswith("dsar: error: ")]
    # Three events of each request, interleaved: the first's removed, the other three renumbered 1-3.
    assert errors == ["dsar: error: truncated: the ledger ends at seq 3 but the WORM head",
                      "dsar: error: rewritten at seq 1-3: each differs from its WORM copy",
                      "dsar: error: truncated: the ledger ends at seq 3 but WORM copies reach seq 6"]
    assert second not in result.stderr and "@" not in result.stderr  # ids and seqs only


def test_a_checkpoint_that_holds_no_head_is_named(demo, tmp_path):
    config = copy_of(demo, tmp_path)
    config.with_name("ledger-head.json").write_text('{"kind": "dsar-ledger-head/1", "seq": 0}')
    result = dsar("audit", "verify", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == ("dsar: error: unreadable checkpoint ledger-head.json: ledger head: seq "
                                             "must be a positive integer")


def test_a_lagging_checkpoint_is_a_warning_and_no_bundle_is_exported_past_it(demo, tmp_path):
    """A checkpoint behind the ledger means its last writes failed: events after it are anchored by nothing."""
    config = copy_of(demo, tmp_path)
    rt = open_runtime(config)
    events = list(rt.ledger.events())
    older = sign_head(ledger_key(rt.config), events[-2])
    config.with_name("ledger-head.json").write_text(json.dumps(older.to_json()), encoding="utf-8")
    result = dsar("audit", "verify", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (f"dsar: warning: checkpoint ledger-head.json is at seq {older.seq} but the ledger at seq "
            f"{events[-1].seq}: its last writes failed, or appends are under way") in result.stderr
    fingerprint = re.search(r"^signed by the key with fingerprint ((?:[0-9a-f]{4} ){15}[0-9a-f]{4})$",
                            result.stdout, re.M)
    assert fingerprint is not None, result.stdout
    published = dsar("audit", "public-key", "--config", str(config)).stdout.strip()
    assert fingerprint.group(1) == key_fingerprint(load_public_key(published))
    exported = dsar("audit", "export", events[-1].request_id, "--out", str(tmp_path / "bundle"),
                    "--config", str(config))
    assert exported.returncode != 0 and not (tmp_path / "bundle").exists()
    assert (f"the ledger head (seq {older.seq}) is older than {events[-1].request_id}'s last event "
            f"(seq {events[-1].seq}): its checkpoint lags; run dsar audit verify") in exported.stderr
