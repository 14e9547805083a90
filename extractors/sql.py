"""A relational database read through a declared graph of tables.

Each table is found in one or both of two ways: matched on the subject's identifiers
(`match_columns`), or reached from tables listed earlier (`parents`: this table's
`foreign_key` column holds a `parent_key` value of the subject's rows there). A row found
twice (matched and reached, or reached from two parents) is yielded once, by primary key.
Any SQLAlchemy URL works; a relative SQLite path is resolved against the config's directory.

    url = "sqlite:///customers.db"       # or url_env = "CUSTOMER_DB_URL"
    [[tables]]
    category = "customer"
    table = "customer"                   # or "crm.customer"; or schema = "crm" (PostgreSQL schemas)
    match_columns = ["email", "alt_email"]   # any of them; match_column = "email" still works
    match_kind = "email"                 # or "phone" (E.164 as stored), "customer_id": subject.values(kind)
    match_case = "lower"                 # the default for emails; "exact" for other kinds (see below)
    provided = true
    about_subject = true                 # the subject's own row (rows found by matching only)
    people_columns = ["first_name", "last_name"]   # every customer's name: redaction knows them as people
    [[tables]]                           # one parent, the older shorthand
    category = "orders"
    table = "orders"
    parent = "customer"
    foreign_key = "customer_id"          # a column of this table ...
    parent_key = "id"                    # ... holding this column of the parent ("id", the default)
    [[tables]]
    category = "address"
    table = "address"
    parents = [                          # each parent a table listed earlier
      {table = "customer", foreign_key = "id", parent_key = "address_id"},
      {table = "orders", foreign_key = "id", parent_key = "shipping_address_id"},
    ]

Matching and indexes. An email is compared as `lower(column) IN (lower(:address), ...)`
by default (`match_case = "lower"`): customers type their addresses in mixed case
(`Matti.Meikalainen@Example.FI`), and a request that silently misses their row is worse
than a slower one. On PostgreSQL that comparison uses an expression index, which the
controller creates once: `CREATE INDEX ON customer (lower(email))` (SQLite accepts the
same with an index name). Where the column is `citext`, or the application stores
addresses lower-cased, `match_case = "exact"` compares `column IN (:address, ...)` and a
plain index serves. `dsar sources check` runs EXPLAIN on every query and names the index
to create when a large table would be scanned. Whatever the database folds, the final
decision is made here: only ASCII case may differ (PostgreSQL's lower() turns a Kelvin
sign into k).

Tables are reflected once per process and URL (extractors/sql_cache.py); one cheap
query per request notices a schema change and reflects again.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Select, Table, func, literal, make_url, select
from sqlalchemy.engine import URL, RowMapping
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchTableError,
    OperationalError,
    SQLAlchemyError,
)

from extractors import sql_cache
from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.records import EMAIL, Finding, Record, Subject
from extractors.settings import parse_settings
from extractors.sql_graph import Edge, Node, SqlSettings, check_graph
from identity.address import ascii_lower

CHUNK = 500  # parent keys per IN (...) and rows per fetch

Tables = dict[str, Table]  # by a node's full name


class SqlSource:
    """Yields one record per row of the subject's, in every configured table."""

    settings_model = SqlSettings

    def __init__(
        self, name: str, settings: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]
    ) -> None:
        self.name = name
        self._sqlite_file: Path | None = None
        self.settings = parse_settings(SqlSettings, name, settings)
        self.graph = check_graph(name, self.settings)
        self._names = tuple((n.schema, n.name) for n in self.graph)
        self._url = self._make_url(base_dir, environ)
        self._engine = self._make_engine()

    def _make_url(self, base_dir: Path, environ: Mapping[str, str]) -> URL:
        self._url_key, raw = "url", self.settings.url
        if self.settings.url_env is not None:
            self._url_key, raw = "url_env", environ.get(self.settings.url_env)
            if not raw:
                raise SourceConfigError(
                    self.name, self._url_key, f"environment variable {self.settings.url_env} is not set"
                )
        try:
            url = make_url(raw or "")
        except ArgumentError:
            # The message would repeat the URL, password included.
            raise SourceConfigError(self.name, self._url_key, "not a valid SQLAlchemy URL") from None
        self._sqlite_file = _sqlite_file(url)
        if self._sqlite_file is not None and not self._sqlite_file.is_absolute():
            self._sqlite_file = base_dir / self._sqlite_file
            url = url.set(database=str(self._sqlite_file))
        return url

    def _make_engine(self) -> Engine:
        try:
            return sql_cache.engine(self._url)
        except ModuleNotFoundError as exc:
            raise SourceConfigError(
                self.name, self._url_key, f"database driver '{exc.name}' is not installed"
            ) from None
        except ArgumentError:
            raise SourceConfigError(
                self.name, self._url_key, f"unknown database dialect '{self._url.drivername}'"
            ) from None

    def records(self, subject: Subject) -> Iterator[Record]:
        with self.connected() as (conn, tables):
            yield from self._walk(conn, tables, subject)

    def check(self, min_rows: int | None = None) -> Iterator[Finding]:
        """Tables and columns exist, and no query reads a table of more than `min_rows` rows whole
        (`sql_check.MIN_ROWS` by default): EXPLAIN on the live database, no person's data read."""
        from extractors import sql_check  # it imports this module

        yield from sql_check.sql_findings(self, sql_check.MIN_ROWS if min_rows is None else min_rows)

    def people(self) -> Iterator[str]:
        """The name of every person in the tables with `people_columns`, one string per row, streamed."""
        with self.connected() as (conn, tables):
            streaming = conn.execution_options(yield_per=CHUNK)
            for node in self.graph:
                if node.conf.people_columns:
                    table = tables[node.full]
                    for row in streaming.execute(select(*(table.c[c] for c in node.conf.people_columns))):
                        name = " ".join(str(v) for v in row if v)
                        if name.strip():
                            yield name

    @contextmanager
    def connected(self) -> Iterator[tuple[Connection, Tables]]:
        """A connection and the checked tables; database errors become SourceUnavailable naming no values."""
        if self._sqlite_file is not None and not self._sqlite_file.is_file():
            # SQLite would quietly create an empty database instead.
            raise SourceUnavailable(self.name, "database file not found")
        try:
            with self._engine.connect() as conn:
                reflected = sql_cache.tables(self._url, self._names, conn, lambda: self._reflect(conn))
                yield conn, self._checked(reflected)
        except DBAPIError as exc:
            # The schema may have changed under the cached reflection: reflect again next time.
            sql_cache.forget(self._url, self._names)
            # SQLAlchemy's text carries the bound parameters: the subject's email.
            if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
                raise SourceUnavailable(self.name, "database unreachable") from None
            raise SourceUnavailable(self.name, f"database query failed ({type(exc).__name__})") from None
        except SQLAlchemyError as exc:
            raise SourceUnavailable(self.name, f"database error ({type(exc).__name__})") from None

    def _reflect(self, conn: Connection) -> sql_cache.Reflected:
        metadata = MetaData()
        reflected: sql_cache.Reflected = {}
        for node in self.graph:
            try:
                with warnings.catch_warnings():
                    # The lower(email) index this module asks for: its columns and keys are what we need.
                    warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
                    table = Table(node.name, metadata, schema=node.schema, autoload_with=conn, resolve_fks=False)
            except (NoSuchTableError, OperationalError) as exc:
                # SQLite names a schema it has not attached "unknown database": for us, a table not there.
                if isinstance(exc, OperationalError) and not (node.schema and conn.dialect.name == "sqlite"):
                    raise
                raise SourceConfigError(
                    self.name, f"{node.at}.table", f"no table '{node.full}' in the database"
                ) from None
            if not table.primary_key.columns:
                raise SourceConfigError(self.name, f"{node.at}.table", f"table '{node.full}' has no primary key")
            reflected[(node.schema, node.name)] = table
        return reflected

    def _checked(self, reflected: sql_cache.Reflected) -> Tables:
        """The tables by full name, once every configured column is known to exist (checked on every call)."""
        tables = {n.full: reflected[(n.schema, n.name)] for n in self.graph}

        def need(table: str, column: str, key: str) -> None:
            if column not in tables[table].c:
                raise SourceConfigError(self.name, key, f"no column '{column}' in table '{table}'")

        for node in self.graph:
            for column in node.match_columns:
                need(node.full, column, f"{node.at}.{node.match_key}")
            for column in node.conf.people_columns:
                need(node.full, column, f"{node.at}.people_columns")
            for edge in node.edges:
                need(node.full, edge.foreign_key, f"{edge.at}.foreign_key")
                need(edge.parent, edge.parent_key, f"{edge.at}.parent_key")
        return tables

    def _walk(self, conn: Connection, tables: Tables, subject: Subject) -> Iterator[Record]:
        # Key values of the subject's own rows, per (table, column) that a child references.
        keys: dict[tuple[str, str], set[Any]] = {(e.parent, e.parent_key): set() for n in self.graph for e in n.edges}
        streaming = conn.execution_options(yield_per=CHUNK)
        for node in self.graph:
            table = tables[node.full]
            pk = list(table.primary_key.columns)
            collect = [(col, found) for (t, col), found in keys.items() if t == node.full]
            seen: set[tuple[Any, ...]] = set()  # the subject's rows only: small
            for query, matched in queries(node, table, subject.values(node.conf.match_kind), keys):
                for row in streaming.execute(query.order_by(*pk)).mappings():
                    if matched is not None and not matched(row):
                        continue
                    identity = tuple(row[c.name] for c in pk)
                    if identity in seen:
                        continue
                    seen.add(identity)
                    for col, found in collect:
                        if row[col] is not None:
                            found.add(row[col])
                    yield Record(
                        source=self.name,
                        category=node.conf.category,
                        key=_row_key(identity),
                        data={column: _json_value(value) for column, value in row.items()},
                        provided=node.conf.provided,
                        about_subject=node.conf.about_subject and matched is not None,
                    )


