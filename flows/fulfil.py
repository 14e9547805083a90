"""The Prefect flow: one run per request, a task per stage.

The only parameter is the request id; tasks look everything else up in the
request store. Results are never persisted and never cached, and every
exception that reaches Prefect was made by `stages.run_stage` from ids and
reasons only, because Prefect copies exception text into its database.
The config file comes from `DSAR_CONFIG`, so workers and the CLI find it alike.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from functools import lru_cache
from typing import Any

from prefect import flow, get_run_logger, tags, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY
from prefect.settings.context import temporary_settings

from flows import stages, sweeper
from flows.errors import RequestBusy
from flows.runtime import Runtime, open_runtime
from identity.errors import StrongerIdentityNeeded


@lru_cache(maxsize=4)
def _runtime(config_path: str, modified_ns: int) -> Runtime:
    rt = open_runtime(config_path)
    rt.flow_run_id = flow_run.get_id  # the ledger names the run of each stage; stages never import Prefect
    return rt


def runtime() -> Runtime:
    """The runtime of `DSAR_CONFIG`, built once per version of the file: a warm worker sees an edited config."""
    path = os.environ.get("DSAR_CONFIG")
    if not path:
        raise RuntimeError("DSAR_CONFIG is not set: the flow cannot find its config file")
    try:
        modified_ns = os.stat(path).st_mtime_ns
    except OSError:
        modified_ns = 0  # open_runtime names the missing file
    return _runtime(path, modified_ns)


# Every task keeps its result private: neither persisted nor cached.
@task(name="verify-identity", persist_result=False, cache_policy=NO_CACHE)
def verify_identity(request_id: str) -> dict[str, Any]:
    return stages.verify_identity(runtime(), request_id)


@task(
    name="extract", task_run_name="extract-{source}", retries=2, retry_delay_seconds=[1, 5],
    persist_result=False, cache_policy=NO_CACHE,
)
def extract(request_id: str, source: str) -> dict[str, Any]:
    return stages.extract(runtime(), request_id, source)


@task(name="redact", persist_result=False, cache_policy=NO_CACHE)
def redact(request_id: str) -> dict[str, Any]:
    return stages.redact(runtime(), request_id)


@task(name="package", persist_result=False, cache_policy=NO_CACHE)
def package(request_id: str) -> dict[str, Any]:
    return stages.package(runtime(), request_id)


@task(name="encrypt-and-store", persist_result=False, cache_policy=NO_CACHE)
def encrypt_and_store(request_id: str) -> dict[str, Any]:
    return stages.encrypt_and_store(runtime(), request_id)


@task(name="deliver", persist_result=False, cache_policy=NO_CACHE)
def deliver(request_id: str) -> dict[str, Any]:
    return stages.deliver(runtime(), request_id)


# How long a run's claim on its request lasts without renewal; renewed before every stage.
RUN_LEASE = timedelta(minutes=60)


def _hold(request_id: str, holder: str) -> None:
    rt = runtime()
    if not rt.store.claim_run(request_id, holder, rt.clock(), RUN_LEASE):
        raise RequestBusy(request_id, int(RUN_LEASE.total_seconds() // 60))


def _tag_run(request_id: str) -> None:
    """Tag the run `req:<id>` however it was started (the CLI, a deployment, the Prefect UI): history finds it so."""
    tag = f"req:{request_id}"
    if tag not in flow_run.tags:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, tags=[*flow_run.tags, tag])


@flow(name="fulfil_request", flow_run_name="{request_id}", persist_result=False, log_prints=False)
def fulfil_request(request_id: str) -> str:
    """Verify, extract, redact, package, encrypt, store and deliver one request."""
    os.umask(0o077)  # on a worker too, the files it stages hold personal data
    logger = get_run_logger()
    _tag_run(request_id)
    holder = str(flow_run.id)
    _hold(request_id, holder)
    try:
        try:
            verify_identity(request_id)
        except StrongerIdentityNeeded as exc:
            # Not a failure: the request waits for the requester to identify with a stronger method.
            logger.info("identity below the minimum level; waiting for %s identification", exc.level)
            return request_id
        stages.stretch_ahead(runtime(), request_id)
        _hold(request_id, holder)
        futures = [extract.submit(request_id, source.name) for source in runtime().config.sources]
        for future in futures:
            detail = future.result()
            if "skipped" in detail:
                logger.info("source %s: not searched (%s)", detail["source"], detail["skipped"])
            else:
                logger.info("source %s: %d records", detail["source"], detail["records"])
        _hold(request_id, holder)
        summary = redact(request_id)
        logger.info("redaction: %s", {k: v for k, v in summary.items() if isinstance(v, int)})
        for stage in (package, encrypt_and_store, deliver):
            _hold(request_id, holder)
            stage(request_id)
    finally:
        runtime().passphrases.forget(request_id)
        runtime().store.release_run(request_id, holder)
    return request_id


@flow(name="expire_packages", persist_result=False, log_prints=False)
def expire_packages() -> dict[str, int]:
    """Delete packages no link can download any more and staging no run will use (see flows.sweeper).

    No parameters, and counts only in its result and log: which requests lost
    what is in the ledger.
    """
    os.umask(0o077)
    counts = sweeper.expire_packages(runtime())
    get_run_logger().info("deleted %d package(s) and %d staging folder(s)",
                          counts.packages_deleted, counts.staging_deleted)
    return {"packages_deleted": counts.packages_deleted, "staging_deleted": counts.staging_deleted}


def run_request(request_id: str) -> str:
    """Run the flow for one request in this process, tagged `req:<id>` so its history can be found later.

    Without heartbeats: their thread holds every flow's end for up to a second, and the request's claim
    has a lease of its own.
    """
    with tags(f"req:{request_id}"), temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return fulfil_request(request_id)


def _without_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = record.exc_text = None
    return True


def quiet_console_tracebacks() -> None:
    """Keep Prefect's tracebacks off the terminal, where dsar prints one line per failure.

    Prefect's API log handler sits on its own loggers and sees the records
    first, so the run's history in Prefect keeps every traceback.
    """
    from prefect.logging.configuration import setup_logging

    setup_logging()
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ == "PrefectConsoleHandler":
            handler.addFilter(_without_traceback)
