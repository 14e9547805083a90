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
