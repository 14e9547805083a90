"""`dsar audit replay`: a request's timeline from the ledger, joined with Prefect's flow and task runs.

The ledger is the record: every line of the timeline is one of its events.
Prefect's state of the run or task that did a stage stands beside the stage's
`<stage>_done` / `stage_failed` event (the event names its flow run). The
stored package is hashed (streamed) and compared with the ledger's hash while
it exists. Nothing personal is read: the ledger holds ids, counts and hashes,
and Prefect's runs only the request id.

JSON keys (format "dsar-replay/1"; stable, new keys may be added):
  request_id, time_zone, generated_at
  in_store      false when the request store has no record of the request (the timeline is the ledger's alone)
  received      {at, right, language, channel}           channel null when the ledger does not say
  identity      {at, method, level, kinds} | null
  sources       [{name, records, skipped, duration_ms, retries, task_state}]   retries/task_state from Prefect
  redaction     {<kind>_replaced: count, ...}
  withheld      {count, review: [{at, decision, by}]}
  package       {manifest_sha256, zip_sha256, stored_sha256, sealing, object_key,
                 check: {status, message}}   status: match | altered | deleted | missing | not_stored
  links         [{at, event, link, downloads_left, expires}]
  downloads     [{at, link, downloads_left}]
  deletion      {at, why} | null                          why "links_dead" is the links' expiry
  extension     {at, months, original_due, new_due, by} | null
  closed        {at, reason} | null
  prefect       {status, note, flow_runs: [{id, name, state, start, end,
                 task_runs: [{name, state, start, end, run_count}]}]}   status: ok | no_runs | unreachable
  events        [{seq, at, actor, action, detail, prefect}]   prefect: {flow_run, flow_state, task, task_state}
                                                                        | null
Times are ISO 8601 UTC ("...Z").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from audit.event import Event, format_at
from flows.errors import RequestNotFound
from flows.prefect_history import FlowRunView, PrefectHistory, TaskRunView, read_history
from flows.runtime import Runtime

FORMAT = "dsar-replay/1"
_CHUNK = 1 << 20
# The Prefect task that runs each ledger stage (flows.fulfil); extract's task run is named per source.
_TASKS = {"identity": "verify-identity", "redact": "redact", "package": "package", "store": "encrypt-and-store",
          "deliver": "deliver"}


@dataclass(frozen=True)
class PackageCheck:
    status: str
    message: str


@dataclass(frozen=True)
class Step:
    event: Event
    flow_run: FlowRunView | None
    task_run: TaskRunView | None


@dataclass(frozen=True)
class Replay:
    request_id: str
    time_zone: str
    generated_at: datetime
    steps: tuple[Step, ...]
    prefect: PrefectHistory
    package: PackageCheck
    in_store: bool  # False: the store has lost the request, and the timeline is the ledger's alone

    def to_json(self) -> dict[str, Any]:
        """The replay for tools; the keys are documented in this module's docstring."""
        return {"format": FORMAT, "request_id": self.request_id, "time_zone": self.time_zone,
                "generated_at": format_at(self.generated_at), "in_store": self.in_store, **_summary(self),
                "prefect": _prefect_json(self.prefect),
                "events": [_step_json(step) for step in self.steps]}

    def lines(self) -> list[str]:
        """The replay for people: a header, Prefect's runs, then one line per ledger event."""
        zone = ZoneInfo(self.time_zone)
        out = [f"Request {self.request_id}; times in UTC and {self.time_zone}",
               f"Package: {self.package.status}: {self.package.message}"]
        if not self.in_store:
            out.append("Store: no record of this request (deleted?): the timeline is the ledger's alone")
        out.append(f"Prefect: {self.prefect.note}" if self.prefect.note else "Prefect: flow runs tagged "
                   f"req:{self.request_id}")
        for run in self.prefect.flow_runs:
            out.append(f"  flow run {run.id} {run.name}: {run.state}, {_when(run.start, zone)} .. "
                       f"{_when(run.end, zone)}, {len(run.task_runs)} task run(s)")
        for step in self.steps:
            event = step.event
            out.append(f"{event.seq:>6}  {_when(event.at, zone)}  {event.actor:<12} {event.action:<26} "
                       f"{_prefect_column(step)}{_describe(event)}")
        return out


