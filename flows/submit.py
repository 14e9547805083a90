"""Hand a request to the `fulfil_request` deployment, and follow its run if asked."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from uuid import UUID, uuid4

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES
from prefect.settings.context import temporary_settings

from flows.deployments import deployment_name
from flows.errors import InvalidRequest

# A run that reaches one of these has stopped for now: ended, or waiting for a person (review).
_STOPPED = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.PAUSED}


def submit_request(request_id: str) -> FlowRun:
    """Create a run of the `fulfil_request` deployment for the request; the worker that claims it runs it."""
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(deployment_name("fulfil_request"))
        except ObjectNotFound:
            raise InvalidRequest(
                "the Prefect API has no fulfil_request deployment: start `dsar worker`, or run "
                "`prefect deploy --all --prefect-file infra/prefect.yaml`") from None
    # One key for every try: a 503 that came after the server committed must not make a second run.
    key = f"dsar-submit-{uuid4()}"
    return _soon(lambda client: client.create_flow_run_from_deployment(
        deployment.id, parameters={"request_id": request_id}, tags=[f"req:{request_id}"], idempotency_key=key))


def _soon(call: Callable[[SyncPrefectClient], FlowRun], within: float = 30.0) -> FlowRun:
    """`call` retried every few tens of milliseconds while the server answers 503.

    A Prefect server on SQLite answers 503 while its own services write (just after a run ends, say), and
    Prefect's client waits 2 s, then 4 s, before trying again: most of a warm request's time. The transaction
    that failed was rolled back, so trying again is safe.
    """
    deadline = time.monotonic() + within
    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}), get_client(sync_client=True) as client:
        while True:
            try:
                return call(client)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 503 or time.monotonic() > deadline:
                    raise
            time.sleep(random.uniform(0.02, 0.1))  # noqa: S311 - jitter, not secrecy


def wait_for(flow_run_id: UUID, poll_seconds: float = 0.2,
             progress: Callable[[str], None] | None = None) -> FlowRun:
    """Follow a run until it ends or pauses; `progress` hears each new state's name."""
    seen = None
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(flow_run_id)
            state = flow_run.state
            if state is not None and state.name != seen:
                seen = state.name
                if progress is not None:
                    progress(state.name or state.type.value)
            if state is not None and state.type in _STOPPED:
                return flow_run
            time.sleep(poll_seconds)
