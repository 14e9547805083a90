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
import time
from contextlib import nullcontext
from functools import lru_cache
from typing import Any
from uuid import UUID

import httpx
from prefect import flow, get_client, get_run_logger, tags, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from prefect.input.run_input import keyset_from_paused_state
from prefect.runtime import deployment, flow_run
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY
from prefect.settings.context import temporary_settings
from prefect.states import Crashed, Suspended

from flows import claims, stages, sweeper
from flows import review as reviewing
from flows.deadline_watch import watch_deadlines
from flows.errors import StageFailed
from flows.limits import ensure_concurrency_limits, limit_name, retry_options
from flows.local_api import own_api_url
from flows.runtime import Runtime, open_runtime
from flows.team_mail import tell_failure
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
    return _runtime(path, _modified_ns(path))


def _modified_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0  # open_runtime names the missing file


# Every task keeps its result private: neither persisted nor cached.
@task(name="verify-identity", persist_result=False, cache_policy=NO_CACHE)
def verify_identity(request_id: str) -> dict[str, Any]:
    return stages.verify_identity(runtime(), request_id)


# Retries come per source from its config (flows.limits.retry_options).
@task(name="extract", task_run_name="extract-{source}", persist_result=False, cache_policy=NO_CACHE)
def extract(request_id: str, source: str) -> dict[str, Any]:
    rt = runtime()
    spec = next(s for s in rt.config.sources if s.name == source)
    # A stage done before (a resumed request) needs no slot: waiting behind other requests for a no-op helps nobody.
    limited = spec.run.concurrency is not None and rt.store.stage_done(request_id, f"extract:{source}") is None
    with concurrency(limit_name(source), occupy=1, strict=True) if limited else nullcontext():
        return stages.extract(rt, request_id, source)


@task(name="redact", persist_result=False, cache_policy=NO_CACHE)
def redact(request_id: str) -> dict[str, Any]:
    return stages.redact(runtime(), request_id)


@task(name="review", persist_result=False, cache_policy=NO_CACHE)
def review(request_id: str) -> dict[str, Any]:
    return reviewing.review(runtime(), request_id)


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
        try:
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(UUID(run_id))
        except (ValueError, ObjectNotFound):  # not a Prefect id, or a run this API never saw
            return None
        return None if run.state is None else run.state.type.value

    def mark_crashed(self, run_id: str, message: str) -> None:
        try:
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(UUID(run_id), Crashed(message=message), force=True)
        except (ValueError, ObjectNotFound, PrefectHTTPStatusError, httpx.HTTPError):
            # The takeover stands (it is on the ledger); only Prefect's UI keeps showing the old run.
            get_run_logger().warning("could not mark flow run %s crashed", run_id)


# How often a process makes sure of its sources' limits in Prefect (~40 ms a time): they change only with the
# config, which a process reads once, but a Prefect server given a new database has lost them.
LIMITS_CHECK_SECONDS = 300


