"""Ledger appends under 4 concurrent writers, with and without the checkpoint anchor, and verify time per 10k events.

    .venv/bin/python bench/bench_ledger.py [--events 400] [--verify-events 10000] [--json]

Appends: 4 threads, each with its own engine and `Ledger` (as 4 flows in separate
processes would have: they race for the next seq and retry), each appending
`--events` events of its own request, on a SQLite file (WAL, as the store opens
it) and on a throwaway PostgreSQL server when initdb/pg_ctl are here. Three
runs over the same rows:

- baseline: plain INSERTs of the same rows into a table of the same shape,
  one transaction each, no hash, no signature, no chain;
- ledger: `append_event` (hash chain + Ed25519 signature, seq race handled);
- ledger + checkpoint: the same with the checkpoint file written after every
  append (signed head, flock, temp file + rename, fsync).

Verify: `--verify-events` events are written in one transaction, then read
back in seq order and checked by `verify_ledger` and by `check_anchored`
against the checkpoint, against a baseline that reads the same rows and
computes only the sha256 of each event's canonical bytes (hashlib).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, insert, select  # noqa: E402

from audit import signing  # noqa: E402
from audit.anchor import sign_head  # noqa: E402
from audit.anchored import check_anchored  # noqa: E402
from audit.event import ZERO_HASH, Event, canonical_json, event_hash, format_at  # noqa: E402
from audit.ledger import Ledger, events_table  # noqa: E402
from audit.verify import verify_ledger  # noqa: E402
from flows.checkpoint import CheckpointAnchor  # noqa: E402
from flows.store import make_engine  # noqa: E402

WRITERS = 4
DETAIL = {"stage": "extract:customers", "records": 42, "duration_ms": 1234, "sources": ["crm", "support_mail"]}

_plain = MetaData()
plain_table = Table(
    "plain_events", _plain,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", String(32)), Column("request_id", String(100)), Column("actor", String(100)),
    Column("action", String(100)), Column("detail", Text),
)


def _concurrently(work: Callable[[int], None]) -> float:
    """Seconds for WRITERS threads to each run `work(writer)`; a writer's error fails the run."""
    errors: list[BaseException] = []

    def run(writer: int) -> None:
        try:
            work(writer)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - start
    if errors:
        raise errors[0]
    return took


def _appends(url: str, events: int, tmp: Path) -> dict[str, Any]:
    key = signing.generate_key()
    checkpoint = tmp / "ledger-head.json"
    setup = make_engine(url)
    _plain.create_all(setup)
    Ledger(setup)  # the table, before the writers race to create it
    setup.dispose()

    def baseline(writer: int) -> None:
        engine = make_engine(url)
        for _ in range(events):
            with engine.begin() as conn:
                conn.execute(insert(plain_table).values(at=format_at(datetime.now(UTC)), request_id=f"REQ-{writer}",
                                                        actor="bench", action="stage_done",
                                                        detail=canonical_json(DETAIL)))
        engine.dispose()

    def ledger(anchored: bool) -> Callable[[int], None]:
        def work(writer: int) -> None:
            engine = make_engine(url)
            anchors = [CheckpointAnchor(checkpoint, signing.public_key(key))] if anchored else []
            appender = Ledger(engine, key, anchors)
            for _ in range(events):
                appender.append_event(f"REQ-{writer}", "bench", "stage_done", DETAIL)
            engine.dispose()
        return work

    total = WRITERS * events
    timings = {"baseline_plain_insert": _concurrently(baseline), "ledger": _concurrently(ledger(False)),
               "ledger_checkpoint": _concurrently(ledger(True))}
    engine = make_engine(url)
    count = verify_ledger(Ledger(engine).events(), signing.public_key(key))
    engine.dispose()
    if count != 2 * total:
        raise SystemExit(f"the ledger holds {count} verified events, not {2 * total}")
    return {"writers": f"{WRITERS} threads, one engine and Ledger each", "events": total,
            **{f"{name}_events_per_s": round(total / took) for name, took in timings.items()}}