def replay(rt: Runtime, request_id: str, api_url: str | None = None) -> Replay:
    """The request's timeline; RequestNotFound when neither the store nor the ledger knows the id. A request
    the store has lost is replayed from the ledger all the same: that is when an auditor needs it most.

    `api_url`: the Prefect API to read runs from (see `read_history`).
    """
    events = list(rt.ledger.events(request_id))  # one request's events: a few dozen
    try:
        rt.store.get(request_id)
        in_store = True
    except RequestNotFound:
        if not events:
            raise
        in_store = False
    history = read_history(request_id, api_url)
    runs = {run.id: run for run in history.flow_runs}
    steps = tuple(_step(event, runs) for event in events)
    return Replay(request_id, rt.config.controller.time_zone, rt.clock(), steps, history, check_package(rt, events),
                  in_store)


def check_package(rt: Runtime, events: Iterable[Event]) -> PackageCheck:
    """The stored package against the sha256 its `store_done` event recorded, hashed as a stream."""
    stored = deleted = None
    for event in events:
        if event.action == "store_done":
            stored = event.detail
        elif event.action == "package_deleted":
            deleted = event.detail
    if stored is None:
        return PackageCheck("not_stored", "no package was stored for this request")
    key, expected = stored["object_key"], stored["sha256"]
    if not rt.storage.exists(key):
        if deleted is None:
            return PackageCheck("missing", f"the stored package is gone but the ledger records no deletion "
                                f"(expected sha256 {expected})")
        why = "after expiry" if deleted.get("why") == "links_dead" else f"({deleted.get('why')})"
        return PackageCheck("deleted", f"package deleted {why}; its sha256 was {expected}")
    digest = hashlib.sha256()
    with rt.storage.open(key) as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        return PackageCheck("altered", f"the stored package's sha256 is {digest.hexdigest()}, the ledger's {expected}")
    return PackageCheck("match", f"the stored package's sha256 matches the ledger's ({expected})")


def _stage(action: str, detail: dict[str, Any]) -> str | None:
    if action == "stage_failed":
        return str(detail.get("stage"))
    return action.removesuffix("_done") if action.endswith("_done") else None


def _task_name(stage: str) -> str | None:
    return f"extract-{stage.removeprefix('extract:')}" if stage.startswith("extract:") else _TASKS.get(stage)


def _step(event: Event, runs: dict[str, FlowRunView]) -> Step:
    stage = _stage(event.action, event.detail)
    run = runs.get(str(event.detail.get("flow_run"))) if stage else None
    if run is None or stage is None:
        return Step(event, run, None)
    wanted = _task_name(stage)
    # Prefect names a task run "<task>-<3 hex>", except where fulfil names it (extract-<source>).
    tasks = [t for t in run.task_runs if t.name == wanted or t.name.rsplit("-", 1)[0] == wanted]
    return Step(event, run, tasks[-1] if tasks else None)


def _prefect_column(step: Step) -> str:
    """Prefect's state of the task (or else the flow run) that did this event, for the text replay."""
    if step.task_run is not None:
        task = step.task_run
        retries = f", {task.retries} retr{'y' if task.retries == 1 else 'ies'}" if task.retries else ""
        return f"[Prefect task {task.name}: {task.state}{retries}]  "
    if step.flow_run is not None:
        return f"[Prefect flow run {step.flow_run.name}: {step.flow_run.state}]  "
    return ""


def _describe(event: Event) -> str:
    """The event's detail in one line, without the run keys the Prefect column shows better."""
    detail = {k: v for k, v in sorted(event.detail.items()) if k not in ("flow_run", "worker", "started_at")}
    return " ".join(f"{k}={json.dumps(v, separators=(',', ':')) if isinstance(v, list | dict) else v}"
                    for k, v in detail.items())


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return "-"
    local = at.astimezone(zone)
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z ({local:%H:%M:%S %Z})"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else format_at(at)


