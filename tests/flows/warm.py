"""Long-lived processes for the worker tests: `dsar worker` and `prefect server start`, with their output in files."""

import os
import subprocess
import sys
import time
from pathlib import Path

from flows.local_api import healthy

SCRIPT = Path(sys.executable).with_name("dsar")


def dsar(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, env=env)


def prefect_home_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    for name in ("PREFECT_API_URL", "PREFECT_API_DATABASE_CONNECTION_URL"):
        env.pop(name, None)
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


class Worker:
    """`dsar worker` in a child process; ready once it has announced itself."""

    def __init__(self, config: Path, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen([str(SCRIPT), "worker", "--config", str(config), *args],
                                            env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while "dsar worker: pool" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dsar worker did not start:\n{self.output()[-3000:]}")
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)


class PrefectServer:
    """`prefect server start` on loopback, on the database `env` names."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}/api"
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"prefect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL if that is not enough within 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