def _verify(url: str, events: int, tmp: Path) -> dict[str, Any]:
    key = signing.generate_key()
    engine = make_engine(url)
    Ledger(engine)
    at0, prev, rows = datetime(2026, 1, 1, tzinfo=UTC), ZERO_HASH, []
    for seq in range(1, events + 1):
        at = at0 + timedelta(seconds=seq)
        digest = event_hash(seq, at, f"REQ-{seq % 97}", "bench", "stage_done", DETAIL, prev)
        rows.append({"seq": seq, "at": format_at(at), "request_id": f"REQ-{seq % 97}", "actor": "bench",
                     "action": "stage_done", "detail": canonical_json(DETAIL), "prev_hash": prev, "hash": digest,
                     "sig": signing.sign(key, bytes.fromhex(digest)).hex()})
        prev = digest
    with engine.begin() as conn:
        conn.execute(insert(events_table), rows)
    head = sign_head(key, Event(events, at0, "", "", "", {}, "", prev, ""))  # the last seq and its hash
    del rows
    ledger, public = Ledger(engine), signing.public_key(key)

    start = time.perf_counter()
    for event in ledger.events():  # the same rows read the same way, only hashed
        body = {"seq": event.seq, "at": format_at(event.at), "request_id": event.request_id, "actor": event.actor,
                "action": event.action, "detail": event.detail, "prev_hash": event.prev_hash}
        hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    verified = verify_ledger(ledger.events(), public)
    chain = time.perf_counter() - start
    start = time.perf_counter()
    report = check_anchored(ledger.events(), public, [("checkpoint", head)])
    anchored = time.perf_counter() - start
    with engine.connect() as conn:  # the read alone
        start = time.perf_counter()
        read = sum(1 for _ in conn.execute(select(events_table)))
        read_s = time.perf_counter() - start
    engine.dispose()
    if verified != events or report.problems or read != events:
        raise SystemExit("the verify bench's ledger did not verify")
    per_10k = 10_000 / events
    return {"events": events, "read_rows_s_per_10k": round(read_s * per_10k, 3),
            "baseline_sha256_s_per_10k": round(baseline * per_10k, 3),
            "verify_ledger_s_per_10k": round(chain * per_10k, 3),
            "check_anchored_s_per_10k": round(anchored * per_10k, 3)}


def measure(url: str, events: int, verify_events: int, tmp: Path) -> dict[str, Any]:
    appends = _appends(url, events, tmp)
    engine = make_engine(url)
    with engine.begin() as conn:  # the verify bench writes its own ledger from seq 1
        conn.execute(events_table.delete())
    engine.dispose()
    return {"appends": appends, "verify": _verify(url, verify_events, tmp)}


def _postgres(events: int, verify_events: int, tmp: Path) -> dict[str, Any]:
    from tests.support import on_postgres

    return on_postgres(lambda url: measure(url, events, verify_events, tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400, help="events appended by each of the 4 writers")
    parser.add_argument("--verify-events", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sqlite").mkdir()
        (Path(tmp) / "pg").mkdir()
        results["sqlite"] = measure(f"sqlite:///{tmp}/sqlite/ledger.db", args.events, args.verify_events,
                                    Path(tmp) / "sqlite")
        results["postgresql"] = _postgres(args.events, args.verify_events, Path(tmp) / "pg")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for backend, r in results.items():
        if "skipped" in r:
            print(f"{backend}: skipped: {r['skipped']}")
            continue
        a, v = r["appends"], r["verify"]
        print(f"{backend}: {a['events']} appends by {a['writers']}")
        print(f"  baseline, plain unsigned INSERTs: {a['baseline_plain_insert_events_per_s']:7d} events/s")
        print(f"  ledger (chain + signature):       {a['ledger_events_per_s']:7d} events/s")
        print(f"  ledger + checkpoint file:         {a['ledger_checkpoint_events_per_s']:7d} events/s")
        print(f"  verify, per 10k events (of {v['events']}): read rows {v['read_rows_s_per_10k']} s, "
              f"baseline sha256 only {v['baseline_sha256_s_per_10k']} s, verify_ledger "
              f"{v['verify_ledger_s_per_10k']} s, with the checkpoint {v['check_anchored_s_per_10k']} s")


if __name__ == "__main__":
    main()
