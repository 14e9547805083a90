"""Session-wide set-up: Prefect points at a private home before anything imports it."""

import atexit
import os
import shutil
import tempfile

# Before Prefect is imported anywhere: its home (database, storage) lives in a
# temporary directory that the privacy tests read back.
PREFECT_HOME = tempfile.mkdtemp(prefix="dsar-prefect-home-")
os.environ["PREFECT_HOME"] = PREFECT_HOME
atexit.register(shutil.rmtree, PREFECT_HOME, ignore_errors=True)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_LOGGING_TO_API_BATCH_INTERVAL"] = "0.3"

import itertools  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_api():
    """One Prefect test API for the whole session (it costs ~10 s to start).

    Yields the path of the SQLite database behind it.
    """
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY
    from prefect.settings.context import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60), temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        url = PREFECT_API_DATABASE_CONNECTION_URL.value()
        yield url.split("///", 1)[1] if url and "///" in url else None


POSTGRES_DATABASE = "dsar"
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (Unix socket in a temporary directory only)."""
    from tests.support import PostgresServer, missing, postgres_bindir

    bindir = postgres_bindir()
    if bindir is None:
        missing("a PostgreSQL server (initdb/pg_ctl)")
    server = PostgresServer(bindir)
    try:
        started = time.perf_counter()
        server.start()
        server.admin(f"CREATE DATABASE {POSTGRES_DATABASE}")
        server.startup_seconds = time.perf_counter() - started
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL of the session server's `dsar` database (shared by every test that uses it)."""
    return postgres_server.url(POSTGRES_DATABASE)


@pytest.fixture
def postgres_db(postgres_server) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database of its own, dropped after the test.

    Its time zone is Europe/Helsinki, as on a Finnish controller's server, so that
    a value read back in local time rather than UTC shows.
    """
    name = f"test_{next(_databases)}"
    postgres_server.admin(f"CREATE DATABASE {name}", f"ALTER DATABASE {name} SET timezone TO 'Europe/Helsinki'")
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
