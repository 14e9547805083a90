"""A seeded, deterministic demo company ("Demo Kauppa Oy", a small Finnish web shop).

`generate_company(workdir)` writes a customer database (SQLite), a customer-service
mail archive (mbox) and a Mailchimp-style export (JSON). The same seed gives
byte-identical files: every timestamp derives from the seed, nothing reads the clock.
Customer 1 is the demo subject; customers 2 (a neighbour) and 3 (her husband)
are the third parties who appear in her threads.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.demo import names as N
from flows.demo.mail import general_thread, phone_formats, write_mbox
from flows.demo.story import subject_threads

START = datetime(2019, 1, 1, tzinfo=UTC)
END = datetime(2025, 12, 31, 22, tzinfo=UTC)
HOSTILE_ID = 42
HOSTILE_FIRST_NAME = '=HYPERLINK("http://evil.example","x")'

SCHEMA = """
CREATE TABLE customers(id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT UNIQUE, phone TEXT,
  street TEXT, postal_code TEXT, city TEXT, birth_date TEXT, language TEXT, marketing_consent INTEGER,
  created_at TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), ordered_at TEXT,
  status TEXT, total_cents INTEGER, currency TEXT);
CREATE TABLE order_items(id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id), product TEXT,
  quantity INTEGER, unit_price_cents INTEGER);
