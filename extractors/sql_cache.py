"""Engines and reflected tables kept for the life of the process, shared by every SqlSource.

The warm worker builds a new source per request (make_source), so an instance
attribute would not outlive a request, and reflecting a dozen tables cost most of
a lookup's time. Engines are kept per URL: on PostgreSQL one connection pool each,
pinged before use so that a restarted database does not fail the next request;
SQLite opens the file afresh per request, so that a file replaced by a new export
is read, not the old one an open connection still holds. Reflected tables are
kept per (URL, tables) together with a schema fingerprint that one cheap query
reads on every request (SQLite's CREATE statements of the tables; on PostgreSQL the tables' oids
and columns in pg_attribute): a column added or a table recreated is reflected
again, so a request never misses a new column. A table that is missing or has no
primary key is never cached: that error comes back on every call until fixed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from sqlalchemy import Connection, Engine, Table, bindparam, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

Names = tuple[tuple[str | None, str], ...]  # (schema, table) of each configured table
Reflected = dict[tuple[str | None, str], Table]

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_tables: dict[tuple[str, Names], tuple[Hashable, Reflected]] = {}

_PG_FINGERPRINT = text("""
    SELECT count(*), coalesce(sum(hashtext(a.attrelid::text || ' ' || a.attnum || ' ' || a.attname || ' '
                                           || a.atttypid)), 0)
    FROM pg_attribute AS a
    WHERE a.attrelid IN (SELECT to_regclass(n) FROM unnest(CAST(:names AS text[])) AS n)
      AND a.attnum > 0 AND NOT a.attisdropped
""")


_SQLITE_FINGERPRINT = text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN :names ORDER BY name"
).bindparams(bindparam("names", expanding=True))


CONNECT_TIMEOUT = 10  # seconds; a URL's own ?connect_timeout= wins
_CONNECT_TIMEOUT_DRIVERS = ("postgresql", "mysql", "mariadb")  # each takes `connect_timeout` in seconds


def _key(url: URL) -> str:
    # Kept in memory only: two URLs differing in password are two pools.
    return url.render_as_string(hide_password=False)


def engine(url: URL) -> Engine:
    """The process's engine for `url`; create_engine's errors (unknown dialect, missing driver) pass through."""
    key = _key(url)
    with _lock:
        if key not in _engines:
            backend = url.get_backend_name()
            if backend == "sqlite":
                _engines[key] = create_engine(url, poolclass=NullPool)
            else:
                # Without it a server that accepts and never answers holds a check or a request forever.
                timeout = {} if "connect_timeout" in url.query or backend not in _CONNECT_TIMEOUT_DRIVERS else {
                    "connect_timeout": CONNECT_TIMEOUT}
                _engines[key] = create_engine(url, pool_pre_ping=True, connect_args=timeout)
        return _engines[key]


def tables(url: URL, names: Names, conn: Connection, reflect: Callable[[], Reflected]) -> Reflected:
    """The reflected tables `names` of `url`: `reflect()` runs on first use and after a schema change only;
    what it raises passes through."""
    key, version = (_key(url), names), _fingerprint(conn, names)
    with _lock:
        found = _tables.get(key)
    if found is not None and found[0] == version:
        return found[1]
    # Outside the lock: reflection talks to the database. Two first requests may both reflect; both are right.
    reflected = reflect()
    with _lock:
        _tables[key] = (version, reflected)
    return reflected


def _fingerprint(conn: Connection, names: Names) -> Hashable:
    """What changes when the configured tables' columns change; None where the database offers nothing."""
    dialect = conn.dialect
    if dialect.name == "sqlite":
        # The tables' own CREATE statements (ALTER TABLE rewrites them): a file replaced by another with the
        # same number of schema changes (PRAGMA schema_version) may still hold other columns. Only the main
        # database: a config cannot ATTACH others, so a schema-qualified table is not found anyway.
        found = conn.execute(_SQLITE_FINGERPRINT, {"names": sorted({name for _, name in names})})
        return tuple(found)
    if dialect.name == "postgresql":
        quote = dialect.identifier_preparer.quote
        qualified = [f"{quote(schema)}.{quote(name)}" if schema else quote(name) for schema, name in names]
        return tuple(conn.execute(_PG_FINGERPRINT, {"names": qualified}).one())
    return None


def forget(url: URL, names: Names) -> None:
    """Drop one source's reflected tables: the next request reflects again. The engine stays."""
    with _lock:
        _tables.pop((_key(url), names), None)


def clear() -> None:
    """Forget everything and dispose every engine (a benchmark's baseline; tests)."""
    with _lock:
        _tables.clear()
        for each in _engines.values():
            each.dispose()
        _engines.clear()