Check = Callable[[RowMapping], bool]


def queries(
    node: Node, table: Table, values: Sequence[str], keys: Mapping[tuple[str, str], set[Any]]
) -> Iterator[tuple[Select[Any], Check | None]]:
    """The queries that find a table's rows: one per match column (with the exact check each row must pass),
    then per parent, one per CHUNK of the parent's key values (no check: the keys are the subject's)."""
    for column in node.match_columns:
        query = match_query(node, table, column, values)
        if query is not None:
            yield query, _exact(node, column, values)
    for edge in node.edges:
        parents = _sorted(keys[(edge.parent, edge.parent_key)])
        for i in range(0, len(parents), CHUNK):
            yield parent_query(table, edge, parents[i : i + CHUNK]), None


def match_query(node: Node, table: Table, column: str, values: Sequence[Any]) -> Select[Any] | None:
    """Rows whose `column` holds one of `values`, in a form the column's index (or lower() index) serves."""
    col = table.c[column]
    if node.conf.match_kind != EMAIL:
        values = [v for v in (_as_column_type(col.type, v) for v in values) if v is not None]
    if not values:
        return None
    if node.lower:
        # The database narrows (its lower() may fold more than ASCII, on both sides alike); _exact decides.
        return select(table).where(func.lower(col).in_([func.lower(literal(v)) for v in values]))
    return select(table).where(col.in_(values))


