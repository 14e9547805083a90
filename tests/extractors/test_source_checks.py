"""`check()` of each built-in source kind and the example plugin: what `dsar check` prints about a source,
against a real SQLite file and PostgreSQL, mail archives on disk and in S3 (moto's server), and the local
Mailchimp-compatible server."""

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from extractors.mail import MailSource
from extractors.mailchimp import MailchimpSource
from extractors.records import CheckingSource, Finding
from extractors.sql import SqlSource
from flows.demo.mailchimp_server import serve_mailchimp
from tests.extractors import fides_schema
from tests.extractors.fides_schema import sql_source_tables
from tests.extractors.test_example_plugin import csv_kind  # noqa: F401 - the fixture
from tests.extractors.test_mail_s3_archives import archive_files, environ, mbox, upload, write  # noqa: F401

CUSTOMERS = 2_000


def lines(findings) -> list[tuple[str, str, str]]:
    return [(f.status, f.what, f.message) for f in findings]


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def shop_url(request, tmp_path_factory) -> Iterator[str]:
    """The Fides-shaped schema with two indexes missing: customer's lower(email) and orders' customer_id
    (on PostgreSQL in a database of its own: test_sql_check builds the same tables in the shared one)."""
    server = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('check') / 'shop.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        server.admin("CREATE DATABASE source_checks")
        url = server.url("source_checks")
    engine = create_engine(url)
    fides_schema.build(engine, CUSTOMERS)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX customer_email_lower"))
        conn.execute(text("DROP INDEX orders_customer_id"))
        conn.execute(text("ANALYZE"))
    engine.dispose()
    try:
        yield url
    finally:
        if server is not None:
            server.admin("DROP DATABASE IF EXISTS source_checks WITH (FORCE)")


def sql_source(url: str, tables=None) -> SqlSource:
    return SqlSource("shop", {"url_env": "SHOP_DB_URL", "tables": tables or sql_source_tables()}, Path(),
                     {"SHOP_DB_URL": url})


def test_sql_names_each_table_and_the_index_a_large_table_lacks(shop_url: str) -> None:
    source = sql_source(shop_url)
    assert isinstance(source, CheckingSource)
    found = list(source.check(1_000))
    warnings = [(f.what, f.message) for f in found if f.status == "warning"]
    assert [what for what, _ in warnings] == ["table customer", "table orders"]
    assert warnings[0][1] == (f"reads all {CUSTOMERS} rows to match email (match); create the index: "
                              "CREATE INDEX customer_email_lower_idx ON customer (lower(email))")
    assert warnings[1][1].endswith("to match customer_id (parent customer); create the index: "
                                   "CREATE INDEX orders_customer_id_idx ON orders (customer_id)")
    assert ("ok", "table address") in [(f.status, f.what) for f in found]
    assert {f.status for f in source.check(CUSTOMERS * 4)} == {"ok"}  # no table that large


def test_sql_a_missing_table_or_column_is_an_error_naming_the_key(shop_url: str) -> None:
    missing_table = sql_source(shop_url, [{"category": "c", "table": "asiakkaat", "match_column": "email"}])
    assert lines(missing_table.check()) == [
        ("error", "database", "tables.0.table: no table 'asiakkaat' in the database")]
    missing_column = sql_source(shop_url, [{"category": "c", "table": "customer", "match_column": "sahkoposti"}])
    assert lines(missing_column.check()) == [
        ("error", "database", "tables.0.match_column: no column 'sahkoposti' in table 'customer'")]


