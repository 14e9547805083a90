"""Fault injection for the crash test: `point(name)` kills this process where `DSAR_FAULT` names it.

The calls sit at every stage boundary and between each side effect (a mail,
a stored object) and its record, so a test can prove that a run killed there
resumes with nothing sent twice. SIGKILL, not an exception: nothing may run
after it (no `finally`, no Prefect state change), exactly as after `kill -9`
or a lost machine. Unset, a point costs one comparison.
"""

from __future__ import annotations

import os
import signal

# Read once: the setting is for a whole process, and a point must stay cheap.
_FAULT = os.environ.get("DSAR_FAULT")


def point(name: str) -> None:
    """Die at once with SIGKILL when this is the point `DSAR_FAULT` names; do nothing otherwise."""
    if name == _FAULT:
        os.kill(os.getpid(), signal.SIGKILL)
