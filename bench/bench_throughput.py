"""Requests through warm `dsar worker`s against `dsar run` in-process, on the demo company.

    python bench/bench_throughput.py [--requests 20] [--sequential 10] [--in-process 3] [--json] [--dir DIR]

Baseline, same run: `dsar run REQ` with no worker, as each request ran before
(a fresh process and Prefect's temporary server per request). Then one
embedded `dsar worker` (its own Prefect server on SQLite):
- `median_request_s`: requests one after another, each timed from submission
  (already verified) until the request store says delivered;
- `requests_per_minute["1"]`: `--requests` submitted at once, until the last
  is delivered, through one worker on a Prefect server on PostgreSQL (a
  throwaway one; SQLite when PostgreSQL is not installed), as several workers
  are set up; then a second worker joins and `requests_per_minute["2"]` is the
  same with both;
- `stage_median_s`: each stage's median duration, from the ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.demo.run import demo_company, verified_requests
from flows.local_api import find_local_api
from flows.runtime import Runtime, open_runtime
from tests.flows.warm import PrefectServer, Worker, dsar, prefect_home_env
from tests.support import PostgresServer, free_port, postgres_bindir


def _wait_delivered(rt: Runtime, ids: Iterable[str], timeout: float = 600) -> None:
    waiting, deadline = set(ids), time.monotonic() + timeout
    while waiting:
        for request_id in list(waiting):
            status = rt.store.get(request_id).status
            if status == "delivered":
                waiting.discard(request_id)
            elif status == "failed":
                raise SystemExit(f"{request_id} failed: {rt.store.get(request_id).reason}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(waiting)} request(s) not delivered within {timeout:.0f} s")
        time.sleep(0.005)


def _stage_medians(rt: Runtime, ids: Iterable[str]) -> dict[str, float]:
    """Each stage's median duration: the ledger's duration_ms where recorded, else the gap to the event before."""
    durations: dict[str, list[float]] = {}
    for request_id in ids:
        before = None
        for event in rt.ledger.events(request_id):
            if event.action.endswith("_done"):
                stage = event.action.removesuffix("_done").split(":")[0]
                ms = event.detail.get("duration_ms")
                seconds = ms / 1000 if isinstance(ms, int | float) else (
                    (event.at - before).total_seconds() if before else None)
                if seconds is not None:
                    durations.setdefault(stage, []).append(seconds)
            before = event.at
    return {stage: round(statistics.median(values), 3) for stage, values in durations.items()}


def _phase_medians(flow_run_ids: Iterable[Any]) -> dict[str, float]:
    """Median seconds from a run's creation (Scheduled) to Pending (a worker claimed it), Running and Completed,
    from Prefect's own state history."""
    from prefect.client.orchestration import get_client

    phases: dict[str, list[float]] = {"claimed": [], "running": [], "completed": []}
    names = {"PENDING": "claimed", "RUNNING": "running", "COMPLETED": "completed"}
    with get_client(sync_client=True) as client:
        for flow_run_id in flow_run_ids:
            states = client.read_flow_run_states(flow_run_id)
            created = min(s.timestamp for s in states)
            for state in states:
                if state.type.value in names:
                    phases[names[state.type.value]].append((state.timestamp - created).total_seconds())
    return {name: round(statistics.median(values), 3) for name, values in phases.items() if values}


async def _deploy(config: Path) -> None:
    from flows.deployments import apply_deployments, ensure_pool

    await ensure_pool()
    await apply_deployments(config)