def test_sql_an_unreachable_database_is_an_error(tmp_path: Path) -> None:
    source = sql_source(f"sqlite:///{tmp_path / 'gone.db'}")
    assert lines(source.check()) == [("error", "database", "database file not found")]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (a firewall's tarpit, a wrong service)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        held: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                held.append(server.accept()[0])

        threading.Thread(target=accept, daemon=True).start()
        yield server.getsockname()[1]
        stop.set()
        for conn in held:
            conn.close()


def test_sql_a_server_that_never_answers_is_an_error_not_a_hang(silent_server: int) -> None:
    source = sql_source(f"postgresql+psycopg://dsar:pw@127.0.0.1:{silent_server}/shop",
                        [{"category": "c", "table": "customer", "match_column": "email"}])
    found: list = []
    checking = threading.Thread(target=lambda: found.extend(lines(source.check())), daemon=True)
    checking.start()
    checking.join(120)  # not a timing assert: without a connect timeout the check never returns at all
    assert found == [("error", "database", "database unreachable")]


def mail_source(base: Path, path: str, env=None) -> MailSource:
    return MailSource("support", {"path": path}, base, env or {})


def test_mail_archive_format_size_and_the_index_missing_fresh_stale(tmp_path: Path) -> None:
    data = mbox(range(12))
    (tmp_path / "support.mbox").write_bytes(data)
    source = mail_source(tmp_path, "support.mbox")
    archive = ("ok", "archive", f"readable, mbox, 1 file(s), {len(data)} bytes")
    assert lines(source.check()) == [archive, ("warning", "index", "missing: every request reads the whole "
                                                                    "archive; build it with dsar index mail")]
    source.update_index()
    assert [f.message.split(":")[0] for f in source.check()][1] == "fresh"
    with (tmp_path / "support.mbox").open("ab") as out:
        out.write(mbox([99]))
    stale = list(source.check())[1]
    assert (stale.status, stale.message.startswith("covers all but the mail that came since")) == ("ok", True)
    (tmp_path / "support.mbox").write_bytes(mbox([1, 2]))  # rewritten: the index no longer matches
    assert list(source.check())[1].message.startswith("no longer matches the archive")


def test_mail_a_maildir_is_listed_and_its_index_state_read(tmp_path: Path) -> None:
    files = archive_files("maildir", range(6))
    write(tmp_path / "Maildir", files)
    source = mail_source(tmp_path, "Maildir")
    size = sum(len(b) for b in files.values())
    source.update_index()
    assert lines(source.check()) == [("ok", "archive", f"readable, maildir, 6 file(s), {size} bytes"),
                                     ("ok", "index", "fresh: a request reads the subject's messages only")]
    write(tmp_path / "Maildir", archive_files("maildir", [7]))
    assert list(source.check())[1].message.startswith("covers all but")


def test_mail_an_unreadable_or_foreign_archive_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not mail\n")
    assert lines(mail_source(tmp_path, "notes.txt").check()) == [
        ("error", "archive", "not a supported mail archive (mbox, mbox.gz, Maildir, .eml)")]
    [gone] = mail_source(tmp_path, "Matti Meikäläinen.mbox").check()
    assert gone.status == "error" and "Matti" not in gone.message


def test_mail_in_s3_with_its_index_there(s3_bucket, environ, tmp_path: Path) -> None:  # noqa: F811
    upload(s3_bucket, "support.mbox", archive_files("mbox", range(5)))
    source = mail_source(tmp_path, f"s3://{s3_bucket.name}/support.mbox", environ)
    size = len(archive_files("mbox", range(5))[""])
    assert lines(source.check())[0] == ("ok", "archive", f"readable, mbox, 1 file(s), {size} bytes")
    assert list(source.check())[1].status == "warning"
    source.update_index()  # published to S3 beside the archive
    again = mail_source(tmp_path / "elsewhere", f"s3://{s3_bucket.name}/support.mbox", environ)
    assert list(again.check())[1].message.startswith("fresh")
    [missing] = mail_source(tmp_path, f"s3://{s3_bucket.name}/nothing.mbox", environ).check()
    assert missing.status == "error" and missing.what == "archive"


MAILCHIMP_DATA = {"lists": [{"id": "a1b2c3d4e5", "name": "Uutiskirje", "members": []}]}


def test_mailchimp_key_accepted_refused_and_lists_found() -> None:
    with serve_mailchimp(MAILCHIMP_DATA, api_key="right-us1") as server:
        def check(key: str, **settings):
            source = MailchimpSource("marketing", {"base_url": server.base_url, "api_key_env": "KEY", **settings},
                                     Path(), {"KEY": key})
            return lines(source.check())

        before = server.requests
        assert check("right-us1") == [("ok", "api", "API key accepted (GET /ping)")]
        assert server.requests == before + 1, "one harmless call"
        assert check("wrong-us1") == [
            ("error", "api", "marketing platform refused the API key (HTTP 401)")]
        assert check("right-us1", list_ids=["a1b2c3d4e5", "zzz"]) == [
            ("ok", "api", "API key accepted (GET /ping)"), ("ok", "list a1b2c3d4e5", "found"),
            ("error", "list zzz", "not found on the platform: check list_ids")]
    source = MailchimpSource("marketing", {"base_url": server.base_url, "api_key_env": "KEY"}, Path(),
                             {"KEY": "right-us1"})
    assert lines(source.check()) == [("error", "api", "marketing platform unreachable; gave up after 1 attempt")]


def test_the_example_plugin_reads_its_header_only(csv_kind: type, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "a.csv").write_text("email,name\nmatti@example.fi,Matti\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("mail,name\nmatti@example.fi,Matti\n", encoding="utf-8")
    ok = csv_kind("x", {"path": "a.csv"}, tmp_path, {})
    assert isinstance(ok, CheckingSource)
    assert list(ok.check()) == [Finding("ok", "file", "readable, 2 columns")]
    assert list(csv_kind("x", {"path": "b.csv"}, tmp_path, {}).check()) == [
        Finding("error", "file", "no column 'email': check email_column")]
