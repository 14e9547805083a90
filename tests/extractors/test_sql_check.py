"""`check_sql_source`: EXPLAIN tells which queries of the Fides-shaped schema would read a whole large table."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from extractors.sql import SqlSource
from extractors.sql_check import check_sql_source
from tests.extractors import fides_schema
from tests.extractors.fides_schema import sql_source_tables

CUSTOMERS = 2_000


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def url(request, tmp_path_factory) -> str:
    """The schema with two indexes missing: customer's lower(email) and orders' customer_id."""
    sqlite = f"sqlite:///{tmp_path_factory.mktemp('check') / 'shop.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    fides_schema.build(engine, CUSTOMERS)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX customer_email_lower"))
        conn.execute(text("DROP INDEX orders_customer_id"))
        conn.execute(text("ANALYZE"))  # the planner's statistics, as a live database has them
    engine.dispose()
    return url


def check(url: str, tables=None, min_rows: int = 1_000):
    source = SqlSource("shop", {"url_env": "SHOP_DB_URL", "tables": tables or sql_source_tables()}, Path(),
                       {"SHOP_DB_URL": url})
    return {t.table: t for t in check_sql_source(source, min_rows)}


def test_names_the_tables_whose_queries_read_everything_and_the_index_to_create(url: str) -> None:
    tables = check(url)
    assert [name for name, t in tables.items() if not t.ok] == ["customer", "orders"]
    (customer,) = tables["customer"].queries
    assert (customer.column, customer.via, customer.full_scan) == ("email", "match", True)
    assert customer.index == 'CREATE INDEX customer_email_lower_idx ON customer (lower(email))'
    (orders,) = tables["orders"].queries
    assert (orders.column, orders.via) == ("customer_id", "parent customer")
    assert orders.index == "CREATE INDEX orders_customer_id_idx ON orders (customer_id)"
    assert tables["customer"].rows == CUSTOMERS
    # address is reached three ways, each by its primary key; service_request on either indexed column
    assert [(q.via, q.full_scan) for q in tables["address"].queries] == [
        ("parent customer", False), ("parent orders", False), ("parent payment_card", False)]
    assert [(q.column, q.full_scan) for q in tables["service_request"].queries] == [
        ("email", False), ("alt_email", False)]


def test_small_tables_and_exact_matching_on_a_plain_index(url: str) -> None:
    assert all(t.ok for t in check(url, min_rows=CUSTOMERS * 4).values())  # no table is that large
    exact = [{"category": "report", "table": "report", "match_column": "email", "match_case": "exact"},
             {"category": "visit", "table": "visit", "match_column": "email", "match_case": "exact"}]
    checked = check(url, exact, min_rows=1)
    # report's only index is on lower(email): an exact comparison cannot use it; visit's primary key starts
    # with email, so the exact comparison can.
    assert checked["report"].queries[0].index == "CREATE INDEX report_email_idx ON report (email)"
    assert checked["visit"].ok
