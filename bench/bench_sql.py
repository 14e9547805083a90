"""SQL extraction on the Fides-shaped schema: reflection cached per process, against reflection per request.

    .venv/bin/python bench/bench_sql.py [--customers 10000] [--lookups 200] [--json]

Builds the schema of tests/extractors/fides_schema.py (customer, address, orders,
order_item, product, payment_card, login, visit, service_request, employee, report)
on a SQLite file, and on a throwaway PostgreSQL server when initdb/pg_ctl are here
(else a note says it was skipped), with the indexes a controller would create.
Then, for the same subjects, one `sql` source expressing the whole schema:

- baseline (today's behaviour before this change): every lookup reflects the
  eleven tables and opens a new engine (the cache is cleared before each);
- cached: a new SqlSource per lookup, as the warm worker builds one per request
  through make_source, reusing the process's engine and reflected tables.

`dsar sources check`'s EXPLAIN verdict is printed too: every query must use an
index, or the timings measure full scans. Both runs must return the same records.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402 - after the path is set

from extractors import sql_cache  # noqa: E402
from extractors.records import Subject  # noqa: E402
from extractors.sql import SqlSource  # noqa: E402
from extractors.sql_check import check_sql_source  # noqa: E402
from tests.extractors import fides_schema  # noqa: E402


def _source(url: str) -> SqlSource:
    return SqlSource("shop", {"url_env": "SHOP_DB_URL", "tables": fides_schema.sql_source_tables()}, Path(),
                     {"SHOP_DB_URL": url})


def _time(url: str, subjects: list[Subject], before_each: Callable[[], None]) -> tuple[float, list[list[str]]]:
    found, elapsed = [], 0.0
    for subject in subjects:
        before_each()
        start = time.perf_counter()
        found.append([r.to_json() for r in _source(url).records(subject)])
        elapsed += time.perf_counter() - start
    return elapsed, found


def measure(url: str, customers: int, lookups: int) -> dict[str, Any]:
    engine = create_engine(url)
    start = time.perf_counter()
    fides_schema.build(engine, customers)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    build_s = time.perf_counter() - start
    step = max(1, customers // lookups)
    subjects = [Subject(fides_schema.customer_email(i)) for i in range(1, customers + 1, step)][:lookups]

    sql_cache.clear()
    checks = check_sql_source(_source(url))
    warnings = [f"{t.table}.{q.column}: {q.index}" for t in checks for q in t.queries if q.index is not None]
    list(_source(url).records(subjects[0]))  # warm: the first request of a process pays once
    cached_s, cached = _time(url, subjects, lambda: None)
    baseline_s, baseline = _time(url, subjects, sql_cache.clear)
    if cached != baseline:
        raise SystemExit("the cached and the baseline runs returned different records")
    return {
        "customers": customers, "lookups": len(subjects), "build_s": round(build_s, 2),
        "records_per_lookup": round(sum(map(len, cached)) / len(cached), 1),
        "baseline_ms_per_lookup": round(1000 * baseline_s / len(subjects), 2),
        "cached_ms_per_lookup": round(1000 * cached_s / len(subjects), 2),
        "speedup": round(baseline_s / cached_s, 2),
        "explain": warnings or "every query uses an index",
    }


def _postgres(customers: int, lookups: int) -> dict[str, Any]:
    import pytest

    from tests.support import PostgresServer, postgres_bindir

    bindir = postgres_bindir()
    if bindir is None:
        return {"skipped": "no PostgreSQL server here (initdb/pg_ctl)"}
    try:
        server = PostgresServer(bindir)
    except pytest.skip.Exception as exc:  # as root without a `postgres` user
        return {"skipped": str(exc)}
    try:
        server.start()
        server.admin("CREATE DATABASE bench")
        return measure(server.url("bench"), customers, lookups)
    finally:
        sql_cache.clear()  # close the pool before the server stops
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(f"sqlite:///{tmp}/shop.db", args.customers, args.lookups)
        sql_cache.clear()
    results["postgresql"] = _postgres(args.customers, args.lookups)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for backend, r in results.items():
        if "skipped" in r:
            print(f"{backend}: skipped: {r['skipped']}")
            continue
        print(f"{backend}: {r['customers']} customers (built in {r['build_s']} s), {r['lookups']} lookups, "
              f"{r['records_per_lookup']} records each")
        print(f"  baseline, reflection per request: {r['baseline_ms_per_lookup']:8.2f} ms per lookup")
        print(f"  cached reflection and engine:     {r['cached_ms_per_lookup']:8.2f} ms per lookup "
              f"({r['speedup']}x faster)")
        print(f"  EXPLAIN: {r['explain']}")


if __name__ == "__main__":
    main()
