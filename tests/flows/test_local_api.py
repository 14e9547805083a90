"""dsar's own temporary Prefect server (flows.local_api.own_api_url): it ends with the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Started from a thread of a long-lived process (a portal, a worker thread), then the process is killed -9.
_STARTER = """
import threading, time
from flows.local_api import own_api_url
answer = []
def start():
    try:
        answer.append(own_api_url())
    except Exception as exc:
        answer.append(f"failed: {type(exc).__name__}: {exc}")
thread = threading.Thread(target=start)
thread.start()
thread.join()
print(answer[0], flush=True)
time.sleep(600)
"""


def _servers_of(home: Path, but: int) -> list[int]:
    """The processes (other than `but`) whose environment names `home` as PREFECT_HOME."""
    marker = f"PREFECT_HOME={home}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != but:
            try:
                if marker in (entry / "environ").read_bytes() + b"\0":
                    found.append(int(entry.name))
            except OSError:
                pass  # gone, or another user's
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_temporary_server_started_in_a_thread_dies_with_a_killed_process(tmp_path):
    home = tmp_path / "prefect"
    env = {**os.environ, "PREFECT_HOME": str(home), "PYTHONPATH": str(Path.cwd())}
    env.pop("PREFECT_API_URL", None)
    starter = subprocess.Popen([sys.executable, "-c", _STARTER], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    servers: list[int] = []
    try:
        assert starter.stdout is not None
        answer = starter.stdout.readline().strip()
        assert answer.startswith("http://127.0.0.1:"), answer
        servers = _servers_of(home, but=starter.pid)
        assert servers, "own_api_url started no server"
        starter.send_signal(signal.SIGKILL)
        starter.wait()
        deadline = time.monotonic() + 30  # the kernel's SIGTERM, then uvicorn's shutdown
        while any(_alive(pid) for pid in servers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in servers), "the server outlived the killed dsar process"
    finally:
        starter.kill()
        for pid in servers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_the_worker_takes_its_own_server_behind_basic_auth(tmp_path, monkeypatch):
    """A team that sets PREFECT_SERVER_API_AUTH_STRING (and the same PREFECT_API_AUTH_STRING for the clients)
    must still get a worker: the check that the server keeps its database in the worker's home asks with the
    clients' credentials, as the worker's own calls will."""
    from prefect.settings import PREFECT_API_AUTH_STRING
    from prefect.settings.context import temporary_settings

    from flows import local_api

    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", "dsar:s3cret")
    home = tmp_path / "prefect"
    with temporary_settings({PREFECT_API_AUTH_STRING: "dsar:s3cret"}):
        process, url = local_api.start_server(home)
    try:
        assert local_api.healthy(url)
        assert not local_api._serves_home(url, home), "without the credentials the server's settings stay closed"
    finally:
        process.terminate()
        process.wait(timeout=30)


_SETTINGS = """
import os
import httpx
from flows.local_api import own_api_url
settings = httpx.get(own_api_url() + "/admin/settings").json()
servers = [pid for task in os.listdir("/proc/self/task")
           for pid in open(f"/proc/self/task/{task}/children").read().split()]
environ = b"".join(open(f"/proc/{pid}/environ", "rb").read() for pid in servers)
print(settings["home"], settings["server"]["analytics_enabled"], b"s3cret-ledger-key" in environ, flush=True)
"""


def test_the_temporary_server_keeps_prefect_home_sends_no_telemetry_and_holds_no_dsar_secret(tmp_path):
    """`dsar run` / `dsar audit replay` without a Prefect API: the server works on PREFECT_HOME's database,
    does not report to Prefect's analytics (a GDPR tool's runs stay home), writes no tracebacks on the
    user's terminal (its telemetry's "database is locked" did, on SQLite), and is not handed dsar's keys."""
    home = tmp_path / "prefect"
    env = {**os.environ, "PREFECT_HOME": str(home), "PYTHONPATH": str(Path.cwd()),
           "DSAR_LEDGER_KEY": "s3cret-ledger-key"}
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)
    done = subprocess.run([sys.executable, "-c", _SETTINGS], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(home), "False", "False"]
    assert (home / "prefect.db").exists()
    assert "Traceback" not in done.stderr and "telemetry" not in done.stderr


_HISTORY = """
from flows.prefect_history import read_history
print(read_history("REQ-1").status, flush=True)
"""


def test_a_temporary_server_that_cannot_start_leaves_one_clear_answer_and_its_log(tmp_path):
    """`dsar audit replay` with a Prefect database that cannot be reached: the history is "unreachable" and the
    terminal gets no server traceback (dsar prints one line per failure); the cause is in PREFECT_HOME's log."""
    home = tmp_path / "prefect"
    env = {**os.environ, "PREFECT_HOME": str(home), "PYTHONPATH": str(Path.cwd()),
           "PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://nobody:none@127.0.0.1:1/none"}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, "-c", _HISTORY], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["unreachable"], done.stderr
    assert "Traceback" not in done.stderr
    assert "Application startup failed" in (home / "temporary-server.log").read_text()
