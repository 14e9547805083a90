"""SqlSource on a real SQLite file."""

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.records import Subject
from extractors.sql import SqlSource

TABLES: list[dict[str, Any]] = [
    {"category": "customer", "table": "customers", "match_column": "email", "provided": True},
    {"category": "orders", "table": "orders", "parent": "customers", "foreign_key": "customer_id"},
    {"category": "order_lines", "table": "order_lines", "parent": "orders", "foreign_key": "order_id"},
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "customers.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT, joined DATE,
                                    balance NUMERIC, photo BLOB);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                                 placed_at TIMESTAMP, total TEXT);
            CREATE TABLE order_lines (order_id INTEGER, line INTEGER, product TEXT,
                                      PRIMARY KEY (order_id, line));
            INSERT INTO customers VALUES (1, 'Matti.Meikalainen@Example.FI', 'Matti', '2023-01-02', 12.5, x'00ff'),
                                         (2, 'teppo@example.fi', 'Teppo', '2023-02-03', 0, NULL);
            INSERT INTO orders VALUES (11, 1, '2024-05-06 07:08:09', '19.90'), (12, 2, '2024-05-07 00:00:00', '5.00'),
                                      (10, 1, '2024-01-01 00:00:00', '1.00');
            INSERT INTO order_lines VALUES (11, 2, 'kahvi'), (11, 1, 'pulla'), (12, 1, 'tee'), (10, 1, 'vesi');
        """)
    conn.close()
    return path


def source(tmp_path: Path, **overrides) -> SqlSource:
    settings = {"url": "sqlite:///customers.db", "tables": TABLES, **overrides}
    return SqlSource("customer_db", settings, tmp_path, {})


def test_finds_the_subjects_rows_in_every_table_and_nobody_elses(tmp_path: Path, db: Path) -> None:
    records = list(source(tmp_path).records(Subject("matti.meikalainen@example.fi")))
    assert [(r.category, r.key) for r in records] == [
        ("customer", "1"), ("orders", "10"), ("orders", "11"),
        ("order_lines", "10/1"), ("order_lines", "11/1"), ("order_lines", "11/2"),
    ]
    customer = records[0]
    assert customer.provided and not records[1].provided
    assert customer.data["email"] == "Matti.Meikalainen@Example.FI"
    assert customer.data["photo"] == "AP8="  # bytes as base64
    assert "teppo" not in "".join(r.to_json() for r in records)


def test_unknown_subject_yields_nothing(tmp_path: Path, db: Path) -> None:
    assert list(source(tmp_path).records(Subject("nobody@example.fi"))) == []


def test_url_from_the_environment(tmp_path: Path, db: Path) -> None:
    settings = {"url_env": "CUSTOMER_DB_URL", "tables": TABLES[:1]}
    src = SqlSource("customer_db", settings, tmp_path, {"CUSTOMER_DB_URL": f"sqlite:///{db}"})
    assert len(list(src.records(Subject("matti.meikalainen@example.fi")))) == 1
    with pytest.raises(SourceConfigError, match="environment variable CUSTOMER_DB_URL is not set"):
        SqlSource("customer_db", settings, tmp_path, {})


@pytest.mark.parametrize(("change", "key", "message"), [
    ({"table": "orderz"}, "tables.1.table", "no table 'orderz'"),
    ({"foreign_key": "buyer_id"}, "tables.1.foreign_key", "no column 'buyer_id' in table 'orders'"),
    ({"parent_key": "uuid"}, "tables.1.parent_key", "no column 'uuid' in table 'customers'"),
])
def test_unknown_table_or_column_is_named(tmp_path: Path, db: Path, change, key, message) -> None:
    tables = [TABLES[0], {**TABLES[1], **change}]
    with pytest.raises(SourceConfigError, match=message) as caught:
        list(source(tmp_path, tables=tables).records(Subject("matti.meikalainen@example.fi")))
    assert caught.value.key == key


@pytest.mark.parametrize(("settings", "key", "message"), [
    ({"tables": TABLES}, "url", "set exactly one of url or url_env"),
    ({"url": "sqlite://", "tables": [{**TABLES[1], "foreign_key": None}]}, "tables.0.parent", "first table"),
    ({"url": "sqlite://", "tables": [TABLES[0], {**TABLES[1], "foreign_key": None}]}, "tables.1.foreign_key",
     "missing"),
    ({"url": "sqlite://", "tables": [TABLES[0], {**TABLES[1], "colour": "red"}]}, "tables.1.colour", "unknown key"),
    ({"url": "sqlite://", "tables": [{"table": "customers", "match_column": "email"}]}, "tables.0.category",
     "missing"),
    ({"url": "sqlite://", "tables": [TABLES[0], TABLES[2]]}, "tables.1.parent", "not a table listed earlier"),
    ({"url": "not a url", "tables": TABLES}, "url", "not a valid SQLAlchemy URL"),
    ({"url": "nosuchdb://u:secret@h/d", "tables": TABLES}, "url", "unknown database dialect 'nosuchdb'"),
    ({"url": "sqlite://", "tables": [TABLES[0], {**TABLES[1], "about_subject": True}]}, "tables.1.about_subject",
     "only a table matched on the email"),
    ({"url": "sqlite://", "tables": [TABLES[0], {**TABLES[1], "category": "Orders"}]}, "tables.1.category",
     "use lower-case letters, digits, '_' and '-'"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "category": "../customer"}]}, "tables.0.category",
     "use lower-case letters"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "category": "customer\n"}]}, "tables.0.category",
     "use lower-case letters"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "category": ""}]}, "tables.0.category", "at least 1"),
    ({"url": "sqlite://", "tables": [TABLES[0], {"category": "o", "table": "orders", "parents": [
        {"table": "customers", "foreign_key": "customer_id"}, {"table": "order_lines", "foreign_key": "id"}]}]},
     "tables.1.parents.1.table", "'order_lines' is not a table listed earlier"),
    ({"url": "sqlite://", "tables": [TABLES[0], {"category": "o", "table": "orders", "parents": [
        {"table": "customers"}]}]}, "tables.1.parents.0.foreign_key", "missing"),
    ({"url": "sqlite://", "tables": [TABLES[0], {**TABLES[1], "parents": [
        {"table": "customers", "foreign_key": "customer_id"}]}]}, "tables.1.parents", "not both"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "match_columns": ["email"]}]}, "tables.0.match_columns",
     "set match_column or match_columns, not both"),
    ({"url": "sqlite://", "tables": [{"category": "c", "table": "c", "match_columns": ["email", "email"]}]},
     "tables.0.match_columns", "listed twice"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "match_kind": "iban"}]}, "tables.0.match_kind", "'email'"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "match_case": "upper"}]}, "tables.0.match_case", "'lower'"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "table": "crm.customers", "schema": "crm"}]}, "tables.0.table",
     "not both"),
    ({"url": "sqlite://", "tables": [TABLES[0], {**TABLES[0], "table": "crm.customers"}, {
        **TABLES[0], "schema": "crm"}]}, "tables.2.table", "table 'crm.customers' is listed twice"),
    ({"url": "sqlite://", "tables": [TABLES[0], {"category": "o", "table": "orders"}]}, "tables.1.match_column",
     "set match_columns, parents or both"),
    ({"url": "sqlite://", "tables": [{**TABLES[0], "foreign_key": "x"}]}, "tables.0.foreign_key",
     "goes with parent"),
])
def test_bad_settings_name_the_key(tmp_path: Path, settings, key, message) -> None:
    settings = {k: v for k, v in settings.items() if v is not None}
    settings["tables"] = [{k: v for k, v in t.items() if v is not None} for t in settings["tables"]]
    with pytest.raises(SourceConfigError, match=message) as caught:
        SqlSource("customer_db", settings, tmp_path, {})
    assert caught.value.key == key


def test_missing_sqlite_file_is_unavailable_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="database file not found"):
        list(source(tmp_path).records(Subject("matti@example.fi")))
    assert not (tmp_path / "customers.db").exists()


def test_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///file:{tmp_path}/no/such/dir.db?mode=ro&uri=true"
    src = SqlSource("customer_db", {"url": url, "tables": TABLES}, tmp_path, {})
    with pytest.raises(SourceUnavailable) as caught:
        list(src.records(Subject("matti.meikalainen@example.fi")))
    assert str(caught.value) == "source customer_db: database unreachable"
    assert caught.value.__suppress_context__


def test_failing_query_error_carries_no_bound_parameters(tmp_path: Path) -> None:
    # The email column is computed when read; one broken row makes the match query fail,
    # and SQLAlchemy's message for that would print the bound email.
    with sqlite3.connect(tmp_path / "customers.db") as conn:
        conn.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, doc TEXT);
            INSERT INTO customers VALUES (1, '{"email": "matti@example.fi"}'), (2, '{broken');
            ALTER TABLE customers ADD COLUMN email TEXT GENERATED ALWAYS AS (json_extract(doc, '$.email')) VIRTUAL;
        """)
    conn.close()
    with pytest.raises(SourceUnavailable) as caught:
        list(source(tmp_path, tables=TABLES[:1]).records(Subject("Matti.Meikalainen@example.fi")))
    assert "matti" not in str(caught.value).lower()
    assert caught.value.__suppress_context__


