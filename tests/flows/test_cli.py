"""The `dsar` command as a privacy officer runs it."""

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.cli import _say_demo
from flows.demo.run import DemoResult, demo_company
from tests.exports.age_cli import age_decrypt
from tests.flows.privacy import find_in_database, find_in_files

# The console script pip installed, as a user runs it.
SCRIPT = Path(sys.executable).with_name("dsar")
DSAR = [str(SCRIPT)]


def test_the_installed_script_is_ours():
    assert SCRIPT.is_file(), "dsar is not installed in this environment (make installs it)"
    assert "flows.cli import main" in SCRIPT.read_text()


def test_python_dash_m_flows_cli_runs_the_command_too():
    # As a checkout without the console script runs it: it used to exit 0 having done nothing.
    result = subprocess.run([sys.executable, "-m", "flows.cli", "audit", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "Usage: " in result.stdout and "replay" in result.stdout, result.stderr


def dsar(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*DSAR, *args], capture_output=True, text=True, input=stdin, timeout=300, env=env or os.environ.copy()
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Iterator[Path]:
    # Its Mailchimp-compatible endpoint serves: `request new` sends no code while a source is unreachable.
    with demo_company(tmp_path_factory.mktemp("cli") / "demo") as (_, path):
        yield path


@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["request", "new"], ["request", "verify"], ["request", "show"], ["requests", "list"],
     ["request", "resend-code"], ["request", "close"], ["request", "unlock"], ["run"], ["serve"], ["audit", "verify"],
     ["audit", "replay"], ["audit", "export"], ["audit", "public-key"], ["redact"], ["link", "revoke"],
     ["link", "reissue"],
     ["packages", "expire"], ["request", "seal"], ["review", "list"], ["review", "show"], ["review", "approve"],
     ["review", "reject"], ["sources", "check"], ["config", "reference"], ["init"], ["check"],
     ["request", "add-identifier"], ["request", "extend"], ["requests", "digest"]],
)
def test_every_command_has_help(command):
    result = dsar(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_a_broken_config_is_one_line_naming_file_and_key(config, tmp_path):
    broken = tmp_path / "dsar.toml"
    broken.write_text(config.read_text().replace('business_id = "1234567-1"\n', ""))
    result = dsar("requests", "list", "--config", str(broken))
    assert result.returncode == 2
    assert result.stderr == f"dsar: error: {broken}: controller.business_id: missing\n"


def test_register_verify_show_list_and_duplicate(config):
    new = dsar("request", "new", "--email", "Aino.Makinen@example.fi", "--name", "Aino Mäkinen",
               "--config", str(config))
    assert new.returncode == 0, new.stderr
    request_id = new.stdout.split()[0]
    assert "a one-time code was sent" in new.stdout
    code_file = next((config.parent / "outbox").glob(f"{request_id}-code-*.eml"))
    code = next(word for word in code_file.read_text().split() if word.rstrip(".").isdigit())

    wrong = dsar("request", "verify", request_id, "--config", str(config), stdin="12345678\n")
    assert wrong.returncode == 2 and "identity verification failed" in wrong.stderr
    right = dsar("request", "verify", request_id, "--config", str(config), stdin=code.rstrip(".") + "\n")
    assert right.returncode == 0, right.stderr
    assert code.rstrip(".") not in right.stdout + right.stderr

    again = dsar("request", "new", "--email", "aino.makinen@EXAMPLE.fi", "--config", str(config))
    assert "recorded as a duplicate" in again.stdout and "no code was sent" in again.stdout
    assert request_id not in again.stdout + again.stderr, "whoever typed the address proved nothing yet"
    again_id = again.stdout.split()[0]
    assert not list((config.parent / "outbox").glob(f"{again_id}-*"))
    assert f"duplicate   {request_id}" in dsar("request", "show", again_id, "--config", str(config)).stdout

    show = dsar("request", "show", request_id, "--config", str(config))
    assert "verified" in show.stdout and "email_code" in show.stdout
    listed = dsar("requests", "list", "--config", str(config))
    assert request_id in listed.stdout and "duplicate" in listed.stdout

    missing = dsar("request", "show", "REQ-NOSUCH", "--config", str(config))
    assert missing.returncode == 2 and missing.stderr == "dsar: error: no request REQ-NOSUCH\n"

    closed = dsar("request", "close", request_id, "--reason", "withdrawn", "--config", str(config))
    assert closed.returncode == 0, closed.stderr
    rerun = dsar("run", request_id, "--config", str(config))
    assert rerun.returncode == 2
    assert rerun.stderr == f"dsar: error: {request_id} is closed: nothing more runs for it\n"


def test_choosing_how_a_package_is_sealed(config, tmp_path):
    from tests.exports.age_cli import age_keygen

    new = dsar("request", "new", "--email", "seal.test@example.fi", "--config", str(config))
    request_id = new.stdout.split()[0]
    bad = dsar("request", "seal", request_id, "--with", "age-recipient", "--age-recipient", "age1notakey",
               "--config", str(config))
    assert bad.returncode == 2 and bad.stderr.startswith("dsar: error: ") and bad.stderr.count("\n") == 1
    lone = dsar("request", "seal", request_id, "--with", "zip-aes", "--age-recipient", "age1x", "--config", str(config))
    assert lone.returncode == 2 and "--age-recipient goes with --with age-recipient" in lone.stderr
    _, recipient = age_keygen(tmp_path)
    good = dsar("request", "seal", request_id, "--with", "age-recipient", "--age-recipient", recipient,
                "--config", str(config))
    assert good.returncode == 0, good.stderr
    with sqlite3.connect(config.parent / "dsar.db") as db:
        assert db.execute("SELECT method, recipient FROM sealing WHERE request_id = ?", (request_id,)).fetchone() == (
            "age-recipient", recipient)
        events = db.execute("SELECT detail FROM audit_events WHERE request_id = ? AND action = 'sealing_chosen'",
                            (request_id,)).fetchall()
    assert [json.loads(d) for (d,) in events] == [{"method": "age-recipient"}]

    # Sealed (its passphrase may be on its way, a resume reuses the object): the choice can no longer change.
    from flows.runtime import open_runtime

    rt = open_runtime(config)
    rt.store.complete_stage(request_id, "store:sealed", {"object_key": "x", "sha256": "0" * 64}, rt.clock())
    late = dsar("request", "seal", request_id, "--with", "zip-aes", "--config", str(config))
    assert late.returncode == 2 and "already sealed" in late.stderr


def _code_in(mail: Path) -> str:
    found = re.search(rb"\b(\d{8})\b", mail.read_bytes())
    assert found is not None, f"no code in {mail.name}"
    return found.group(1).decode()


def test_an_expired_code_can_be_sent_again(config):
    new = dsar("request", "new", "--email", "matti@example.fi", "--config", str(config))
    request_id = new.stdout.split()[0]
    resent = dsar("request", "resend-code", request_id, "--config", str(config))
    assert resent.returncode == 0, resent.stderr
    codes = sorted((config.parent / "outbox").glob(f"{request_id}-code-*.eml"))
    assert len(codes) == 2
    old_code, new_code = _code_in(codes[0]), _code_in(codes[1])
    if old_code != new_code:
        stale = dsar("request", "verify", request_id, "--config", str(config), stdin=old_code + "\n")
        assert stale.returncode == 2
    fresh = dsar("request", "verify", request_id, "--config", str(config), stdin=new_code + "\n")
    assert fresh.returncode == 0, fresh.stderr
    dsar("request", "close", request_id, "--reason", "withdrawn", "--config", str(config))


def serve_and_get(config: Path, url: str) -> bytes:
    """Start `dsar serve` on a free port and download `url` from it."""
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*DSAR, "serve", "--config", str(config), "--port", str(port)],
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        assert "Portal on" in server.stderr.readline()
        local = url.replace("127.0.0.1:8765", f"127.0.0.1:{port}")
        for _ in range(50):
            try:
                page = httpx.get(local, timeout=10)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert page.status_code == 200 and "/file" in page.text  # the download page, with its button
        response = httpx.get(local + "/file", timeout=10)
        assert response.status_code == 200
        assert httpx.get(local + "x", timeout=10).status_code == 404
    finally:
        server.terminate()
        log = server.communicate(timeout=10)[1]
    token = url.rsplit("/", 1)[1]
    assert token not in log and token[-20:] not in log
    return response.content


