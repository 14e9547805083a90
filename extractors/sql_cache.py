"""Engines and reflected tables kept for the life of the process, shared by every SqlSource.

The warm worker builds a new source per request (make_source), so an instance
attribute would not outlive a request: reflecting a dozen tables cost most of a
lookup's time. Engines are kept per URL (one connection pool each, checked
with a ping before use so a restarted database does not fail the next request);
reflected tables per (URL, tables). A table that is missing or has no primary
key is never cached, so the error comes back on every call until it is fixed.
A schema change (a column added) is seen after `forget()` or a restart; a query
that fails forgets its entry, so a dropped column heals on the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, Table, create_engine
from sqlalchemy.engine import URL

Names = tuple[tuple[str | None, str], ...]  # (schema, table) of each configured table

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
Reflected = dict[tuple[str | None, str], Table]
_tables: dict[tuple[str, Names], Reflected] = {}


def _key(url: URL) -> str:
    # Kept in memory only: two URLs differing in password are two pools.
    return url.render_as_string(hide_password=False)


def engine(url: URL) -> Engine:
    """The process's engine for `url`; create_engine's errors (unknown dialect, missing driver) pass through."""
    key = _key(url)
    with _lock:
        if key not in _engines:
            _engines[key] = create_engine(url, pool_pre_ping=True)
        return _engines[key]


def tables(url: URL, names: Names, reflect: Callable[[], Reflected]) -> Reflected:
    """The reflected tables `names` of `url`: `reflect()` runs on first use only, and what it raises passes."""
    key = (_key(url), names)
    with _lock:
        found = _tables.get(key)
    if found is None:
        # Outside the lock: reflection talks to the database. Two first requests may both reflect; one wins.
        found = reflect()
        with _lock:
            found = _tables.setdefault(key, found)
    return found


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
