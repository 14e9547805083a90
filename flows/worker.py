"""`dsar worker`: a warm process that runs the deployments' flow runs in its own threads.

Prefect's process worker starts a new Python for every flow run, which pays
Prefect's import and client start-up (seconds) per request. This worker polls
the same process work pool, claims a scheduled run the way Prefect's workers do
(Scheduled -> Pending, which the server grants to one claimant only), and runs
it with `run_flow` in a thread of this process: imports, the config, database
engines and HTTP clients are paid for once. Either kind of worker can serve the
pool; runs that this one cannot execute (an unknown flow) are left to others.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import Abort, ObjectNotFound
from prefect.flow_engine import run_flow
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY
from prefect.settings.context import temporary_settings
from prefect.states import Pending
from prefect.utilities.engine import propose_state

from flows.deployments import apply_deployments, ensure_pool, flows_by_name
from flows.errors import InvalidRequest
from flows.local_api import find_local_api, remove_worker_file, start_server, write_worker_file
from flows.passphrases import keep_spares

logger = logging.getLogger("dsar.worker")
_MAX_PAUSE = 30.0  # seconds between tries while the Prefect API does not answer


@dataclass
class WarmWorker:
    """Claims and runs scheduled flow runs of `pool` whose flow is in `flows` (by flow name)."""

    pool: str
    flows: Mapping[str, Flow[..., Any]]
    slots: int = 2
    poll_seconds: float = 0.1
    _running: set[UUID] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Poll and run until `stop()`; blocks."""
        with ThreadPoolExecutor(self.slots, thread_name_prefix="dsar-run") as executor:
            asyncio.run(self._loop(executor))

    async def _loop(self, executor: ThreadPoolExecutor) -> None:
        flow_names: dict[UUID, str] = {}
        pause = self.poll_seconds
        while not self._stop.is_set():
            try:
                async with get_client() as client:
                    while not self._stop.is_set():
                        await self._poll(client, executor, flow_names)
                        pause = self.poll_seconds
                        await asyncio.sleep(pause)
            except Exception as exc:  # a Prefect restart, a network blip, a 500: the worker waits and goes on
                pause = min(pause * 2, _MAX_PAUSE)
                logger.warning("Prefect API unavailable (%s); trying again in %.1f s", type(exc).__name__, pause)
                await asyncio.sleep(pause)

    async def _poll(self, client: PrefectClient, executor: ThreadPoolExecutor, flow_names: dict[UUID, str]) -> None:
        free = self.slots - len(self._running)
        if free <= 0:
            return
        for flow_run in await self._scheduled(client, free):
            if flow_run.flow_id not in flow_names:
                flow_names[flow_run.flow_id] = await self._flow_name(client, flow_run)
            flow = self.flows.get(flow_names[flow_run.flow_id])
            if flow is None or not await self._claim(client, flow_run):
                continue
            with self._lock:
                self._running.add(flow_run.id)
            # The run's thread sees this thread's settings (the API URL above all), not the
            # process's defaults, which would start a temporary server of its own.
            executor.submit(contextvars.copy_context().run, self._execute, flow, flow_run)

    async def _flow_name(self, client: PrefectClient, flow_run: FlowRun) -> str:
        """The run's flow's name; "" (a flow no worker here runs) for one the API no longer knows."""
        try:
            return (await client.read_flow(flow_run.flow_id)).name
        except ObjectNotFound:
            return ""

    async def _scheduled(self, client: PrefectClient, limit: int) -> list[FlowRun]:
        try:
            responses = await client.get_scheduled_flow_runs_for_work_pool(
                self.pool, scheduled_before=datetime.now(UTC))
        except ObjectNotFound:
            return []
        return [r.flow_run for r in responses][:limit]

    async def _claim(self, client: PrefectClient, flow_run: FlowRun) -> bool:
        """Scheduled -> Pending: the server grants it to one worker only."""
        try:
            state = await propose_state(client, Pending(), flow_run_id=flow_run.id)
        except Abort:
            return False
        return state.is_pending()

    def _execute(self, flow: Flow[..., Any], flow_run: FlowRun) -> None:
        try:
            # A heartbeat thread would hold every run's end for up to a second; claims have their own lease.
            with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                run_flow(flow, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
        except BaseException:  # the engine has recorded the state; the worker lives on
            logger.exception("flow run %s ended with an error", flow_run.id)
        finally:
            with self._lock:
                self._running.discard(flow_run.id)


async def _prepare(config_path: Path, pool: str, deploy: bool) -> None:
    await ensure_pool(pool)
    if deploy:
        await apply_deployments(config_path, pool)


def serve(config_path: Path, pool: str, slots: int, poll_seconds: float,
          announce: Callable[[str], None], record_task_runs: bool = False) -> None:
    """Serve `pool` with a warm worker until SIGTERM or Ctrl-C.

    Without `PREFECT_API_URL` this is the embedded default: a Prefect server started here (it stops with the
    worker), with the deployments applied to it. With a Prefect server of the team's, deployments come from
    `prefect deploy` (infra/prefect.yaml) and the worker only serves the pool (creating it if missing).
    """
    server = None
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        announce("starting a Prefect server on loopback...")
        running = find_local_api(config_path.parent)
        if running is not None:
            raise InvalidRequest(f"a dsar worker already runs for this config (pid {running.worker_pid}, "
                                 f"{running.ui_url}); stop it first, or give this one PREFECT_API_URL")
        server, url = start_server(config_path.parent / "prefect", record_task_runs)
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            asyncio.run(_prepare(config_path, pool, deploy=server is not None))
            keep_spares(1)  # sealing then never waits for scrypt
            worker = WarmWorker(pool, flows_by_name(), slots=slots, poll_seconds=poll_seconds)
            signal.signal(signal.SIGTERM, lambda *_: worker.stop())
            record = server is not None
            if record:
                write_worker_file(config_path.parent, url)
            announce(f"dsar worker: pool {pool}, {slots} run(s) at a time, Prefect API {url}"
                     + (f", UI {url.removesuffix('/api')}" if server is not None else ""))
            try:
                worker.run()
            except KeyboardInterrupt:
                worker.stop()
            finally:
                if record:
                    remove_worker_file(config_path.parent)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
