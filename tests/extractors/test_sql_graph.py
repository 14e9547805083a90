"""The Fides-shaped schema in one `sql` source, on a real SQLite file and a real PostgreSQL server."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from extractors import sql_cache
from extractors.errors import SourceConfigError
from extractors.records import CUSTOMER_ID, EMAIL, Identifier, Subject
from extractors.sql import SqlSource
from extractors.sql_check import check_sql_source
from tests.extractors import fides_schema
from tests.extractors.fides_schema import SUBJECT, SUBJECT_ALT, sql_source_tables
from tests.support import missing

CUSTOMERS = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> Iterator[str]:
    """A database holding the Fides-shaped schema for CUSTOMERS customers; its URL."""
    sqlite = f"sqlite:///{tmp_path / 'shop.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("postgres_db")
    engine = create_engine(url)
    fides_schema.build(engine, CUSTOMERS)
    engine.dispose()
    yield url


def source(url: str, tables=None) -> SqlSource:
    settings = {"url_env": "SHOP_DB_URL", "tables": tables or sql_source_tables()}
    return SqlSource("shop", settings, Path(), {"SHOP_DB_URL": url})


def found(records) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in records:
        out.setdefault(r.category, []).append(r.key)
    return out


# Matti's rows and nobody else's: Maija (customer 3) shares his address row and Teppo (2) receives his gift.
MATTI = {
    "customer": ["1"],
    "payment_card": ["pay_1"],
    "orders": ["ord_1_1", "ord_1_2"],
    # His home (from his customer row, orders and card: once) and Teppo's, where his own gift order went:
    # the address is part of Matti's order. Teppo's other rows stay out, and so does every other address.
    "address": ["1", "2"],
    "order_item": ["ord_1_1/1", "ord_1_1/2", "ord_1_2/1", "ord_1_2/2"],
    "product": ["4", "5", "6"],
    "login": ["3", "4"],
    "visit": ["Matti.Meikalainen@Example.FI/2024-01-01 08:01:00"],
    "service_request": ["ser_1", "ser_both"],
}


def test_the_whole_schema_in_one_source_finds_exactly_the_subjects_rows_once(url: str) -> None:
    records = list(source(url).records(Subject(SUBJECT)))
    assert found(records) == MATTI
    assert len({(r.category, r.key) for r in records}) == len(records)
    assert [r.about_subject for r in records if r.category == "customer"] == [True]
    assert not any(r.about_subject for r in records if r.category != "customer")
    text_ = "".join(r.to_json() for r in records)
    assert "Asiakas 3" not in text_ and "Asiakas 2" not in text_ and "Tyontekija" not in text_


def test_an_address_a_trusted_source_found_is_searched_too(url: str) -> None:
    # The alt_email column names Matti in a request opened from another mailbox, once he is known to use it.
    also = (Identifier(EMAIL, SUBJECT_ALT, "shop", "customer", "alt_email"),)
    records = list(source(url).records(Subject(SUBJECT, also=also)))
    assert found(records)["service_request"] == ["ser_1", "ser_both", "ser_alt"]


def test_another_customer_finds_only_their_own_rows(url: str) -> None:
    got = found(source(url).records(Subject("ASIAKAS.3@example.com")))
    assert got["customer"] == ["3"] and got["address"] == ["1"]  # Maija's home is Matti's: it is hers too
    assert got["orders"] == ["ord_3_1", "ord_3_2"]
    assert "ser_both" not in got["service_request"]


def test_exact_match_case_finds_only_addresses_stored_as_given(url: str) -> None:
    customer = {**sql_source_tables()[0], "match_case": "exact"}
    assert list(source(url, [customer]).records(Subject(SUBJECT))) == []  # stored in mixed case: missed
    requests = [{"category": "service_request", "table": "service_request", "match_column": "alt_email",
                 "match_case": "exact"}]
    subject = Subject(SUBJECT, also=(Identifier(EMAIL, SUBJECT_ALT, "shop"),))
    # Stored lower-case: found; ser_alt's "Matti@Kotiposti.FI" is not.
    assert found(source(url, requests).records(subject)) == {"service_request": ["ser_both"]}


def test_match_on_a_customer_id(url: str) -> None:
    tables = [{"category": "login", "table": "login", "match_column": "customer_id", "match_kind": "customer_id"}]
    subject = Subject(SUBJECT, also=(Identifier(CUSTOMER_ID, "1", "shop", "customer", "id"),
                                     Identifier(CUSTOMER_ID, "not a number", "shop")))
    assert found(source(url, tables).records(subject)) == {"login": ["3", "4"]}
    assert list(source(url, tables).records(Subject(SUBJECT))) == []


def test_reflection_is_reused_by_a_new_source_and_errors_still_come_back(url: str) -> None:
    sql_cache.clear()
    list(source(url).records(Subject(SUBJECT)))
    cached = dict(sql_cache._tables)
    assert len(cached) == 1
    list(source(url).records(Subject(SUBJECT)))  # a new instance, as the warm worker builds per request
    assert sql_cache._tables == cached  # the very same Table objects: not reflected again
    tables = [*sql_source_tables(), {"category": "extra", "table": "no_such_table", "match_column": "email"}]
    for _ in range(2):  # not cached: the error comes back every time
        with pytest.raises(SourceConfigError, match="no table 'no_such_table'") as caught:
            list(source(url, tables).records(Subject(SUBJECT)))
        assert caught.value.key == "tables.11.table"
    bad_column = sql_source_tables()
    bad_column[8] = {**bad_column[8], "match_columns": ["email", "alt_mail"]}
    with pytest.raises(SourceConfigError, match="no column 'alt_mail' in table 'service_request'") as caught:
        list(source(url, bad_column).records(Subject(SUBJECT)))
    assert caught.value.key == "tables.8.match_columns"
    bad_key = sql_source_tables()
    bad_key[3]["parents"][2] = {**bad_key[3]["parents"][2], "parent_key": "billing_id"}
    with pytest.raises(SourceConfigError, match="no column 'billing_id' in table 'payment_card'") as caught:
        list(source(url, bad_key).records(Subject(SUBJECT)))
    assert caught.value.key == "tables.3.parents.2.parent_key"


def test_people_lists_every_customers_name(url: str) -> None:
    assert sorted(source(url).people()) == sorted(f"Asiakas {i}" for i in range(1, CUSTOMERS + 1))


def test_tables_in_a_named_schema(postgres_db: str) -> None:
    engine = create_engine(postgres_db)
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA crm"))
    fides_schema.build(engine, CUSTOMERS, schema="crm")
    engine.dispose()
    assert found(source(postgres_db, sql_source_tables("crm")).records(Subject(SUBJECT))) == MATTI
    tables = sql_source_tables()
    tables[0] = {**tables[0], "schema": "crm"}  # the other form; the rest are not in public
    with pytest.raises(SourceConfigError, match="no table 'payment_card'"):
        list(source(postgres_db, tables).records(Subject(SUBJECT)))


def test_a_column_added_while_the_worker_runs_is_read(url: str) -> None:
    customer = sql_source_tables()[:1]
    assert "phone2" not in next(iter(source(url, customer).records(Subject(SUBJECT)))).data
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE customer ADD COLUMN phone2 VARCHAR(30)"))
        conn.execute(text("UPDATE customer SET phone2 = '+358401234567' WHERE id = 1"))
    engine.dispose()
    assert next(iter(source(url, customer).records(Subject(SUBJECT)))).data["phone2"] == "+358401234567"


def test_a_sqlite_file_replaced_by_a_new_export_is_read(tmp_path: Path) -> None:
    live, export = tmp_path / "shop.db", tmp_path / "export.db"
    for path, customers in ((live, 2), (export, 5)):
        engine = create_engine(f"sqlite:///{path}")
        fides_schema.build(engine, customers)
        engine.dispose()
    url = f"sqlite:///{live}"
    assert sorted(source(url).people()) == ["Asiakas 1", "Asiakas 2"]
    export.replace(live)  # the nightly export moved into place
    assert len(list(source(url).people())) == 5


def test_a_citext_column_matches_any_ascii_case_with_exact_comparison(postgres_db: str) -> None:
    engine = create_engine(postgres_db)
    with engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'citext'")).first() is None:
            missing("PostgreSQL's citext extension (postgresql-contrib)")
        conn.execute(text("CREATE EXTENSION citext"))
        conn.execute(text("CREATE TABLE member (id integer PRIMARY KEY, email citext UNIQUE)"))
        conn.execute(text("INSERT INTO member SELECT n, 'Jasen.' || n || '@Example.FI' "
                          "FROM generate_series(1, 20000) AS n"))
        conn.execute(text("ANALYZE member"))
    engine.dispose()
    tables = [{"category": "member", "table": "member", "match_column": "email", "match_case": "exact"}]
    assert found(source(postgres_db, tables).records(Subject("jasen.77@example.fi"))) == {"member": ["77"]}
    (member,) = check_sql_source(source(postgres_db, tables), min_rows=1000)
    assert member.ok and not member.queries[0].full_scan  # the citext column's own unique index serves
