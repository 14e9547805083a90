"""`dsar audit verify --bundle` as an auditor runs it, in a directory with no dsar.toml: what it prints for
a good bundle, and the one line it prints for a folder that is not a bundle."""

import os
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from audit.anchor import sign_head
from audit.bundle import write_bundle
from audit.ledger import Ledger
from audit.signing import encode_key, generate_key, public_key
from tests.flows.test_cli import DSAR

T0 = datetime(2026, 3, 31, 7, 0, tzinfo=UTC)


def dsar(*args: str, cwd) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DSAR_CONFIG", "DSAR_LEDGER_KEY")}
    return subprocess.run([*DSAR, *args], capture_output=True, text=True, timeout=300, env=environ, cwd=cwd)


@pytest.fixture
def key():
    return generate_key()


@pytest.fixture
def bundle(key, tmp_path):
    """REQ-1's bundle from a real SQLite ledger: its events 1 and 3, REQ-2's event 2 as links only."""
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger = Ledger(engine, key)
    for i in range(3):
        ledger.append_event(f"REQ-{i % 2 + 1}", "dsar", "received", {"language": "fi"}, at=T0 + timedelta(seconds=i))
    events = list(ledger.events())
    engine.dispose()
    folder = tmp_path / "evidence"
    folder.mkdir()
    write_bundle(folder, "REQ-1", iter(events), sign_head(key, events[-1], at=T0), key, {}, T0)
    return folder


@pytest.fixture
def elsewhere(tmp_path):
    folder = tmp_path / "auditor"
    folder.mkdir()
    return folder


def test_without_a_key_it_prints_the_bundles_key_as_the_controller_publishes_it(bundle, key, elsewhere):
    verified = dsar("audit", "verify", "--bundle", str(bundle), cwd=elsewhere)
    assert verified.returncode == 0, verified.stderr
    # `dsar audit public-key` prints the key in base64: the auditor compares it with what was published.
    assert encode_key(public_key(key)) in verified.stdout


@pytest.mark.parametrize("what", ["missing", "file"])
def test_a_bundle_folder_that_is_missing_or_a_file_is_named_in_one_line(bundle, elsewhere, what):
    given = elsewhere / "no-such-bundle" if what == "missing" else bundle / "head.json"
    result = dsar("audit", "verify", "--bundle", str(given), cwd=elsewhere)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(given) in lines[0], result.stderr
    assert ("no such directory" if what == "missing" else "is a file, not a bundle directory") in lines[0]
