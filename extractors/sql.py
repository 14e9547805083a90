"""A relational database read through a declared graph of tables.

The first table is matched on the subject's email (ASCII case only: no Unicode folding); every
later table hangs off an earlier one through a foreign key. Any SQLAlchemy URL
works; a relative SQLite path is resolved against the config's directory.

    url = "sqlite:///customers.db"       # or url_env = "CUSTOMER_DB_URL"
    [[tables]]
    category = "customer"
    table = "customers"
    match_column = "email"
    provided = true
    about_subject = true                 # the subject's own row (matched tables only)
    people_columns = ["first_name", "last_name"]   # every customer's name: redaction knows them as people
    [[tables]]
    category = "orders"
    table = "orders"
    parent = "customers"
    foreign_key = "customer_id"
    parent_key = "id"                    # the default
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, func, make_url, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchTableError,
    OperationalError,
    SQLAlchemyError,
)

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.records import NAME, Record, Subject
from extractors.settings import SourceSettings, parse_settings
from identity.address import ascii_lower

CHUNK = 500  # parent keys per IN (...) and rows per fetch


class TableSettings(SourceSettings):
    category: str = Field(min_length=1)
    table: str = Field(min_length=1)
    match_column: str | None = None
    parent: str | None = None
    foreign_key: str | None = None
    parent_key: str = "id"
    provided: bool = False
    about_subject: bool = False
    # Columns that hold the names of the people in this table (first name, last name): every row's name is
    # one that redaction finds anywhere, even where nothing in the text marks it as a name.
    people_columns: list[str] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _category_is_a_name(cls, value: str) -> str:
        # It becomes a file name in the package.
        if not NAME.fullmatch(value):
            raise ValueError("use lower-case letters, digits, '_' and '-' (at most 63)")
        return value


class SqlSettings(SourceSettings):
    url: str | None = None
    url_env: str | None = None
    tables: list[TableSettings] = Field(min_length=1)


class SqlSource:
    """Yields one record per row of the subject's, in every configured table."""

    def __init__(
        self, name: str, settings: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]
    ) -> None:
        self.name = name
        self._sqlite_file: Path | None = None
        self.settings = parse_settings(SqlSettings, name, settings)
        _check_graph(name, self.settings)
        self._engine = self._make_engine(base_dir, environ)

    def _make_engine(self, base_dir: Path, environ: Mapping[str, str]) -> Engine:
        key, raw = "url", self.settings.url
        if self.settings.url_env is not None:
            key, raw = "url_env", environ.get(self.settings.url_env)
            if not raw:
                raise SourceConfigError(
                    self.name, key, f"environment variable {self.settings.url_env} is not set"
                )
        try:
            url = make_url(raw or "")
        except ArgumentError:
            # The message would repeat the URL, password included.
            raise SourceConfigError(self.name, key, "not a valid SQLAlchemy URL") from None
        self._sqlite_file = _sqlite_file(url)
        if self._sqlite_file is not None and not self._sqlite_file.is_absolute():
            self._sqlite_file = base_dir / self._sqlite_file
            url = url.set(database=str(self._sqlite_file))
        try:
            return create_engine(url)
        except ModuleNotFoundError as exc:
            raise SourceConfigError(self.name, key, f"database driver '{exc.name}' is not installed") from None
        except ArgumentError:
            raise SourceConfigError(self.name, key, f"unknown database dialect '{url.drivername}'") from None

    def records(self, subject: Subject) -> Iterator[Record]:
        with self._connected() as (conn, tables):
            yield from self._walk(conn, tables, subject)

    def people(self) -> Iterator[str]:
        """The name of every person in the tables with `people_columns`, one string per row, streamed."""
        with self._connected() as (conn, tables):
            streaming = conn.execution_options(yield_per=CHUNK)
            for conf, table in zip(self.settings.tables, tables, strict=True):
                if conf.people_columns:
                    for row in streaming.execute(select(*(table.c[c] for c in conf.people_columns))):
                        name = " ".join(str(v) for v in row if v)
                        if name.strip():
                            yield name

    @contextmanager
    def _connected(self) -> Iterator[tuple[Connection, list[Table]]]:
        """A connection and the checked tables; database errors become SourceUnavailable naming no values."""
        if self._sqlite_file is not None and not self._sqlite_file.is_file():
            # SQLite would quietly create an empty database instead.
            raise SourceUnavailable(self.name, "database file not found")
        try:
            with self._engine.connect() as conn:
                yield conn, self._reflect(conn)
        except DBAPIError as exc:
            # SQLAlchemy's text carries the bound parameters: the subject's email.
            if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
                raise SourceUnavailable(self.name, "database unreachable") from None
            raise SourceUnavailable(self.name, f"database query failed ({type(exc).__name__})") from None
        except SQLAlchemyError as exc:
            raise SourceUnavailable(self.name, f"database error ({type(exc).__name__})") from None
        finally:
            self._engine.dispose()

    def _reflect(self, conn: Connection) -> list[Table]:
        metadata = MetaData()
        tables: list[Table] = []
        for i, conf in enumerate(self.settings.tables):
            try:
                table = Table(conf.table, metadata, autoload_with=conn, resolve_fks=False)
            except NoSuchTableError:
                raise SourceConfigError(
                    self.name, f"tables.{i}.table", f"no table '{conf.table}' in the database"
                ) from None
            if not table.primary_key.columns:
                raise SourceConfigError(self.name, f"tables.{i}.table", f"table '{conf.table}' has no primary key")
            for key in ("match_column", "foreign_key"):
                column = getattr(conf, key)
                if column is not None and column not in table.c:
                    raise SourceConfigError(
                        self.name, f"tables.{i}.{key}", f"no column '{column}' in table '{conf.table}'"
                    )
            for column in conf.people_columns:
                if column not in table.c:
                    raise SourceConfigError(
                        self.name, f"tables.{i}.people_columns", f"no column '{column}' in table '{conf.table}'"
                    )
            if conf.parent is not None:
                parent = next(t for t in tables if t.name == conf.parent)
                if conf.parent_key not in parent.c:
                    raise SourceConfigError(
                        self.name, f"tables.{i}.parent_key", f"no column '{conf.parent_key}' in table '{conf.parent}'"
                    )
            tables.append(table)
        return tables

    def _walk(self, conn: Connection, tables: list[Table], subject: Subject) -> Iterator[Record]:
        # Key values of the subject's own rows, per (table, column) that a child references.
        wanted = {(c.parent, c.parent_key) for c in self.settings.tables if c.parent is not None}
        keys: dict[tuple[str, str], set[Any]] = {w: set() for w in wanted}
        streaming = conn.execution_options(yield_per=CHUNK)
        for conf, table in zip(self.settings.tables, tables, strict=True):
            pk = list(table.primary_key.columns)
            collect = [(col, keys[(conf.table, col)]) for (t, col) in wanted if t == conf.table]
            if conf.parent is None:
                assert conf.match_column is not None
                # The database narrows (its lower() may fold more than ASCII, on both sides alike); the
                # exact ASCII-case comparison below decides.
                column = table.c[conf.match_column]
                queries = [select(table).where(func.lower(column) == func.lower(subject.email))]
            else:
                assert conf.foreign_key is not None
                fk = table.c[conf.foreign_key]
                parents = _sorted(keys[(conf.parent, conf.parent_key)])
                queries = [
                    select(table).where(fk.in_(parents[i : i + CHUNK])) for i in range(0, len(parents), CHUNK)
                ]
            match = conf.match_column if conf.parent is None else None
            for query in queries:
                for row in streaming.execute(query.order_by(*pk)).mappings():
                    if match is not None and ascii_lower(str(row[match])) != subject.email:
                        # PostgreSQL's lower() folds by locale (a Kelvin sign to k): only ASCII case may differ.
                        continue
                    for col, found in collect:
                        if row[col] is not None:
                            found.add(row[col])
                    yield Record(
                        source=self.name,
                        category=conf.category,
                        key="/".join(str(row[c.name]) for c in pk),
                        data={column: _json_value(value) for column, value in row.items()},
                        provided=conf.provided,
                        about_subject=conf.about_subject,
                    )


