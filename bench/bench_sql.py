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

The two take turns, subject by subject, so that a busy machine slows both alike.

`dsar sources check`'s EXPLAIN verdict is printed too: every query must use an
index, or the timings measure full scans. Last, the lower(email) indexes are
replaced by plain ones (a schema as many have it) to show what the default
`match_case = "lower"` costs without its index, and that the check names it.
Every run must return the same records.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
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

MIN_ROWS = 100  # report any full scan but of the tiny tables (employee, report): it is index use that is measured


def _source(url: str) -> SqlSource:
    return SqlSource("shop", {"url_env": "SHOP_DB_URL", "tables": fides_schema.sql_source_tables()}, Path(),
                     {"SHOP_DB_URL": url})


def _lookup(url: str, subject: Subject) -> tuple[float, float, list[str]]:
    """Wall and this process's CPU seconds of one lookup, and what it found."""
    wall, cpu = time.perf_counter(), time.process_time()
    found = [r.to_json() for r in _source(url).records(subject)]
    return time.perf_counter() - wall, time.process_time() - cpu, found


def _interleaved(url: str, subjects: list[Subject]) -> tuple[list[float], list[float], list[list[str]]]:
    """[wall, cpu] seconds of the baseline and of the cached lookups, taken in turns so that a busy machine
    slows both alike."""
    baseline_s, cached_s = [0.0, 0.0], [0.0, 0.0]
    found = []
    for subject in subjects:
        sql_cache.clear()  # today's behaviour: a new engine and every table reflected again
        wall, cpu, baseline = _lookup(url, subject)
        baseline_s[0] += wall
        baseline_s[1] += cpu
        wall, cpu, cached = _lookup(url, subject)  # the next request: engine and tables already known
        cached_s[0] += wall
        cached_s[1] += cpu
        if cached != baseline:
            raise SystemExit("the cached and the baseline lookups returned different records")
        found.append(cached)
    return baseline_s, cached_s, found


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
    checks = check_sql_source(_source(url), MIN_ROWS)
    warnings = [f"{t.table}.{q.column}: {q.index}" for t in checks for q in t.queries if q.index is not None]
    baseline_s, cached_s, cached = _interleaved(url, subjects)

    # A schema as many have it: plain indexes on the email columns, none on lower(email).
    with engine.begin() as conn:
        for table, column in fides_schema.LOWER_INDEXED:
            conn.execute(text(f"DROP INDEX {table}_{column}_lower"))
            conn.execute(text(f"CREATE INDEX {table}_{column}_plain ON {table} ({column})"))
        conn.execute(text("ANALYZE"))
    engine.dispose()
    sql_cache.clear()
    unindexed = [f"{t.table}.{q.column}" for t in check_sql_source(_source(url), MIN_ROWS) for q in t.queries
                 if q.index is not None]
    plain_s, plain = 0.0, []
    for subject in subjects:
        took, _, found = _lookup(url, subject)
        plain_s += took
        plain.append(found)
    if plain != cached:
        raise SystemExit("the run without lower() indexes returned different records")
    return {
        "customers": customers, "lookups": len(subjects), "build_s": round(build_s, 2),
        "records_per_lookup": round(sum(map(len, cached)) / len(cached), 1),
        "baseline_ms_per_lookup": round(1000 * baseline_s[0] / len(subjects), 2),
        "cached_ms_per_lookup": round(1000 * cached_s[0] / len(subjects), 2),
        "speedup": round(baseline_s[0] / cached_s[0], 2),
        # This process only: the database server's own work (PostgreSQL) is not in it.
        "baseline_cpu_ms_per_lookup": round(1000 * baseline_s[1] / len(subjects), 2),
        "cached_cpu_ms_per_lookup": round(1000 * cached_s[1] / len(subjects), 2),
        "explain": warnings or "every query uses an index",
        "plain_index_ms_per_lookup": round(1000 * plain_s / len(subjects), 2),
        "plain_index_explain_warns": unindexed,
    }


def _postgres(customers: int, lookups: int) -> dict[str, Any]:
    from tests.support import on_postgres

    return on_postgres(lambda url: measure(url, customers, lookups), before_stop=sql_cache.clear)


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
        print(f"  baseline, reflection per request: {r['baseline_ms_per_lookup']:8.2f} ms per lookup "
              f"(CPU here {r['baseline_cpu_ms_per_lookup']} ms)")
        print(f"  cached reflection and engine:     {r['cached_ms_per_lookup']:8.2f} ms per lookup "
              f"(CPU here {r['cached_cpu_ms_per_lookup']} ms; {r['speedup']}x faster)")
        print(f"  EXPLAIN: {r['explain']}")
        print(f"  cached, plain indexes only:       {r['plain_index_ms_per_lookup']:8.2f} ms per lookup "
              f"(lower() reads whole tables; sources check warns about {', '.join(r['plain_index_explain_warns'])})")


if __name__ == "__main__":
    main()
