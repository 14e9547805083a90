"""The shape of Fides' sample PostgreSQL schema (postgres_example_test_dataset), with synthetic rows.

Tables: customer, address, orders, order_item, product, payment_card, login, visit,
service_request, employee, report. `address` is reached from customer (address_id),
orders (shipping_address_id) and payment_card (billing_address_id); service_request
names a person in `email` or `alt_email`. Used by the SQL tests on SQLite and
PostgreSQL and by bench/bench_sql.py.

Customer 1 is the subject, Matti. Customer 2 (Teppo) receives a gift Matti ordered,
shipped to Teppo's address; customer 3 (Maija) lives at Matti's address. Addresses are
stored in mixed case, as customers typed them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    insert,
)

SUBJECT = "matti.meikalainen@example.fi"  # customer 1, stored as Matti.Meikalainen@Example.FI
SUBJECT_ALT = "matti@kotiposti.fi"  # the subject's other address, named in a service request only
PRODUCTS = 10
_T0 = dt.datetime(2024, 1, 1, 8, 0)
# The columns matched on an email, each with a lower(column) index named <table>_<column>_lower.
LOWER_INDEXED = [("customer", "email"), ("visit", "email"), ("service_request", "email"),
                 ("service_request", "alt_email"), ("employee", "email"), ("report", "email")]


def customer_email(i: int) -> str:
    """Customer i's address as stored (mixed case); the subject's for i = 1."""
    return "Matti.Meikalainen@Example.FI" if i == 1 else f"Asiakas.{i}@Example.com"


def sql_source_tables(schema: str | None = None) -> list[dict[str, Any]]:
    """The whole schema as one `sql` source's `tables` (schema-qualified names when `schema` is given)."""
    q = (lambda name: f"{schema}.{name}") if schema else (lambda name: name)
    return [
        {"category": "customer", "table": q("customer"), "match_column": "email", "about_subject": True,
         "provided": True, "people_columns": ["name"]},
        {"category": "payment_card", "table": q("payment_card"), "parent": q("customer"),
         "foreign_key": "customer_id"},
        {"category": "orders", "table": q("orders"), "parent": q("customer"), "foreign_key": "customer_id"},
        {"category": "address", "table": q("address"), "parents": [
            {"table": q("customer"), "foreign_key": "id", "parent_key": "address_id"},
            {"table": q("orders"), "foreign_key": "id", "parent_key": "shipping_address_id"},
            {"table": q("payment_card"), "foreign_key": "id", "parent_key": "billing_address_id"},
        ]},
        {"category": "order_item", "table": q("order_item"), "parent": q("orders"), "foreign_key": "order_id"},
        {"category": "product", "table": q("product"), "parents": [
            {"table": q("order_item"), "foreign_key": "id", "parent_key": "product_id"}]},
        {"category": "login", "table": q("login"), "parent": q("customer"), "foreign_key": "customer_id"},
        {"category": "visit", "table": q("visit"), "match_column": "email"},
        {"category": "service_request", "table": q("service_request"), "match_columns": ["email", "alt_email"]},
        # A subject who is also an employee would be found here; nobody else ever is.
        {"category": "employee", "table": q("employee"), "match_column": "email"},
        {"category": "report", "table": q("report"), "match_column": "email"},
    ]


def define(metadata: MetaData, *, indexes: bool = True) -> dict[str, Table]:
    """The tables (and, with `indexes`, the indexes a controller would have) on `metadata`."""
    t = {
        "product": Table("product", metadata, Column("id", Integer, primary_key=True), Column("name", String(100)),
                         Column("description", String(200)), Column("url", String(200)),
                         Column("price", Numeric(10, 2))),
        "address": Table("address", metadata, Column("id", Integer, primary_key=True), Column("house", Integer),
                         Column("street", String(100)), Column("city", String(100)), Column("state", String(100)),
                         Column("zip", String(100))),
        "customer": Table("customer", metadata, Column("id", Integer, primary_key=True), Column("email", String(200)),
                          Column("name", String(100)), Column("created", DateTime),
                          Column("address_id", ForeignKey("address.id"))),
        "employee": Table("employee", metadata, Column("id", Integer, primary_key=True), Column("email", String(200)),
                          Column("name", String(100)), Column("address_id", ForeignKey("address.id"))),
        "payment_card": Table("payment_card", metadata, Column("id", String(100), primary_key=True),
                              Column("name", String(100)), Column("ccn", String(30)), Column("code", Integer),
                              Column("preferred", Boolean), Column("customer_id", ForeignKey("customer.id")),
                              Column("billing_address_id", ForeignKey("address.id"))),
        "orders": Table("orders", metadata, Column("id", String(100), primary_key=True),
                        Column("customer_id", ForeignKey("customer.id")),
                        Column("shipping_address_id", ForeignKey("address.id")),
                        Column("payment_card_id", ForeignKey("payment_card.id"))),
        "order_item": Table("order_item", metadata, Column("order_id", ForeignKey("orders.id"), primary_key=True),
                            Column("item_no", Integer, primary_key=True),
                            Column("product_id", ForeignKey("product.id")), Column("quantity", Integer)),
        "visit": Table("visit", metadata, Column("email", String(200), primary_key=True),
                       Column("last_visit", DateTime, primary_key=True)),
        "login": Table("login", metadata, Column("id", Integer, primary_key=True),
                       Column("customer_id", ForeignKey("customer.id")), Column("time", DateTime)),
        "service_request": Table("service_request", metadata, Column("id", String(100), primary_key=True),
                                 Column("email", String(200)), Column("alt_email", String(200)),
                                 Column("opened", Date), Column("closed", Date),
                                 Column("employee_id", ForeignKey("employee.id"))),
        "report": Table("report", metadata, Column("id", Integer, primary_key=True), Column("email", String(200)),
                        Column("name", String(100)), Column("year", Integer), Column("month", Integer),
                        Column("total_visits", Integer)),
    }
    if indexes:
        for table, column in LOWER_INDEXED:
            Index(f"{table}_{column}_lower", func.lower(t[table].c[column]))
        for table, column in [("payment_card", "customer_id"), ("orders", "customer_id"), ("login", "customer_id")]:
            Index(f"{table}_{column}", t[table].c[column])
    return t


