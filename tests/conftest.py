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
# Every `dsar` process a test starts without an API starts a temporary Prefect server, which first migrates a fresh
# home's database: with the suite on every core (make test) that outlasts Prefect's default 20 s.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import itertools  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with whole requests through Prefect (marked e2e) first, each module's tests kept together.

    `make test` spreads modules over the cores in this order (pytest-xdist, --dist loadscope
    --no-loadscope-reorder): the long modules start at once and the many short ones fill in around them,
    instead of one long module running alone at the end.
    """
    long = {item.path for item in items if item.get_closest_marker("e2e")}
    items.sort(key=lambda item: item.path not in long)


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


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 and KMS over HTTP on 127.0.0.1, as boto3 talks to AWS (`mock_aws` would not see every call)."""
    from tests.support import free_port, missing

    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        missing("moto's server (pip install 'moto[server]')")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    """Fake AWS credentials in the environment, and no profile or config file of the machine's to wander into."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


_buckets = itertools.count(1)


@pytest.fixture
def s3_bucket(moto_endpoint, aws_env):
    """A fresh bucket and KMS key on the moto server: (endpoint, bucket, kms key id, boto3 S3 client)."""
    import boto3

    from tests.support import S3Bucket

    kms = boto3.client("kms", endpoint_url=moto_endpoint, region_name="eu-north-1")
    key_id = kms.create_key(Description="dsar test packages")["KeyMetadata"]["KeyId"]
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-north-1")
    name = f"dsar-test-{next(_buckets)}-{os.getpid()}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    return S3Bucket(moto_endpoint, name, key_id, s3)


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd): (its controller, the list of messages it received)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from tests.support import free_port

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    controller = Controller(Collect(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, received
    controller.stop()