def parent_query(table: Table, edge: Edge, parent_keys: Sequence[Any]) -> Select[Any]:
    return select(table).where(table.c[edge.foreign_key].in_(parent_keys))


def _exact(node: Node, column: str, values: Sequence[str]) -> Check:
    wanted = set(values)
    if node.conf.match_kind == EMAIL:
        # PostgreSQL's lower() folds by locale (a Kelvin sign to k): only ASCII case may differ.
        return lambda row: row[column] is not None and ascii_lower(str(row[column])) in wanted
    return lambda row: row[column] is not None and str(row[column]) in wanted


def _as_column_type(column_type: Any, value: str) -> Any:
    """`value` (a phone, a customer id: text) as the column's Python type, or None when it cannot be one."""
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return value
    try:
        return value if python_type is str else python_type(value)
    except (TypeError, ValueError, ArithmeticError):
        return None


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None (another database, memory, a file: URI)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


def _row_key(identity: tuple[Any, ...]) -> str:
    """A row's key in the package: its primary key, parts joined by '/' and escaped so that ("a/b", "c") and
    ("a", "b/c") stay two keys; a single-column key is its value as before, unless it holds '/' or '%'."""
    return "/".join(str(v).replace("%", "%25").replace("/", "%2F") for v in identity)


def _sorted(values: set[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


def _number(value: Decimal) -> int | float | str:
    """A NUMERIC value as a JSON number of the same value: NUMERIC(12,10)'s 69.4000000000 is 69.4, its scale is
    how the column stores it, not part of the value. Where a double cannot carry every digit (more than 15
    significant ones, say) or an integer has more digits than Python writes, the exact digits as
    text; NaN and infinities as text, as for floats."""
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        # json.dumps writes an int of at most 4300 digits (it raises past that); a numeric holds more.
        return int(value) if value.adjusted() < sys.int_info.default_max_str_digits else f"{value:f}".partition(".")[0]
    number = float(value)
    # Not normalize(): it rounds to the context's 28 digits.
    return number if Decimal(repr(number)) == value else format(value, "f").rstrip("0")


def _json_value(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no number for them, and strict parsers refuse NaN
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    # json, jsonb and array columns arrive as dicts and lists: keep them as JSON.
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)