def test_about_subject_marks_the_matched_tables_records_only(tmp_path: Path, db: Path) -> None:
    tables = [{**TABLES[0], "about_subject": True}, *TABLES[1:]]
    records = list(source(tmp_path, tables=tables).records(Subject("matti.meikalainen@example.fi")))
    assert [(r.category, r.about_subject) for r in records[:2]] == [("customer", True), ("orders", False)]
    assert not any(r.about_subject for r in records[1:])
    assert not any(r.about_subject for r in source(tmp_path).records(Subject("matti.meikalainen@example.fi")))


def test_people_lists_every_name_of_a_table_with_people_columns(tmp_path: Path, db: Path) -> None:
    tables = [{**TABLES[0], "people_columns": ["name", "email"]}, *TABLES[1:]]
    people = source(tmp_path, tables=tables).people()
    assert sorted(people) == ["Matti Matti.Meikalainen@Example.FI", "Teppo teppo@example.fi"]
    assert list(source(tmp_path).people()) == []  # no table names its people


def test_people_columns_must_exist(tmp_path: Path, db: Path) -> None:
    tables = [{**TABLES[0], "people_columns": ["nimi"]}, *TABLES[1:]]
    with pytest.raises(SourceConfigError) as caught:
        list(source(tmp_path, tables=tables).people())
    assert caught.value.key == "tables.0.people_columns"