def _check_graph(name: str, settings: SqlSettings) -> None:
    """Raise SourceConfigError unless the url and the table graph are well formed."""
    if (settings.url is None) == (settings.url_env is None):
        raise SourceConfigError(name, "url", "set exactly one of url or url_env")
    seen: set[str] = set()
    for i, t in enumerate(settings.tables):
        def bad(key: str, message: str, i: int = i) -> SourceConfigError:
            return SourceConfigError(name, f"tables.{i}.{key}", message)

        if t.table in seen:
            raise bad("table", f"table '{t.table}' is listed twice")
        if t.parent is None:
            if t.match_column is None:
                raise bad("match_column", "missing")
        else:
            if i == 0:
                raise bad("parent", "the first table is matched on the email, not on a parent")
            if t.match_column is not None:
                raise bad("match_column", "set match_column or parent, not both")
            if t.about_subject:
                raise bad("about_subject", "only a table matched on the email describes the subject")
            if t.parent not in seen:
                raise bad("parent", f"'{t.parent}' is not a table listed earlier")
            if t.foreign_key is None:
                raise bad("foreign_key", "missing")
        seen.add(t.table)


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None (another database, memory, a file: URI)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


def _sorted(values: set[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


def _json_value(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no number for them, and strict parsers refuse NaN
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
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