def _ensure_limits() -> None:
    runtime()  # a missing DSAR_CONFIG is named here
    path = os.environ["DSAR_CONFIG"]
    _limits_ensured(path, _modified_ns(path), PREFECT_API_URL.value(), int(time.monotonic() // LIMITS_CHECK_SECONDS))


@lru_cache(maxsize=16)
def _limits_ensured(config_path: str, modified_ns: int, api_url: str | None, period: int) -> None:
    ensure_concurrency_limits(_runtime(config_path, modified_ns).config)


def _tell_team(failure: StageFailed, failure_id: str) -> None:
    try:
        tell_failure(runtime(), failure, failure_id)
    except Exception as exc:  # what the run reports is the request's failure, not the mail's
        get_run_logger().warning("could not mail the privacy team about %s (%s)", failure.request_id,
                                 type(exc).__name__)


def _tag_run(request_id: str) -> None:
    """Tag the run `req:<id>` however it was started (the CLI, a deployment, the Prefect UI): history finds it so."""
    tag = f"req:{request_id}"
    if tag not in flow_run.tags:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, tags=[*flow_run.tags, tag])


def _warn_about_index(detail: dict[str, Any]) -> None:
    """A source searched without a current index is exact but slow: tell the operator what to run."""
    notes = detail.get("notes") or {}
    if notes.get("index") in ("missing", "stale", "rewritten"):
        get_run_logger().warning("source %s: address index %s, %s messages read without it; run `dsar index mail`",
                                 detail["source"], notes["index"], notes.get("scanned", 0))


@flow(name="fulfil_request", flow_run_name="{request_id}", persist_result=False, log_prints=False)
def fulfil_request(request_id: str) -> str:
    """Verify, extract, redact, package, encrypt, store and deliver one request."""
    os.umask(0o077)  # on a worker too, the files it stages hold personal data
    logger = get_run_logger()
    _tag_run(request_id)
    run_id = str(flow_run.id)
    rt = runtime()  # the claim and the passphrase stretched ahead stay with it if the config is edited meanwhile
    try:
        with claims.hold(rt, request_id, run_id, PrefectRuns()) as lease:
            try:
                verify_identity(request_id)
            except StrongerIdentityNeeded as exc:
                # Not a failure: the request waits for the requester to identify with a stronger method.
                logger.info("identity below the minimum level; waiting for %s identification", exc.level)
                return request_id
            stages.stretch_ahead(rt, request_id)
            lease.check()
            _ensure_limits()
            # Trusted sources first, and finished: what they hold about the subject is searched for in the rest.
            for trusted in (True, False):
                futures = [extract.with_options(**retry_options(spec)).submit(request_id, spec.name)
                           for spec in rt.config.sources if spec.trusted is trusted]
                for future in futures:
                    _log_extracted(future.result())
            lease.check()
            summary = redact(request_id)
            logger.info("redaction: %s", {k: v for k, v in summary.items() if isinstance(v, int)})
            lease.check()
            if not _reviewed(request_id):
                return request_id
            for stage in (package, encrypt_and_store, deliver):
                lease.check()
                stage(request_id)
    except StageFailed as failure:
        _tell_team(failure, run_id)  # the privacy team hears of every request that cannot finish
        raise
    finally:
        rt.passphrases.forget(request_id)
    return request_id


def _log_extracted(detail: dict[str, Any]) -> None:
    logger = get_run_logger()
    if "skipped" in detail:
        logger.info("source %s: not searched (%s)", detail["source"], detail["skipped"])
    else:  # counts of identifiers by kind, never their values
        added = f"; identifiers it added {detail['expanded']}" if "expanded" in detail else ""
        logger.info("source %s: %d records (identifiers searched %s)%s", detail["source"], detail["records"],
                    detail.get("searched", {}), added)
        _warn_about_index(detail)


class ReviewDecision(RunInput):
    """The form the Prefect UI shows for a run that awaits review.

    The note is kept in the request store; Prefect's copy of this input is
    deleted once the decision is recorded.
    """

    approve: bool
    staff_id: str
    note: str = ""


_REVIEW_KEY = "review"


def _reviewed(request_id: str) -> bool:
    """Whether the request goes on to packaging.

    A review nobody decided yet ends an in-process run: the request waits as
    `awaiting_review` until `dsar review approve|reject` and another `dsar run`.
    A deployment's run is suspended instead: it leaves its worker and the
    Prefect UI shows the ReviewDecision form. Resuming reschedules the run; it
    re-enters this flow (done stages are skipped) and either finds the decision
    `dsar review` recorded, or gets the form's from suspend_flow_run here.
    """
    if review(request_id)["review"] != "pending":
        return True
    if deployment.id is None:
        get_run_logger().info("awaiting review: dsar review approve|reject, then dsar run")
        return False
    timeout = runtime().config.review.timeout_hours * 3600
    decision = suspend_flow_run(wait_for_input=ReviewDecision, key=_REVIEW_KEY, timeout=timeout)
    try:
        return reviewing.decide(runtime(), request_id, decision.approve, decision.staff_id, decision.note)
    finally:
        forget_review_input(flow_run.id)  # recorded or refused, the note does not stay in Prefect


def forget_review_input(flow_run_id: UUID | str) -> None:
    """Delete the ReviewDecision the Prefect UI sent a suspended run (where suspend_flow_run keeps it)."""
    key = keyset_from_paused_state(Suspended(pause_key=_REVIEW_KEY))["response"]
    with get_client(sync_client=True) as client:
        client.delete_flow_run_input(UUID(str(flow_run_id)), key)


def after_review_decision(request_id: str, approve: bool, staff_id: str) -> int:
    """Let a run of the request that is suspended for review go on: resumed when approved (it packages and
    delivers), cancelled when rejected (the request is failed). How many runs there were; 0 without a Prefect
    server (`PREFECT_API_URL`), where no run can be suspended.

    The decision is already recorded: the resumed run finds it in the store. The input sent carries no note.
    """
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run
    from prefect.settings import PREFECT_API_URL
    from prefect.states import Cancelled

    if not PREFECT_API_URL.value():
        return 0
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[f"req:{request_id}"]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
        for run in runs:
            if approve:
                resume_flow_run(run.id, run_input=ReviewDecision(approve=True, staff_id=staff_id).model_dump())
            else:
                client.set_flow_run_state(run.id, Cancelled(message="review: rejected"), force=True)
    return len(runs)


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


@flow(name="deadline_watch", persist_result=False, log_prints=False)
def deadline_watch() -> dict[str, int]:
    """Mail the privacy team today's digest of overdue and soon-due requests (see flows.deadline_watch).

    No parameters, and counts only in its result and log.
    """
    counts = watch_deadlines(runtime())
    get_run_logger().info("%d overdue, %d due soon; digest mailed: %s", counts.overdue, counts.due_soon, counts.mailed)
    return {"overdue": counts.overdue, "due_soon": counts.due_soon, "mailed": int(counts.mailed)}


def run_request(request_id: str) -> str:
    """Run the flow for one request in this process, tagged `req:<id>` so its history can be found later.

    Without heartbeats: their thread holds every flow's end for up to a second, and the request's claim
    has a lease of its own. Without a Prefect API, on a temporary server of this process's own (see
    flows.local_api.own_api_url: Prefect's can end up writing the run into another process's database).
    """
    api = {} if PREFECT_API_URL.value() else {PREFECT_API_URL: own_api_url()}
    with tags(f"req:{request_id}"), temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, **api}):
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
