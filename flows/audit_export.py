"""`dsar audit export`: a request's evidence bundle (see audit.bundle) for a regulator to verify offline."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from audit.anchor import Head
from audit.bundle import write_bundle
from audit.event import Event
from exports.request_ids import check_request_id
from flows.errors import InvalidRequest
from flows.replay import Replay, replay
from flows.runtime import Runtime
from flows.secrets import ledger_key


def export_bundle(rt: Runtime, request_id: str, out: Path, head: Head, api_url: str | None = None) -> Path:
    """Write the bundle of `request_id` to `out` (which must not exist, or be empty) and return it.

    `head`: the ledger's latest signed head (the anchor); the chain segment runs from the request's first
    event to it. The bundle appears whole or not at all: it is written beside `out` and renamed.
    """
    try:
        check_request_id(request_id)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidRequest(f"{out} exists and is not an empty directory: choose a new one for the bundle")
    if not out.resolve().parent.is_dir():
        raise InvalidRequest(f"{out.parent} does not exist: make it first, or choose another --out")
    summary = replay(rt, request_id, api_url)  # it has read the request's events: the segment starts at the first
    if not summary.steps:
        raise InvalidRequest(f"{request_id} has no ledger events")
    first, last = summary.steps[0].event.seq, summary.steps[-1].event.seq
    if head.seq < last:
        raise InvalidRequest(f"the ledger head (seq {head.seq}) is older than {request_id}'s last event (seq {last}): "
                             "its checkpoint lags; run dsar audit verify")
    files = {"replay.json": (json.dumps(summary.to_json(), indent=2, sort_keys=True) + "\n").encode("utf-8"),
             "replay.html": render_html(summary).encode("utf-8")}
    parent = out.resolve().parent
    try:
        temp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}."))
    except OSError as exc:  # read-only, not ours, a pseudo file system
        raise InvalidRequest(f"cannot write the bundle in {parent}: {exc.strerror}") from None
    try:
        write_bundle(temp, request_id, _segment(rt, first, head.seq), head, ledger_key(rt.config),
                     files, rt.clock())
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return out


def _segment(rt: Runtime, first: int, last: int) -> Iterator[Event]:
    """The ledger's events from seq `first` to `last`, streamed."""
    for event in rt.ledger.events(from_seq=first):
        if event.seq > last:
            return
        yield event


def render_html(summary: Replay) -> str:
    """The replay as one self-contained page: no scripts, nothing loaded, a CSP that admits only its own style."""
    template, css, csp = _template()
    zone = ZoneInfo(summary.time_zone)

    def local(at: str) -> str:  # an ISO 8601 UTC time of the replay's JSON, where the controller is
        return f"{datetime.fromisoformat(at).astimezone(zone):%Y-%m-%d %H:%M:%S %Z}"

    return template.render(r=summary.to_json(), css=css, csp=csp, local=local)


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
        "code{font-size:.85em;word-break:break-all}")


@cache
def _template() -> tuple[Template, Markup, str]:
    env = Environment(loader=PackageLoader("flows", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    css_hash = base64.b64encode(hashlib.sha256(_CSS.encode("utf-8")).digest()).decode("ascii")
    csp = f"default-src 'none'; style-src 'sha256-{css_hash}'; base-uri 'none'; form-action 'none'"
    return env.get_template("replay.html.j2"), Markup(_CSS), csp  # noqa: S704 - our own stylesheet, not input
