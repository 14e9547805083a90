"""What the ledger says of a stage's run besides its result: when it started, how long it took, where it ran.

A stage's `<stage>_done` (or `stage_failed`) event carries its result and
these keys; the store keeps the result only, so `flows.ledger_check` compares
the two without them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from audit.event import format_at

if TYPE_CHECKING:
    from flows.runtime import Runtime

RUN_KEYS = ("started_at", "duration_ms", "flow_run", "worker")


@dataclass(frozen=True)
class StageRun:
    started_at: datetime
    flow_run: str | None
    worker: str
    _started: float  # perf_counter: the runtime clock may be fixed (tests) or move (replay)

    @classmethod
    def start(cls, rt: Runtime) -> StageRun:
        return cls(rt.clock(), rt.flow_run_id(), rt.worker, time.perf_counter())

    def fields(self) -> dict[str, Any]:
        """The run's keys for the stage's event, its duration measured now."""
        return {"started_at": format_at(self.started_at), "flow_run": self.flow_run, "worker": self.worker,
                "duration_ms": round((time.perf_counter() - self._started) * 1000)}


def without_run(detail: Mapping[str, Any]) -> dict[str, Any]:
    """An event's detail as the store keeps it: without the run's keys."""
    return {key: value for key, value in detail.items() if key not in RUN_KEYS}


# Records that make a resume safe (see flows.stages); they have no ledger event of their own.
SUB_RECORDS = frozenset({"store:sealed", "deliver:link"})


def lost_with_staging(stage: str) -> bool:
    """Whether a `staging_lost` event forgets `stage` (flows.stages._restage), so it may be done again."""
    return stage.startswith("extract:") or stage in ("redact", "review", "package")