"""


@dataclass(frozen=True)
class DemoCompany:
    workdir: Path
    customers_db: Path  # workdir / "customers.db"
    mail_archive: Path  # workdir / "support.mbox"
    mailchimp_data: Path  # workdir / "mailchimp.json"
    subject_email: str  # lower case; the database holds it in mixed case
    subject_name: str
    subject_phone: str  # E.164
    third_party_email: str  # a neighbour who appears in the subject's threads
    third_party_phone: str  # E.164 of that neighbour, quoted in the subject's threads in several formats
    staff_address: str
    # Ground truth: the neighbour's and the husband's identifiers as written in the subject's threads,
    # less the surname the husband shares with the subject (that word is hers too).
    third_party_identifiers: tuple[str, ...] = ()

    def customer_emails(self, count: int) -> list[str]:
        """The addresses of the first `count` customers (the subject first), lower-cased as requesters type them."""
        with sqlite3.connect(self.customers_db) as db:
            rows = db.execute("SELECT email FROM customers ORDER BY id LIMIT ?", (count,)).fetchall()
        return [email.lower() for (email,) in rows]


@dataclass
class Order:
    ordered_at: datetime
    status: str
    items: list[tuple[str, int, int]]  # (product, quantity, unit price in cents)
    id: int = 0

    @property
    def number(self) -> int:
        """The order number customers see ("#10042")."""
        return 10000 + self.id

    @property
    def total_cents(self) -> int:
        return sum(q * p for _, q, p in self.items)


@dataclass
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str
    national: str  # the 9 mobile digits after +358
    phone: str  # as the customer typed it
    street: str
    postal_code: str
    city: str
    birth_date: str
    language: str
    marketing_consent: int
    created_at: datetime
    orders: list[Order] = field(default_factory=list)

    @property
    def e164(self) -> str:
        return "+358" + self.national


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _between(rng: random.Random, a: datetime, b: datetime) -> datetime:
    return a + timedelta(seconds=rng.randint(0, max(0, int((b - a).total_seconds()))))


def _ascii(name: str) -> str:
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "'": None, " ": None})
    return name.lower().translate(table)


def _orders(rng: random.Random, n: int, after: datetime) -> list[Order]:
    out = []
    for _ in range(n):
        when = _between(rng, after + timedelta(hours=1), END)
        status = rng.choice(N.ORDER_STATUSES)
        if status in ("processing", "shipped") and when < END - timedelta(days=14):
            status = "delivered"
        items = [
            (p, rng.choices((1, 2, 3), weights=(70, 20, 10))[0], price)
            for p, price in rng.sample(N.PRODUCTS, rng.randint(1, 4))
        ]
        out.append(Order(when, status, items))
    return out


def _fixed_people(rng: random.Random) -> list[Customer]:
    """The subject (1), her neighbour (2) and her husband (3): fixed identities, seeded details."""

    def made(day: datetime, n: int) -> list[Order]:
        orders = []
        for i in range(n):
            o = _orders(rng, 1, START)[0]
            o.ordered_at = day + timedelta(days=40 * i, minutes=rng.randint(0, 600))
            o.status = "delivered"
            orders.append(o)
        return orders

    subject = Customer(
        1,
        "Aino",
        "Mäkinen",
        "Aino.Makinen@Example.fi",
        "401234567",
        "040 123 4567",
        "Kuusitie 4 B 12",
        "33720",
        "Tampere",
        "1987-05-14",
        "fi",
        1,
        datetime(2021, 3, 9, 17, 42, 5, tzinfo=UTC),
    )
    for day in ("2024-02-05", "2024-09-02", "2024-10-25", "2025-01-10", "2025-05-30"):
        subject.orders += made(datetime.fromisoformat(day).replace(hour=7, tzinfo=UTC), 1)
    subject.orders[2].status = "returned"
    neighbour = Customer(
        2,
        "Pekka",
        "Virtanen",
        "pekka.virtanen@posti.example",
        "457654321",
        "045 765 4321",
        "Kuusitie 4 B 11",
        "33720",
        "Tampere",
        "1952-11-02",
        "fi",
        0,
        datetime(2020, 6, 1, 9, 3, 44, tzinfo=UTC),
    )
    neighbour.orders = made(datetime(2023, 12, 1, 8, tzinfo=UTC), 2) + made(datetime(2024, 4, 28, 8, tzinfo=UTC), 1)
    husband = Customer(
        3,
        "Juha",
        "Mäkinen",
        "juha.makinen@example.com",
        "509876543",
        "+358 50 9876543",
        "Kuusitie 4 B 12",
        "33720",
        "Tampere",
        "1985-01-23",
        "fi",
        1,
        datetime(2022, 10, 15, 12, 0, 31, tzinfo=UTC),
    )
    husband.orders = made(datetime(2023, 3, 3, 8, tzinfo=UTC), 2)
    return [subject, neighbour, husband]


def _customers(rng: random.Random, count: int) -> list[Customer]:
    people = _fixed_people(rng)
    emails = {c.email.lower() for c in people}
    phones = {c.national for c in people}
    for cid in range(len(people) + 1, count + 1):
        lang = "en" if rng.random() < 0.12 else "fi"
        first = rng.choice(N.EN_FIRST if lang == "en" else N.FI_FIRST)
        last = rng.choice(N.EN_LAST if lang == "en" else N.FI_LAST)
        if cid == HOSTILE_ID:
            first, last, lang = HOSTILE_FIRST_NAME, "Testaaja", "fi"
        local = "hyperlink.testaaja" if cid == HOSTILE_ID else f"{_ascii(first)}.{_ascii(last)}"
        domain = rng.choice(N.EMAIL_DOMAINS)
        email, n = f"{local}@{domain}", 1
        while email in emails:
            n += 1
            email = f"{local}{n}@{domain}"
        emails.add(email)
        national = rng.choice(N.MOBILE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"
        while national in phones:
            national = rng.choice(N.MOBILE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"
        phones.add(national)
        typed = rng.choices(phone_formats(national), weights=(40, 15, 20, 10, 10, 5))[0]
        city, prefix = rng.choice(N.CITIES)
        street = f"{rng.choice(N.STREETS)} {rng.randint(1, 60)}"
        if rng.random() < 0.5:
            street += f" {rng.choice('ABCDEF')} {rng.randint(1, 40)}"
        born = datetime(1940, 1, 1) + timedelta(days=rng.randint(0, 65 * 365))
        created = _between(rng, START, END - timedelta(days=30))
        c = Customer(
            cid,
            first,
            last,
            email,
            national,
            typed,
            street,
            f"{prefix}{rng.randint(0, 99):02d}",
            city,
            born.strftime("%Y-%m-%d"),
            lang,
            int(rng.random() < 0.55 or cid == HOSTILE_ID),
            created,
        )
        c.orders = _orders(rng, rng.choices(range(7), weights=(20, 25, 20, 15, 10, 6, 4))[0], created)
        people.append(c)
    orders = sorted(((o, c.id) for c in people for o in c.orders), key=lambda t: (t[0].ordered_at, t[1]))
    for i, (o, _) in enumerate(orders, start=1):
        o.id = i
    for c in people:
        c.orders.sort(key=lambda o: o.id)
    return people


def _replace_into(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_db(path: Path, people: list[Customer]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    for p in (tmp, tmp.with_name(tmp.name + "-journal")):
        p.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(SCHEMA)
        con.executemany(
            "INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    c.id,
                    c.first_name,
                    c.last_name,
                    c.email,
                    c.phone,
                    c.street,
                    c.postal_code,
                    c.city,
                    c.birth_date,
                    c.language,
                    c.marketing_consent,
                    _iso(c.created_at),
                )
                for c in people
            ],
        )
        orders = sorted(((o, c.id) for c in people for o in c.orders), key=lambda t: t[0].id)
        con.executemany(
            "INSERT INTO orders VALUES (?,?,?,?,?,?)",
            [(o.id, cid, _iso(o.ordered_at), o.status, o.total_cents, "EUR") for o, cid in orders],
        )
        con.executemany(
            "INSERT INTO order_items(order_id, product, quantity, unit_price_cents) VALUES (?,?,?,?)",
            [(o.id, p, q, u) for o, _ in orders for p, q, u in o.items],
        )
        con.commit()
    finally:
        con.close()
    os.replace(tmp, path)


def _member(rng: random.Random, c: Customer, list_no: int, is_subject: bool) -> dict:
    signup = c.created_at + timedelta(days=rng.randint(0, 90), seconds=rng.randint(0, 86399))
    tags = [
        {"id": i + 1, "name": N.TAGS[i], "date_added": _iso(_between(rng, signup, END))}
        for i in sorted(rng.sample(range(len(N.TAGS)), 2 if is_subject else rng.randint(0, 2)))
    ]
    activity = []
    for _ in range(rng.randint(6, 9) if is_subject else rng.randint(0, 6)):
        cid, title = rng.choice(N.CAMPAIGNS)
        action = rng.choices(("open", "click", "bounce"), weights=(70, 27, 3))[0]
        activity.append(
            {"action": action, "timestamp": _iso(_between(rng, signup, END)), "campaign_id": cid, "title": title}
        )
    activity.sort(key=lambda a: (a["timestamp"], a["campaign_id"]))
    status = "subscribed" if is_subject else rng.choices(("subscribed", "unsubscribed", "cleaned"), (85, 10, 5))[0]
    return {
        "email_address": c.email.lower(),
        "status": status,
        "merge_fields": {"FNAME": c.first_name, "LNAME": c.last_name},
        "ip_signup": f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}",
        "timestamp_signup": _iso(signup),
        "language": c.language,
        "tags": tags,
        "activity": activity,
        "id": f"{list_no}{c.id:08d}",
    }


def _mailchimp(rng: random.Random, people: list[Customer]) -> bytes:
    lists: list[dict[str, Any]] = [
        {"id": "a1b2c3d4e5", "name": "Uutiskirje", "members": []},
        {"id": "f6a7b8c9d0", "name": "Tarjoukset", "members": []},
    ]
    for c in people:
        if not c.marketing_consent:
            continue
        for no, (lst, p) in enumerate(zip(lists, (0.85, 0.45), strict=True), start=1):
            if c.id == 1 or rng.random() < p:
                lst["members"].append(_member(rng, c, no, c.id == 1))
    return (json.dumps({"lists": lists}, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def generate_company(workdir: Path, seed: int = 2026, customers: int = 1200, messages: int = 2400) -> DemoCompany:
    """Write the demo company's three data files into `workdir` (overwriting them) and describe it."""
    if customers < 50:
        raise ValueError(f"customers={customers}: the demo company needs at least 50 customers")
    if messages < 50:
        raise ValueError(f"messages={messages}: the demo archive needs at least 50 messages")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    people = _customers(rng, customers)
    subject, neighbour, husband = people[:3]

    mails = subject_threads(random.Random(f"{seed}/subject"), subject, neighbour, husband)
    others = people[1:]
    while len(mails) < messages:
        cust = rng.choice(others)
        order = rng.choice(cust.orders) if cust.orders and rng.random() < 0.8 else None
        start = (
            order.ordered_at + timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 900))
            if order
            else _between(rng, cust.created_at, END)
        )
        mails += general_thread(rng, cust, others, start)[: messages - len(mails)]

    db, mbox, mc = workdir / "customers.db", workdir / "support.mbox", workdir / "mailchimp.json"
    _write_db(db, people)
    write_mbox(mails, mbox)
    _replace_into(mc, _mailchimp(rng, people))
    return DemoCompany(
        workdir=workdir,
        customers_db=db,
        mail_archive=mbox,
        mailchimp_data=mc,
        subject_email=subject.email.lower(),
        subject_name=f"{subject.first_name} {subject.last_name}",
        subject_phone=subject.e164,
        third_party_email=neighbour.email,
        third_party_phone=neighbour.e164,
        staff_address=N.ROLE_ADDRESS,
        third_party_identifiers=(
            neighbour.first_name, neighbour.last_name, neighbour.email, neighbour.phone, neighbour.street,
            husband.first_name, husband.email, husband.phone,
        ),
    )
