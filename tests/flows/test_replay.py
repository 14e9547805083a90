"""`dsar audit replay` and `dsar audit export` on the demo request, read the way an auditor would."""

import json
import os
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support import free_port

pytestmark = pytest.mark.e2e

SCRIPT = Path(sys.executable).with_name("dsar")


def dsar(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    environ = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()} | env
    environ.pop("DSAR_CONFIG", None)
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=300, env=environ, cwd=cwd)


def _personal(result) -> list[str]:
    from flows.runtime import open_runtime

    request = open_runtime(Path(result.workdir) / "dsar.toml").store.get(result.request_id)
    assert request.name is not None
    return [request.email, request.name, request.name.split()[-1]]


def _copy(result, tmp_path):
    """A runtime on a copy of the demo's workdir (its paths are relative), for tests that change what is stored."""
    from flows.runtime import open_runtime

    workdir = tmp_path / "demo"
    shutil.copytree(result.workdir, workdir)
    return open_runtime(workdir / "dsar.toml")


def test_the_replay_shows_ledger_events_beside_prefect_flow_and_task_states(demo):
    from flows.replay import replay
    from flows.runtime import open_runtime

    result, _ = demo
    found = replay(open_runtime(Path(result.workdir) / "dsar.toml"), result.request_id).to_json()
    assert found["prefect"]["status"] == "ok"
    [run] = found["prefect"]["flow_runs"]
    assert (run["name"], run["state"]) == (result.request_id, "Completed")
    assert {t["name"].rsplit("-", 1)[0] for t in run["task_runs"]} >= {"verify-identity", "redact", "deliver"}
    by_action = {e["action"]: e for e in found["events"]}
    assert by_action["received"]["prefect"] is None  # registered before any run
    assert by_action["extract:customers_done"]["prefect"] == {
        "flow_run": run["id"], "flow_state": "Completed", "task": "extract-customers", "task_state": "Completed"}
    assert by_action["store_done"]["prefect"]["task"].startswith("encrypt-and-store")
    assert sorted((s["name"], s["retries"], s["task_state"]) for s in found["sources"]) == [
        ("customers", 0, "Completed"), ("marketing", 0, "Completed"), ("support_mail", 0, "Completed")]
    assert found["identity"]["method"] == "email_code" and found["received"]["right"] == "access"
    assert found["received"]["channel"] == "cli"  # the demo registers as staff do
    assert found["redaction"]["names_replaced"] > 0
    assert found["package"]["check"]["status"] == "match"
    assert found["links"][0]["event"] == "deliver_done"


def test_dsar_audit_replay_prints_text_and_json_without_personal_data(demo):
    result, _ = demo
    config = str(Path(result.workdir) / "dsar.toml")
    text = dsar("audit", "replay", result.request_id, "--config", config)
    assert text.returncode == 0, text.stderr[-2000:]
    [line] = [line for line in text.stdout.splitlines() if "extract:marketing_done" in line]
    assert "[Prefect task extract-marketing: Completed]" in line
    assert "EET)" in line or "EEST)" in line  # beside UTC, the controller's zone (Europe/Helsinki)
    assert "Package: match" in text.stdout
    # Lists and maps in a detail read as JSON, as `--json` and the ledger have them, not as Python's repr.
    [verified] = [line for line in text.stdout.splitlines() if " identity_verified " in line]
    assert 'kinds=["email"]' in verified and "['" not in text.stdout and "{'" not in text.stdout
    as_json = dsar("audit", "replay", result.request_id, "--json", "--config", config)
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    found = json.loads(as_json.stdout)
    assert found["format"] == "dsar-replay/1" and found["time_zone"] == "Europe/Helsinki"
    assert found["prefect"]["flow_runs"][0]["state"] == "Completed"
    for needle in _personal(result):
        assert needle.lower() not in (text.stdout + text.stderr + as_json.stdout).lower()


def test_without_a_reachable_prefect_the_replay_says_so(demo):
    from flows.replay import replay
    from flows.runtime import open_runtime

    result, _ = demo
    gone = f"http://127.0.0.1:{free_port()}/api"
    found = replay(open_runtime(Path(result.workdir) / "dsar.toml"), result.request_id, gone)
    assert found.prefect.status == "unreachable" and "ledger only" in found.prefect.note
    assert len(found.steps) >= 11 and all(step.flow_run is None for step in found.steps)


def test_the_package_check_names_an_altered_and_a_deleted_package(demo, tmp_path):
    from flows.replay import replay
    from flows.sweeper import delete_package

    result, _ = demo
    rt = _copy(result, tmp_path)
    stored = rt.store.stage_done(result.request_id, "store:sealed")
    path = rt.storage.path(stored["object_key"])
    path.write_bytes(path.read_bytes()[:-1] + bytes([path.read_bytes()[-1] ^ 1]))
    altered = replay(rt, result.request_id).package
    assert altered.status == "altered" and stored["sha256"] in altered.message
    path.unlink()
    assert replay(rt, result.request_id).package.status == "missing"  # gone without a deletion on record
    path.write_bytes(b"x")
    assert delete_package(rt, result.request_id, "links_dead")
    deleted = replay(rt, result.request_id).package
    assert (deleted.status, deleted.message) == ("deleted", f"package deleted after expiry; its sha256 was "
                                                            f"{stored['sha256']}")