@contextmanager
def _prefect_server(work: Path) -> Iterator[tuple[str, str]]:
    """A Prefect server of its own, on a throwaway PostgreSQL when initdb is installed, else on SQLite: its API
    URL and which database it runs on."""
    bindir = postgres_bindir()
    postgres = PostgresServer(bindir) if bindir else None
    env = prefect_home_env(work / "server-home")
    if postgres is not None:
        postgres.start()
        postgres.admin("CREATE DATABASE prefect")
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = postgres.url("prefect", driver="postgresql+asyncpg")
    try:
        server = PrefectServer(env, free_port(), work / "server.log")
        try:
            yield server.url, "postgresql" if postgres else "sqlite"
        finally:
            server.stop()
    finally:
        if postgres is not None:
            postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="requests submitted at once per throughput round")
    parser.add_argument("--sequential", type=int, default=10, help="requests timed one after another")
    parser.add_argument("--in-process", type=int, default=3, help="requests run by `dsar run` without a worker")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", type=Path, help="work here instead of a temporary directory")
    args = parser.parse_args()
    say = (lambda line: print(line, file=sys.stderr)) if args.json else print

    work = args.dir or Path(tempfile.mkdtemp(prefix="dsar-bench-throughput-"))
    work.mkdir(parents=True, exist_ok=True)
    env = prefect_home_env(work / "prefect-home")
    needed = args.in_process + 1 + args.sequential + 2 * args.requests  # 1: the warm-up
    with demo_company(work / "demo") as (company, config):
        rt = open_runtime(config)
        emails = iter(company.customer_emails(needed + 1)[1:])
        take = lambda n: verified_requests(rt, [next(emails) for _ in range(n)])  # noqa: E731

        say(f"in-process: `dsar run` x{args.in_process}, each its own process and temporary Prefect server")
        in_process = []
        for request_id in take(args.in_process):
            started = time.perf_counter()
            ran = dsar("run", request_id, "--config", str(config), env=env)
            if ran.returncode != 0:
                raise SystemExit(f"dsar run failed: {ran.stderr[-2000:]}")
            in_process.append(time.perf_counter() - started)

        from prefect.settings import PREFECT_API_URL
        from prefect.settings.context import temporary_settings

        from flows.submit import submit_request

        first = Worker(config, env, work / "worker-1.log")
        try:
            api = find_local_api(config.parent)
            assert api is not None
            with temporary_settings({PREFECT_API_URL: api.url}):
                warm_up = take(1)  # the first run loads what every later one reuses
                submit_request(warm_up[0])
                _wait_delivered(rt, warm_up)
                sequential, timed, runs = [], take(args.sequential), []
                for request_id in timed:
                    started = time.perf_counter()
                    runs.append(submit_request(request_id).id)
                    _wait_delivered(rt, [request_id])
                    sequential.append(time.perf_counter() - started)
                phases = _phase_medians(runs)
        finally:
            first.stop()
        say(f"one warm worker, one at a time: median {statistics.median(sequential):.3f} s")
        say("  median from submission to Pending (claimed) {claimed} s, to Running {running} s, "
            "to Completed {completed} s".format(**phases))

        # Several workers share a Prefect server on PostgreSQL, as the README sets them up: on SQLite the
        # server's write lock, not the workers, would be what is measured.
        with _prefect_server(work) as (api_url, database):
            say(f"throughput through a Prefect server on {database}")
            with temporary_settings({PREFECT_API_URL: api_url}):
                asyncio.run(_deploy(config))
            per_minute: dict[str, float] = {}
            workers: list[Worker] = []
            try:
                for count in (1, 2):
                    workers.append(Worker(config, prefect_home_env(work / "prefect-home", api_url=api_url),
                                          work / f"worker-{database}-{count}.log"))
                    batch = take(args.requests)
                    with temporary_settings({PREFECT_API_URL: api_url}):
                        started = time.perf_counter()
                        for request_id in batch:
                            submit_request(request_id)
                        _wait_delivered(rt, batch)
                    per_minute[str(count)] = round(len(batch) / (time.perf_counter() - started) * 60, 1)
                    say(f"{count} worker(s), {len(batch)} at once: {per_minute[str(count)]} requests per minute")
            finally:
                for worker in workers:
                    worker.stop()

    stage_medians = _stage_medians(rt, timed)
    result: dict[str, Any] = {
        "median_request_s": round(statistics.median(sequential), 3),
        "requests_per_minute": per_minute,
        "in_process_median_s": round(statistics.median(in_process), 3),
        "stage_median_s": stage_medians,
        "phase_median_s": phases,
        "sequential_requests": len(sequential),
        "throughput_prefect_database": database,
        "baseline": "dsar run in-process (a fresh process and Prefect temporary server per request)",
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"\n{'':34}{'median s/request':>18}")
    print(f"{'dsar run, in-process (baseline)':34}{result['in_process_median_s']:>18.3f}")
    print(f"{'one warm dsar worker':34}{result['median_request_s']:>18.3f}")
    print(f"speed-up: {result['in_process_median_s'] / result['median_request_s']:.1f}x")
    print(f"requests per minute: 1 worker {per_minute['1']}, 2 workers {per_minute['2']}")
    print("median per stage (s): " + ", ".join(f"{k} {v}" for k, v in result["stage_median_s"].items()))


if __name__ == "__main__":
    main()