def test_a_table_both_matched_and_reached_gives_each_row_once(tmp_path: Path, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.executescript("""
            CREATE TABLE notes (id INTEGER PRIMARY KEY, customer_id INTEGER, email TEXT, note TEXT);
            INSERT INTO notes VALUES (1, 1, NULL, 'by id'), (2, NULL, 'MATTI.meikalainen@example.fi', 'by email'),
                                     (3, 1, 'matti.meikalainen@example.fi', 'both'), (4, 2, 'teppo@example.fi', 'no');
        """)
    conn.close()
    notes = {"category": "notes", "table": "notes", "match_column": "email", "about_subject": True,
             "parent": "customers", "foreign_key": "customer_id"}
    records = [r for r in source(tmp_path, tables=[TABLES[0], notes]).records(Subject("matti.meikalainen@example.fi"))
               if r.category == "notes"]
    # Matched rows first (about the subject), then the rows only the parent reaches.
    assert [(r.key, r.about_subject) for r in records] == [("2", True), ("3", True), ("1", False)]


def test_the_readme_example_is_a_valid_graph() -> None:
    import tomllib

    from extractors.sql_graph import SqlSettings, check_graph

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### SQL sources"):]
    example = section[section.index("```toml") + len("```toml"):section.index("```\n", section.index("```toml"))]
    (spec,) = tomllib.loads(example)["sources"]
    settings = SqlSettings.model_validate({k: v for k, v in spec.items() if k not in ("name", "kind")})
    graph = check_graph("shop", settings)
    assert [(n.full, [e.parent for e in n.edges]) for n in graph] == [
        ("crm.customer", []), ("crm.orders", ["crm.customer"]), ("crm.address", ["crm.customer", "crm.orders"]),
        ("visit", [])]


def test_a_schema_sqlite_does_not_have_is_a_missing_table(tmp_path: Path, db: Path) -> None:
    with pytest.raises(SourceConfigError, match=r"no table 'crm\.customers'") as caught:
        list(source(tmp_path, tables=[{**TABLES[0], "schema": "crm"}]).records(Subject("matti@example.fi")))
    assert caught.value.key == "tables.0.table"


def test_composite_keys_whose_parts_hold_a_slash_stay_apart(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "notes.db") as conn:
        conn.executescript("""
            CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT);
            CREATE TABLE notes (a TEXT, b TEXT, person_id INTEGER, PRIMARY KEY (a, b));
            INSERT INTO people VALUES (1, 'ann@example.fi');
            INSERT INTO notes VALUES ('x/y', 'z', 1), ('x', 'y/z', 1);
        """)
    conn.close()
    tables = [{"category": "person", "table": "people", "match_column": "email"},
              {"category": "notes", "table": "notes", "parent": "people", "foreign_key": "person_id"}]
    found = SqlSource("db", {"url": "sqlite:///notes.db", "tables": tables}, tmp_path, {})
    keys = [r.key for r in found.records(Subject("ann@example.fi")) if r.category == "notes"]
    assert sorted(keys) == ["x%2Fy/z", "x/y%2Fz"]

