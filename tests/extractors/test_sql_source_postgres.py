"""SqlSource on a real PostgreSQL server, as a controller's customer database runs in production."""

import json
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.records import Subject
from extractors.sql import CHUNK, SqlSource
from tests.extractors.test_sql_source import TABLES

SCHEMA = """
    CREATE TABLE customers (id integer PRIMARY KEY, email text, name text, joined date, balance numeric(10, 2),
                            photo bytea, uid uuid, prefs jsonb, seen timestamptz);
    CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id),
                         placed_at timestamp, total numeric(10, 2));
    CREATE TABLE order_lines (order_id integer REFERENCES orders(id), line integer, product text,
                              PRIMARY KEY (order_id, line));
    -- Inserted out of key order: the source must sort, not rely on the heap order.
    INSERT INTO customers VALUES
        (7, 'teppo@example.fi', 'Teppo', '2023-02-03', 0, NULL, NULL, NULL, NULL),
        (3, 'MATTI.MEIKALAINEN@example.fi', 'Matti (old account)', '2020-01-01', 0, NULL, NULL, NULL, NULL),
        (1, 'Matti.Meikalainen@Example.FI', 'Matti', '2023-01-02', 12.5, '\\x00ff',
         '6f1c2a4e-9a0b-4c1d-8e2f-3a4b5c6d7e8f', '{"news": true}', '2024-05-06 07:08:09+03'),
        (5, 'ÄIJÄ@Esimerkki.FI', 'Äijä', '2023-03-04', 0, NULL, NULL, NULL, NULL);
    INSERT INTO orders VALUES (11, 1, '2024-05-06 07:08:09', 19.90), (12, 7, '2024-05-07 00:00:00', 5.00),
                              (10, 1, '2024-01-01 00:00:00', 1.00), (30, 3, '2019-12-31 23:59:59', 2.50);
    INSERT INTO order_lines VALUES (11, 2, 'kahvi'), (30, 1, 'mehu'), (11, 1, 'pulla'), (12, 1, 'tee'),
                                   (10, 1, 'vesi');
"""


@pytest.fixture
def db(postgres_db: str) -> str:
    """A fresh database (time zone Europe/Helsinki) holding the customer tables; its SQLAlchemy URL."""
    with psycopg.connect(make_url(postgres_db).set(drivername="postgresql").render_as_string()) as conn:
        conn.execute(SCHEMA)
    return postgres_db


def source(url: str, tables=TABLES) -> SqlSource:
    # As deployed: the URL (with its password) comes from the environment, never from the file.
    settings = {"url_env": "CUSTOMER_DB_URL", "tables": tables}
    return SqlSource("customer_db", settings, Path(), {"CUSTOMER_DB_URL": url})


def test_finds_the_subjects_rows_in_every_table_and_nobody_elses(db: str) -> None:
    records = list(source(db).records(Subject("matti.meikalainen@example.fi")))
    assert [(r.category, r.key) for r in records] == [
        ("customer", "1"), ("customer", "3"),
        ("orders", "10"), ("orders", "11"), ("orders", "30"),
        ("order_lines", "10/1"), ("order_lines", "11/1"), ("order_lines", "11/2"), ("order_lines", "30/1"),
    ]
    customer = records[0]
    assert customer.provided and not records[2].provided
    assert {k: v for k, v in customer.data.items() if k != "prefs"} == {
        "id": 1, "email": "Matti.Meikalainen@Example.FI", "name": "Matti", "joined": "2023-01-02",
        "balance": 12.5, "photo": "AP8=", "uid": "6f1c2a4e-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
        "seen": "2024-05-06T07:08:09+03:00",  # the instant, in the database's time zone (Europe/Helsinki)
    }
    assert records[3].data["placed_at"] == "2024-05-06T07:08:09"
    assert records[3].data["total"] == 19.9  # numeric(10, 2): the value, not its storage scale
    text = "".join(r.to_json() for r in records)
    assert "teppo" not in text.lower() and "tee" not in text


def test_json_and_array_columns_stay_json(db: str) -> None:
    with psycopg.connect(make_url(db).set(drivername="postgresql").render_as_string()) as conn:
        conn.execute("ALTER TABLE customers ADD COLUMN tags text[] DEFAULT '{vip,\"kanta-asiakas\"}'")
    customer = next(iter(source(db, TABLES[:1]).records(Subject("matti.meikalainen@example.fi"))))
    assert customer.data["prefs"] == {"news": True}
    assert customer.data["tags"] == ["vip", "kanta-asiakas"]


def test_non_finite_floats_become_text_so_every_record_stays_strict_json(db: str) -> None:
    import json

    with psycopg.connect(make_url(db).set(drivername="postgresql").render_as_string()) as conn:
        conn.execute("ALTER TABLE customers ADD COLUMN score double precision DEFAULT 'NaN'")
        conn.execute("UPDATE customers SET score = 'Infinity' WHERE id = 3")
    records = list(source(db, TABLES[:1]).records(Subject("matti.meikalainen@example.fi")))
    assert [r.data["score"] for r in records] == ["nan", "inf"]

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    for record in records:  # a strict parser (not Python's default) reads every line
        json.loads(record.to_json(), parse_constant=refuse)


