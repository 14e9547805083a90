"""Does every query of a `sql` source use an index? EXPLAIN each one on the live database.

A query that reads a whole table costs time linear in the table: fine for a few
thousand rows, a minute per request at millions. For every table, each matching
query and each query from a parent is planned with placeholder values
(PostgreSQL: EXPLAIN (FORMAT JSON); SQLite: EXPLAIN QUERY PLAN); a full read of a
table holding more than `min_rows` rows (pg_class.reltuples, or count(*)) is
reported with the index that would serve the query. Nothing here reads a
person's data: the plans and the row counts only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, Table, func, select, text

from extractors.errors import ExtractionError
from extractors.records import EMAIL, Finding
from extractors.sql import SqlSource, match_query, parent_query
from extractors.sql_graph import Node

MIN_ROWS = 10_000
_PLACEHOLDER_EMAIL = "dsar-check@example.invalid"


@dataclass(frozen=True)
class QueryCheck:
    """One query of a table: which column it filters on, and whether its plan reads the whole table."""

    column: str
    via: str  # "match", or "parent <table>"
    full_scan: bool
    index: str | None  # the statement that creates the index it lacks (a full scan of a large table), else None


@dataclass(frozen=True)
class TableCheck:
    category: str
    table: str  # schema.table when in a named schema
    rows: int  # estimated
    queries: tuple[QueryCheck, ...]

    @property
    def ok(self) -> bool:
        return all(q.index is None for q in self.queries)


def check_sql_source(source: SqlSource, min_rows: int = MIN_ROWS) -> list[TableCheck]:
    """Plan every query of `source` and return one TableCheck per configured table, in config order.

    Raises what `records()` raises: SourceConfigError for a missing table or column, SourceUnavailable.
    """
    results = []
    with source.connected() as (conn, tables):
        for node in source.graph:
            table = tables[node.full]
            rows = _rows(conn, table)
            checks = []
            for column, via, query, lower in _queries(node, table):
                full = _full_scan(conn, table, query.order_by(*table.primary_key.columns))
                index = _index(conn, table, column, lower) if full and rows > min_rows else None
                checks.append(QueryCheck(column, via, full, index))
            results.append(TableCheck(node.conf.category, node.full, rows, tuple(checks)))
    return results


def sql_findings(source: SqlSource, min_rows: int = MIN_ROWS) -> Iterator[Finding]:
    """`check_sql_source` as `dsar check` lines: one per table, and one per query that reads a large table
    whole (a warning naming the index to create); a missing table or column, or no connection, is an error."""
    try:
        tables = check_sql_source(source, min_rows)
    except ExtractionError as exc:
        yield Finding("error", "database", str(exc).removeprefix(f"source {source.name}: "))
        return
    for table in tables:
        what = f"table {table.table}"
        slow = [q for q in table.queries if q.index is not None]
        for q in slow:
            yield Finding("warning", what, f"reads all {table.rows} rows to match {q.column} ({q.via}); "
                                           f"create the index: {q.index}")
        if not slow:
            scans = sorted({q.column for q in table.queries if q.full_scan})
            how = (f"reads the whole table to match {', '.join(scans)} (fine below {min_rows} rows)" if scans
                   else "every query uses an index")
            yield Finding("ok", what, f"{table.rows} rows; {how}")


def _queries(node: Node, table: Table) -> Iterator[tuple[str, str, Select[Any], bool]]:
    value = _PLACEHOLDER_EMAIL if node.conf.match_kind == EMAIL else "0"
    for column in node.match_columns:
        query = match_query(node, table, column, [value])
        if query is not None:
            yield column, "match", query, node.lower
    for edge in node.edges:
        placeholder = _placeholder(table.c[edge.foreign_key].type)
        yield edge.foreign_key, f"parent {edge.parent}", parent_query(table, edge, [placeholder]), False


def _placeholder(column_type: Any) -> Any:
    """A key value of the column's type: the planner needs one, and no row need hold it."""
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return "0"
    return {int: 0, uuid.UUID: uuid.UUID(int=0), Decimal: Decimal(0), float: 0.0}.get(python_type, "0")


def _full_scan(conn: Connection, table: Table, query: Select[Any]) -> bool:
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "postgresql":
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar_one()
        return any(_reads_all(node, table.name) for node in _plan_nodes(plan[0]["Plan"]))
    if conn.dialect.name == "sqlite":
        # SCAN walks the whole table (or a whole index); SEARCH looks keys up.
        scan = re.compile(rf"SCAN (TABLE )?{re.escape(table.name)}\b")
        return any(scan.match(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    return False  # another database: not checked


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _reads_all(node: dict[str, Any], table: str) -> bool:
    if node.get("Relation Name") != table:
        return False
    # An index scan with no condition walks the whole index (chosen for its order): as slow as a table scan.
    return node["Node Type"] == "Seq Scan" or (
        node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node)


def _rows(conn: Connection, table: Table) -> int:
    if conn.dialect.name == "postgresql":
        name = conn.dialect.identifier_preparer.format_table(table)
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": name})
        found = estimate.scalar_one_or_none()
        if found is not None and found >= 0:  # -1: never analysed
            return int(found)
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _index(conn: Connection, table: Table, column: str, lower: bool) -> str:
    quote = conn.dialect.identifier_preparer
    expression = f"lower({quote.quote(column)})" if lower else quote.quote(column)
    name = quote.quote(f"{table.name}_{column}{'_lower' if lower else ''}_idx")
    return f"CREATE INDEX {name} ON {quote.format_table(table)} ({expression})"
