"""Starting a request's flow once the requester has proved who they are on the portal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def start_run(config: Path, request_id: str) -> None:
    """Start `dsar run REQ` in a process of its own and do not wait: the requester follows it on the status page.

    `dsar run` hands the request to the `fulfil_request` deployment when a Prefect API is there
    (`PREFECT_API_URL`, or this config's `dsar worker`) and runs it itself otherwise; its own process keeps
    Prefect's start-up and any crash out of the web server. Its one-line messages (ids only) go to the
    portal's stderr.
    """
    subprocess.Popen(
        [sys.executable, "-c", "from flows.cli import main; main()", "run", request_id, "--config", str(config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
    )