def test_a_request_the_store_lost_is_replayed_from_the_ledger(demo, tmp_path):
    from sqlalchemy import text

    from flows.errors import RequestNotFound
    from flows.replay import replay

    result, _ = demo
    rt = _copy(result, tmp_path)
    assert replay(rt, result.request_id).in_store
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM requests WHERE id = :id"), {"id": result.request_id})
    lost = replay(rt, result.request_id)
    assert not lost.in_store and lost.to_json()["in_store"] is False
    assert "Store: no record of this request (deleted?): the timeline is the ledger's alone" in lost.lines()
    assert [s.event for s in lost.steps] == list(rt.ledger.events(result.request_id))
    assert "deliver_done" in [s.event.action for s in lost.steps] and lost.package.status == "match"
    with pytest.raises(RequestNotFound):
        replay(rt, "REQ-AAAAAAAAAAAAAAAA")


def test_an_exported_bundle_verifies_offline_and_a_tampered_one_is_named(demo, tmp_path):
    result, _ = demo
    config = str(Path(result.workdir) / "dsar.toml")
    out = tmp_path / "bundle"
    exported = dsar("audit", "export", result.request_id, "--out", str(out), "--config", config)
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["chain.jsonl", "head.json", "manifest.json", "manifest.json.sig",
                                                     "public_key.txt", "replay.html", "replay.json"]
    elsewhere = tmp_path / "auditor"  # no dsar.toml here, and DSAR_CONFIG is unset (see dsar())
    elsewhere.mkdir()
    verified = dsar("audit", "verify", "--bundle", str(out), cwd=elsewhere, PREFECT_API_URL="")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"bundle intact: {len(list(_events(out)))} event(s) of {result.request_id}")
    assert "compare it with the key the controller publishes" in verified.stdout
    published = dsar("audit", "public-key", "--config", config).stdout.strip()
    assert dsar("audit", "verify", "--bundle", str(out), "--public-key", published, cwd=elsewhere).returncode == 0

    chain = (out / "chain.jsonl").read_text().splitlines()
    entry = json.loads(chain[0])
    entry["detail"]["right"] = "portability"
    (out / "chain.jsonl").write_text("\n".join([json.dumps(entry), *chain[1:]]) + "\n")
    tampered = dsar("audit", "verify", "--bundle", str(out), cwd=elsewhere)
    assert tampered.returncode == 2
    assert tampered.stderr == (f"dsar: bundle invalid: chain.jsonl: seq {entry['seq']}: "
                               "hash mismatch (the event was edited)\n")

    again = dsar("audit", "export", result.request_id, "--out", str(out), "--config", config)
    assert again.returncode == 2 and "is not an empty directory" in again.stderr
    nowhere = dsar("audit", "export", result.request_id, "--out", str(tmp_path / "no" / "such"), "--config", config)
    assert nowhere.returncode == 2 and "Traceback" not in nowhere.stderr, nowhere.stderr
    assert nowhere.stderr.splitlines()[-1] == (f"dsar: error: {tmp_path / 'no'} does not exist: make it first, "
                                               "or choose another --out")
    hostile = dsar("audit", "export", "../REQ-X", "--out", str(tmp_path / "x"), "--config", config)
    assert hostile.returncode == 2 and not (tmp_path / "x").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no half-written bundle


def _events(folder):
    return [line for line in (folder / "chain.jsonl").read_text().splitlines() if '"request_id"' in line]


def test_the_bundles_html_runs_nothing_loads_nothing_and_no_file_holds_personal_data(demo, tmp_path):
    from audit.anchor import sign_head
    from flows.audit_export import export_bundle
    from flows.secrets import ledger_key

    result, _ = demo
    rt = _copy(result, tmp_path)
    head = sign_head(ledger_key(rt.config), list(rt.ledger.events())[-1])
    out = export_bundle(rt, result.request_id, tmp_path / "bundle", head)
    html = (out / "replay.html").read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in unescape(html)
    lowered = html.lower()
    for loader in ("<script", "javascript:", " src=", "href=", "@import", "url(", "<link", "<iframe", "<object"):
        assert loader not in lowered, loader
    assert result.request_id in html and "Completed" in html
    # Each time also where the controller is, as the privacy team and the requester read dates.
    received = next(e for e in rt.ledger.events(result.request_id) if e.action == "received").at
    local = received.astimezone(ZoneInfo(rt.config.controller.time_zone))
    assert f"{local:%Y-%m-%d %H:%M:%S %Z}" in html and "Time (Europe/Helsinki)" in html
    everything = "".join(p.read_text() for p in out.iterdir()).lower()
    for needle in _personal(result):
        assert needle.lower() not in everything