@pytest.mark.e2e
def test_demo_json_in_a_fresh_prefect_home(tmp_path, capsys):
    """What `make demo` runs, in its own process with its own Prefect (its ephemeral API)."""
    home = tmp_path / "prefect-home"
    env = os.environ | {"PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    result = dsar("demo", "--json", "--workdir", str(tmp_path / "demo"), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    assert set(printed) == {"request_id", "package_path", "download_url", "portal_url", "status_url", "passphrase",
                            "subject_email", "workdir", "ledger_key_file"}
    assert printed["ledger_key_file"] == str(tmp_path / "demo-keys" / "ledger.key")  # not under demo/
    _say_demo(DemoResult(**printed), serving=False)  # the same result as text
    assert (f"\nLedger key: {tmp_path / 'demo-keys' / 'ledger.key'}\n            (owner-only, outside "
            f"{tmp_path / 'demo'}: whoever can rewrite the ledger there cannot re-sign it)\n"
            ) in capsys.readouterr().out
    assert printed["download_url"].startswith("http://127.0.0.1:8765/download/")
    assert age_decrypt(Path(printed["package_path"]), printed["passphrase"])[:2] == b"PK"
    for private in (tmp_path / "demo" / "dsar.db", Path(printed["package_path"]), tmp_path / "demo" / "outbox",
                    Path(printed["ledger_key_file"])):
        assert private.stat().st_mode & 0o077 == 0, f"{private.name} is readable by others"

    assert printed["subject_email"] not in result.stderr.lower()
    needles = [printed["subject_email"], "Aino Mäkinen"]
    assert find_in_database(home / "prefect.db", needles) == []
    assert find_in_files(home, needles) == []

    served = serve_and_get(tmp_path / "demo" / "dsar.toml", printed["download_url"])
    assert served == Path(printed["package_path"]).read_bytes()

    replay = dsar("audit", "replay", printed["request_id"], "--config", str(tmp_path / "demo" / "dsar.toml"))
    assert "deliver_done" in replay.stdout
    config = str(tmp_path / "demo" / "dsar.toml")
    request_id = printed["request_id"]
    reissued = dsar("link", "reissue", request_id, "--config", config)
    assert reissued.returncode == 0, reissued.stderr
    assert re.fullmatch(rf"{request_id}: a new link was sent, good for 3 download\(s\) until [-0-9: ]+ UTC; "
                        "earlier links are revoked.\n", reissued.stdout)
    assert dsar("link", "revoke", request_id, "--config", config).stdout == f"{request_id}: 1 link(s) revoked.\n"
    expired = dsar("packages", "expire", "--config", config)
    assert expired.stdout == "1 package(s) and 0 staging folder(s) deleted.\n"
    assert not Path(printed["package_path"]).exists()
    assert dsar("request", "close", request_id, "--reason", "fulfilled", "--config", config).returncode == 0
    refused = dsar("link", "reissue", request_id, "--config", config)
    assert refused.returncode == 2
    assert refused.stderr == f"dsar: error: {request_id} is closed: nothing more runs for it\n"

    verify = dsar("audit", "verify", "--config", config)
    assert verify.returncode == 0 and "ledger intact" in verify.stdout

    # An auditor holds only the published public key; an altered event is named by its number.
    public = dsar("audit", "public-key", "--config", config).stdout.strip()
    auditor_env = {k: v for k, v in os.environ.items() if k != "DSAR_LEDGER_KEY"}
    (tmp_path / "demo" / "dsar.env").write_text("")  # no secrets on the auditor's side, no ledger key
    Path(printed["ledger_key_file"]).rename(tmp_path / "kept-by-the-controller.key")
    assert dsar("audit", "verify", "--config", config, "--public-key", public, env=auditor_env).returncode == 0
    with sqlite3.connect(tmp_path / "demo" / "dsar.db") as db:
        db.execute("UPDATE audit_events SET detail = replace(detail, '\"fi\"', '\"en\"') WHERE seq = 1")
    tampered = dsar("audit", "verify", "--config", config, "--public-key", public, env=auditor_env)
    assert tampered.returncode == 2
    assert tampered.stderr == "dsar: error: ledger tampered at seq 1: hash mismatch\n"
