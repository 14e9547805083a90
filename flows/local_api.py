"""The Prefect server a local `dsar worker` keeps alive, and how other commands find it.

Without `PREFECT_API_URL`, `dsar worker` starts `prefect server start` on
loopback as its child (services and UI included: the scheduler creates the
hourly and daily runs) and records the API's address in `worker.json` beside
the config. `dsar run` and `dsar demo` then submit to it instead of starting
Prefect's temporary server for every request. The server dies with the worker,
even after a kill -9 (the kernel signals it: PR_SET_PDEATHSIG).

A command that runs flows or reads their history with neither starts a
temporary server of its own (`own_api_url`), in place of Prefect's.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx

WORKER_FILE = "worker.json"
# dsar's Prefect servers report nothing to Prefect's analytics: a GDPR tool's activity stays on its machine.
_NO_TELEMETRY = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class LocalApi:
    url: str  # ends in /api
    worker_pid: int

    @property
    def ui_url(self) -> str:
        return self.url.removesuffix("/api")


def _server_environ() -> dict[str, str]:
    """This process's environment without dsar's own variables (keys, secrets): a Prefect server needs none."""
    return {name: value for name, value in os.environ.items() if not name.startswith("DSAR_")}


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, record_task_runs: bool = False,
                 timeout: float = 90.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start `prefect server start` on a free loopback port with its database and log in `home`; its process and
    API URL once it answers.

    A home of its own per config: two workers for two configs (production, staging) must not share one
    database, where each would claim the other's runs.

    Unless `record_task_runs`, the server's task-run recorder is off: on SQLite it holds the write lock for
    about two seconds after each run, and the next request's submission waits for it (1.0 s a request becomes
    3 s). Flow runs, their states and logs are kept; each stage's start and duration are in the ledger.
    """
    home.mkdir(mode=0o700, exist_ok=True)
    for _ in range(_PORT_ATTEMPTS):
        started = _start_server(home, record_task_runs, timeout)
        if started is not None:
            return started
    raise RuntimeError(f"prefect server found its port taken {_PORT_ATTEMPTS} times, or kept its settings from "
                       "this worker (PREFECT_API_AUTH_STRING must match PREFECT_SERVER_API_AUTH_STRING); "
                       f"see {home / 'server.log'}")


# `prefect server start` binds its port only when its start-up is over, seconds after the port was picked: a
# process starting meanwhile can take the port, and its server then answers where ours was to be.
_PORT_ATTEMPTS = 3


def _start_server(home: Path, record_task_runs: bool, timeout: float) -> tuple[subprocess.Popen[bytes], str] | None:
    """The server started on a fresh port, or None when another server answered there (try another port)."""
    port = _free_port()
    log = home / "server.log"
    env = {**_server_environ(), "PREFECT_HOME": str(home), **_NO_TELEMETRY,
           "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "true" if record_task_runs else "false"}
    env.pop("PREFECT_API_URL", None)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prefect server exited with status {process.returncode}; see {log}")
        if healthy(url):
            if _serves_home(url, home):
                return process, url
            _stop(process)  # someone else's server: ours would write this config's runs into its database
            return None
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"prefect server did not answer within {timeout:.0f} s")


def _serves_home(url: str, home: Path) -> bool:
    """Whether the server at `url` keeps its database in `home` (its settings say so).

    Asked with the credentials Prefect's clients here use: a server behind PREFECT_SERVER_API_AUTH_STRING
    answers its settings only to them.
    """
    from prefect.settings import PREFECT_API_AUTH_STRING

    auth = PREFECT_API_AUTH_STRING.value()
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    try:
        served = httpx.get(f"{url}/admin/settings", headers=headers, timeout=5).json().get("home")
    except (httpx.HTTPError, ValueError, AttributeError):
        return False
    return isinstance(served, str) and Path(served).resolve() == home.resolve()


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def write_worker_file(base_dir: Path, url: str) -> Path:
    path = base_dir / WORKER_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"api_url": url, "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(path)
    return path


def remove_worker_file(base_dir: Path) -> None:
    """Remove `worker.json` if it is this process's (a second worker may have written its own since)."""
    path = base_dir / WORKER_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def find_local_api(base_dir: Path) -> LocalApi | None:
    """The API of a live `dsar worker` for the config in `base_dir`, if one runs and answers."""
    try:
        record = json.loads((base_dir / WORKER_FILE).read_text(encoding="utf-8"))
        api = LocalApi(str(record["api_url"]), int(record["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(api.worker_pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return api if healthy(api.url) else None


@cache
def own_api_url() -> str:
    """The API of a temporary Prefect server for this process alone, on `PREFECT_HOME`'s database; started on the
    first call, it stops when the process ends, however it ends.

    Prefect's own temporary server picks a random free port and binds it only when its start-up is over, seconds
    later: a second process starting meanwhile can pick the same port, find the first one's server answering
    there, and write its runs into the other process's database (another config's), where a later run of its
    own cannot find them. This server is handed a socket already bound and listening, so the address is its own
    from the start.
    """
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, get_current_settings

    settings = get_current_settings()
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    log = settings.home / "temporary-server.log"  # off the terminal, where dsar prints one line per failure
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    # What Prefect's temporary server is given: the settings in force here, no UI, only the services it needs.
    env = {**_server_environ(), **settings.to_environment_variables(exclude_unset=True),
           "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1", **_NO_TELEMETRY}
    env.pop("PREFECT_API_URL", None)
    with listener, log.open("ab") as out:
        process = _spawn_dying_with_process(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
             "--fd", str(listener.fileno()), "--log-level", "error", "--lifespan", "on"],
            env, listener.fileno(), out.fileno(),
        )  # the listening socket is the server's now: connections wait in its backlog until it serves them
    atexit.register(_stop, process)
    deadline = time.monotonic() + PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
    while not healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise RuntimeError(f"the temporary Prefect server did not start (status {process.returncode}); "
                               f"see {log}")
        time.sleep(0.1)
    return url


def _spawn_dying_with_process(args: list[str], env: dict[str, str], fd: int, out: int) -> subprocess.Popen[bytes]:
    """Start `args` (inheriting `fd`, its output to `out`) so that the kernel signals it when this process
    dies, even by kill -9.

    PDEATHSIG fires when the *thread* that forked the child ends, so it is forked from a thread of its own
    that waits for the child: that thread ends with the child, or with the process, whichever thread
    (a portal's request, a worker's run) asked for the server.
    """
    started: list[subprocess.Popen[bytes] | BaseException] = []
    ready = threading.Event()

    def spawn_and_wait() -> None:
        try:
            process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       pass_fds=(fd,), preexec_fn=_die_with_parent)
        except BaseException as exc:  # handed to the caller
            started.append(exc)
            ready.set()
            return
        started.append(process)
        ready.set()
        process.wait()

    threading.Thread(target=spawn_and_wait, name="prefect-server-parent", daemon=True).start()
    ready.wait()
    if isinstance(started[0], BaseException):
        raise started[0]
    return started[0]


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