def _summary(r: Replay) -> dict[str, Any]:
    out: dict[str, Any] = {"received": None, "identity": None, "sources": [], "redaction": {},
                           "withheld": {"count": 0, "review": []}, "package": None, "links": [], "downloads": [],
                           "deletion": None, "extension": None, "closed": None}
    package: dict[str, Any] = {}
    for step in r.steps:
        e, d, at = step.event, step.event.detail, format_at(step.event.at)
        if e.action == "received":
            out["received"] = {"at": at, "right": d.get("right"), "language": d.get("language"),
                               "channel": d.get("channel")}
        elif e.action == "identity_verified":
            out["identity"] = {"at": at, "method": d.get("method"), "level": d.get("level"), "kinds": d.get("kinds")}
        elif e.action.startswith("extract:") and e.action.endswith("_done"):
            task = step.task_run
            out["sources"].append({"name": d.get("source"), "records": d.get("records"), "skipped": d.get("skipped"),
                                   "duration_ms": d.get("duration_ms"), "retries": task.retries if task else None,
                                   "task_state": task.state if task else None})
        elif e.action == "redact_done":
            out["redaction"] = {k: v for k, v in sorted(d.items()) if k.endswith("_replaced")}
        elif e.action == "review_requested":
            out["withheld"]["count"] = len(d.get("withheld") or [])
        elif e.action in ("review_approved", "review_rejected"):
            out["withheld"]["review"].append({"at": at, "decision": e.action.removeprefix("review_"),
                                              "by": d.get("by")})
        elif e.action == "package_done":
            package |= {"manifest_sha256": d.get("manifest_sha256"), "zip_sha256": d.get("zip_sha256")}
            out["withheld"]["count"] = max(out["withheld"]["count"], d.get("withheld") or 0)
        elif e.action == "store_done":
            package |= {"stored_sha256": d.get("sha256"), "sealing": d.get("sealing"),
                        "object_key": d.get("object_key")}
        elif e.action in ("deliver_done", "link_reissued"):
            out["links"].append({"at": at, "event": e.action, "link": d.get("link"),
                                 "downloads_left": d.get("downloads_left"),
                                 "expires": d.get("link_expires") or d.get("expires")})
        elif e.action == "download":
            out["downloads"].append({"at": at, "link": d.get("link"), "downloads_left": d.get("downloads_left")})
        elif e.action == "package_deleted":
            out["deletion"] = {"at": at, "why": d.get("why")}
        elif e.action == "extended":
            out["extension"] = {"at": at, "months": d.get("months"), "original_due": d.get("original_due"),
                                "new_due": d.get("new_due"), "by": d.get("by")}
        elif e.action == "closed":
            out["closed"] = {"at": at, "reason": d.get("reason")}
    out["package"] = {"manifest_sha256": None, "zip_sha256": None, "stored_sha256": None, "sealing": None,
                      "object_key": None, **package,
                      "check": {"status": r.package.status, "message": r.package.message}}
    return out


def _prefect_json(history: PrefectHistory) -> dict[str, Any]:
    return {"status": history.status, "note": history.note, "flow_runs": [
        {"id": run.id, "name": run.name, "state": run.state, "start": _iso(run.start), "end": _iso(run.end),
         "task_runs": [{"name": t.name, "state": t.state, "start": _iso(t.start), "end": _iso(t.end),
                        "run_count": t.run_count} for t in run.task_runs]}
        for run in history.flow_runs]}


def _step_json(step: Step) -> dict[str, Any]:
    e = step.event
    prefect = None if step.flow_run is None else {
        "flow_run": step.flow_run.id, "flow_state": step.flow_run.state,
        "task": step.task_run.name if step.task_run else None,
        "task_state": step.task_run.state if step.task_run else None}
    return {"seq": e.seq, "at": format_at(e.at), "actor": e.actor, "action": e.action, "detail": e.detail,
            "prefect": prefect}
