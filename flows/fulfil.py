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
from functools import lru_cache
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger, tags, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import claims, stages, sweeper
from flows.runtime import Runtime, open_runtime
from identity.errors import StrongerIdentityNeeded


@lru_cache(maxsize=4)
def _runtime(config_path: str) -> Runtime:
    return open_runtime(config_path)


def runtime() -> Runtime:
    path = os.environ.get("DSAR_CONFIG")
    if not path:
        raise RuntimeError("DSAR_CONFIG is not set: the flow cannot find its config file")
    return _runtime(path)


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


class PrefectRuns:
    """Flow-run states as Prefect's API knows them, for taking over from a run that is gone (flows.claims)."""

    def state(self, run_id: str) -> str | None:
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        try:
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(UUID(run_id))
        except (ValueError, ObjectNotFound):  # not a Prefect id, or a run this API never saw
            return None
        return None if run.state is None else run.state.type.value

    def mark_crashed(self, run_id: str, message: str) -> None:
        import httpx
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
        from prefect.states import Crashed

        try:
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(UUID(run_id), Crashed(message=message), force=True)
        except (ValueError, ObjectNotFound, PrefectHTTPStatusError, httpx.HTTPError):
            # The takeover stands (it is on the ledger); only Prefect's UI keeps showing the old run.
            get_run_logger().warning("could not mark flow run %s crashed", run_id)


@flow(name="fulfil_request", flow_run_name="{request_id}", persist_result=False, log_prints=False)
def fulfil_request(request_id: str) -> str:
    """Verify, extract, redact, package, encrypt, store and deliver one request."""
    os.umask(0o077)  # on a worker too, the files it stages hold personal data
    logger = get_run_logger()
    with claims.hold(runtime(), request_id, str(flow_run.id), PrefectRuns()) as lease:
        try:
            verify_identity(request_id)
        except StrongerIdentityNeeded as exc:
            # Not a failure: the request waits for the requester to identify with a stronger method.
            logger.info("identity below the minimum level; waiting for %s identification", exc.level)
            return request_id
        lease.check()
        futures = [extract.submit(request_id, source.name) for source in runtime().config.sources]
        for future in futures:
            detail = future.result()
            if "skipped" in detail:
                logger.info("source %s: not searched (%s)", detail["source"], detail["skipped"])
            else:
                logger.info("source %s: %d records", detail["source"], detail["records"])
        lease.check()
        summary = redact(request_id)
        logger.info("redaction: %s", {k: v for k, v in summary.items() if isinstance(v, int)})
        for stage in (package, encrypt_and_store, deliver):
            lease.check()
            stage(request_id)
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
    """Run the flow for one request, tagged `req:<id>` so its history can be found later."""
    with tags(f"req:{request_id}"):
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
