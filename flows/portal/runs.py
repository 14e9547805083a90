"""Starting a request's flow once the requester has proved who they are on the portal."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from flows.errors import StageFailed
from flows.runtime import Runtime
from flows.team_mail import tell_failure


def start_run(config: Path, request_id: str, on_exit: Callable[[int], None] | None = None) -> None:
    """Start `dsar run REQ` in a process of its own and do not wait: the requester follows it on the status page.

    `dsar run` hands the request to the `fulfil_request` deployment when a Prefect API is there
    (`PREFECT_API_URL`, or this config's `dsar worker`) and runs it itself otherwise; its own process keeps
    Prefect's start-up and any crash out of the web server. Its one-line messages (ids only) go to the
    portal's stderr. `on_exit(returncode)` is called from a thread once the process ends.
    """
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from flows.cli import main; main()", "run", request_id, "--config", str(config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError:  # no process (out of memory, no pids): heard as a run that failed at once
        if on_exit is not None:
            on_exit(-1)
        return
    if on_exit is not None:
        threading.Thread(target=lambda: on_exit(process.wait()), daemon=True).start()


def tell_if_not_started(rt: Runtime, request_id: str, returncode: int) -> None:
    """Mail the team when `dsar run` failed before its flow recorded anything (a Prefect API down, a broken
    source): no stage failed, so no failure mail went, and the requester's page would say "in progress" for ever."""
    if returncode != 0 and rt.store.get(request_id).status == "verified":
        failure = StageFailed(request_id, "start", f"dsar run started by the portal exited with status {returncode}")
        tell_failure(rt, failure, f"portal-{uuid.uuid4()}")