def build(engine: Engine, customers: int, *, schema: str | None = None, indexes: bool = True) -> None:
    """Create the schema on `engine` (in `schema`, which must exist) and fill it for `customers` people."""
    metadata = MetaData(schema=schema)
    t = define(metadata, indexes=indexes)
    metadata.create_all(engine)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in t}
    rows["product"] = [{"id": p, "name": f"Tuote {p}", "description": "", "url": f"https://kauppa.example/{p}",
                        "price": Decimal(p) + Decimal("0.90")} for p in range(1, PRODUCTS + 1)]
    for i in range(1, customers + 1):
        email, when = customer_email(i), _T0 + dt.timedelta(minutes=i)
        home = 1 if i == 3 else i  # Maija lives at Matti's address
        rows["address"].append({"id": i, "house": i, "street": f"Katu {i}", "city": "Helsinki", "state": "",
                                "zip": f"{i % 100000:05d}"})
        rows["customer"].append({"id": i, "email": email, "name": f"Asiakas {i}", "created": when,
                                 "address_id": home})
        rows["payment_card"].append({"id": f"pay_{i}", "name": f"Asiakas {i}", "ccn": f"4000{i:012d}", "code": 123,
                                     "preferred": True, "customer_id": i, "billing_address_id": home})
        for n in (1, 2):
            # Matti's second order is a gift shipped to Teppo's address.
            ship = 2 if (i, n) == (1, 2) and customers >= 2 else home
            order = f"ord_{i}_{n}"
            rows["orders"].append({"id": order, "customer_id": i, "shipping_address_id": ship,
                                   "payment_card_id": f"pay_{i}"})
            for item in (1, 2):
                rows["order_item"].append({"order_id": order, "item_no": item,
                                           "product_id": (i + n + item) % PRODUCTS + 1, "quantity": item})
            rows["login"].append({"id": 2 * i + n, "customer_id": i, "time": when + dt.timedelta(days=n)})
        rows["visit"].append({"email": email, "last_visit": when})
        alt = f"Toinen.{i}@Example.net" if i % 2 == 0 else None
        rows["service_request"].append({"id": f"ser_{i}", "email": email, "alt_email": alt,
                                        "opened": when.date(), "closed": None, "employee_id": 1})
    # The subject's other address names them in a request opened from it; one names both addresses.
    rows["service_request"] += [
        {"id": "ser_alt", "email": "someone.else@example.com", "alt_email": "Matti@Kotiposti.FI",
         "opened": _T0.date(), "closed": None, "employee_id": 1},
        {"id": "ser_both", "email": "MATTI.MEIKALAINEN@example.fi", "alt_email": "matti@kotiposti.fi",
         "opened": _T0.date(), "closed": None, "employee_id": 2},
    ]
    rows["employee"] = [{"id": e, "email": f"Tyontekija.{e}@Kauppa.example", "name": f"Työntekijä {e}",
                         "address_id": e} for e in (1, 2)]
    rows["report"] = [{"id": r, "email": "Tyontekija.1@Kauppa.example", "name": "Kuukausiraportti", "year": 2024,
                       "month": r, "total_visits": 100 * r} for r in range(1, 13)]
    with engine.begin() as conn:
        for table in metadata.sorted_tables:  # parents first
            batch = rows[table.name]
            for start in range(0, len(batch), 5000):
                conn.execute(insert(table), batch[start : start + 5000])