def test_the_same_query_gives_the_same_records_in_the_same_order(db: str) -> None:
    subject = Subject("  Matti.MEIKALAINEN@example.fi ")
    first = [r.to_json() for r in source(db).records(subject)]
    assert first and first == [r.to_json() for r in source(db).records(subject)]


def test_email_match_folds_ascii_case_only(db: str) -> None:
    # PostgreSQL's lower() folds by locale: Ä to ä, and a Kelvin sign (U+212A) to k. Matching folds
    # only what every mail system treats alike (ASCII case); anything else is another address.
    assert [r.key for r in source(db, TABLES[:1]).records(Subject("ÄIJÄ@esimerkki.fi"))] == ["5"]
    assert list(source(db, TABLES[:1]).records(Subject("äijä@esimerkki.fi"))) == []
    kelvin = "te\N{KELVIN SIGN}\N{KELVIN SIGN}o@example.fi"
    with psycopg.connect(make_url(db).set(drivername="postgresql").render_as_string()) as conn:
        conn.execute("INSERT INTO customers (id, email, name) VALUES (8, 'tekko@example.fi', 'Tekko'), "
                     "(9, %s, 'Look-alike')", (kelvin,))
    assert [r.key for r in source(db, TABLES[:1]).records(Subject(kelvin))] == ["9"]
    assert [r.key for r in source(db, TABLES[:1]).records(Subject("TEKKO@example.fi"))] == ["8"]


def test_unknown_subject_yields_nothing(db: str) -> None:
    assert list(source(db).records(Subject("nobody@example.fi"))) == []


def test_more_parents_than_one_query_takes(db: str) -> None:
    with psycopg.connect(make_url(db).set(drivername="postgresql").render_as_string()) as conn:
        conn.execute(f"""
            INSERT INTO orders SELECT 1000 + n, 7, '2024-01-01', n FROM generate_series(1, {2 * CHUNK + 7}) AS n;
            INSERT INTO order_lines SELECT 1000 + n, 1, 'tuote' FROM generate_series(1, {2 * CHUNK + 7}) AS n;
        """)
    records = list(source(db).records(Subject("teppo@example.fi")))
    lines = [r.key for r in records if r.category == "order_lines"]
    assert len(lines) == 2 * CHUNK + 8
    assert lines == sorted(lines, key=lambda k: tuple(int(p) for p in k.split("/")))


def test_unknown_table_is_named(db: str) -> None:
    with pytest.raises(SourceConfigError, match="no table 'orderz'") as caught:
        list(source(db, [TABLES[0], {**TABLES[1], "table": "orderz"}]).records(Subject("a@example.fi")))
    assert caught.value.key == "tables.1.table"


def test_unreachable_server_is_unavailable_and_the_url_is_not_shown(postgres_server) -> None:
    url = make_url(postgres_server.url("dsar")).set(password="s3cret", query={
        "host": str(postgres_server.dir), "port": str(postgres_server.port + 1)}).render_as_string(hide_password=False)
    with pytest.raises(SourceUnavailable) as caught:
        list(source(url).records(Subject("matti.meikalainen@example.fi")))
    assert str(caught.value) == "source customer_db: database unreachable"
    assert caught.value.__suppress_context__


def test_numeric_values_keep_their_value_not_their_scale(db: str) -> None:
    """NUMERIC(20, 10) stores 69.4 as 69.4000000000: the record holds the number 69.4; digits no double holds
    stay exact as text."""
    with psycopg.connect(make_url(db).set(drivername="postgresql").render_as_string()) as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN rate numeric(30, 10) DEFAULT 69.4")
        conn.execute("UPDATE orders SET rate = 100 WHERE id = 10")
        conn.execute("UPDATE orders SET rate = 12345678901234567890.0000000001 WHERE id = 30")
    rates = {r.key: r.data["rate"] for r in source(db).records(Subject("matti.meikalainen@example.fi"))
             if r.category == "orders"}
    assert rates == {"10": 100, "11": 69.4, "30": "12345678901234567890.0000000001"}
    assert isinstance(rates["10"], int)


def test_a_numeric_integer_longer_than_python_writes_as_an_int_stays_exact_text(db: str) -> None:
    """numeric holds 10^5000; as an int, json.dumps refuses it (Python's 4300-digit limit) and the package
    build failed. It is kept as its exact digits, as other numbers a double cannot hold."""
    with psycopg.connect(make_url(db).set(drivername="postgresql").render_as_string()) as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN huge numeric DEFAULT 10::numeric ^ 5000")
    values = [r.data["huge"] for r in source(db).records(Subject("matti.meikalainen@example.fi"))
              if r.category == "orders"]
    assert values and all(v == "1" + "0" * 5000 for v in values)
    json.dumps(values)
