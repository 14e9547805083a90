"""What Prefect remembers of a request: its flow runs (tagged `req:<id>`) and their task runs.

Prefect's run names and parameters hold only the request id, so nothing read
here is personal. Prefect is a history an operator may prune or lose; the
ledger is the record. So a Prefect that cannot be reached is a note in the
answer, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterTags
from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES
from prefect.settings.context import temporary_settings

from flows.local_api import own_api_url

# Enough for any real request (a run per resume); one page (the API allows at most 200) bounds what is read.
_MAX_RUNS = 200
_MAX_TASKS = 200


@dataclass(frozen=True)
class TaskRunView:
    name: str
    state: str | None
    start: datetime | None
    end: datetime | None
    run_count: int

    @property
    def retries(self) -> int:
        return max(self.run_count - 1, 0)


@dataclass(frozen=True)
class FlowRunView:
    id: str
    name: str
    state: str | None
    start: datetime | None
    end: datetime | None
    task_runs: tuple[TaskRunView, ...]


@dataclass(frozen=True)
class PrefectHistory:
    """`status`: "ok", "no_runs" (none tagged for the request: pruned, or never run through Prefect) or
    "unreachable" (`note` says why, by the error's type only)."""

    status: str
    note: str
    flow_runs: tuple[FlowRunView, ...] = ()


def read_history(request_id: str, api_url: str | None = None) -> PrefectHistory:
    """The flow runs tagged `req:<request_id>`, oldest first, with their task runs.

    `api_url` is a Prefect server's API; None uses whatever Prefect is set up for here
    (`PREFECT_API_URL`, or a temporary server on `PREFECT_HOME`'s database: flows.local_api.own_api_url).
    """
    try:
        url = api_url or PREFECT_API_URL.value() or own_api_url()
        # One attempt: an auditor waits for an answer, not for Prefect's back-off on a server that is gone.
        with temporary_settings({PREFECT_API_URL: url, PREFECT_CLIENT_MAX_RETRIES: 0}), \
                get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"req:{request_id}"])),
                sort=FlowRunSort.START_TIME_ASC, limit=_MAX_RUNS)
            views = tuple(_flow_run(run, client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=_MAX_TASKS)) for run in runs)
    except Exception as exc:  # any failure of the history is reported, the ledger still replays
        return PrefectHistory("unreachable", f"Prefect API not reachable ({type(exc).__name__}): ledger only")
    if not views:
        return PrefectHistory("no_runs", "Prefect has no flow run tagged for this request (pruned, or run "
                              "without Prefect): ledger only")
    if not any(run.task_runs for run in views):
        return PrefectHistory("ok", "this Prefect server records no task runs (dsar worker without --task-runs): "
                              "flow runs only", views)
    return PrefectHistory("ok", "", views)


def _state(obj: Any) -> str | None:
    return None if obj.state is None else (obj.state.name or obj.state.type.value)


def _flow_run(run: Any, tasks: list[Any]) -> FlowRunView:
    return FlowRunView(str(run.id), run.name, _state(run), run.start_time, run.end_time, tuple(
        TaskRunView(task.name, _state(task), task.start_time, task.end_time, task.run_count) for task in tasks))
