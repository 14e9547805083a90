"""The seeded demo company: deterministic files, sizes, and the subject's tricky threads."""

from __future__ import annotations

import email.utils
import json
import mailbox
import re
import sqlite3
from email.errors import NoBoundaryInMultipartDefect
from email.header import decode_header, make_header

import pytest

from flows.demo.company import DemoCompany, generate_company

FILES = ("customers.db", "support.mbox", "mailchimp.json")


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> DemoCompany:
    return generate_company(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def archive(company) -> list[mailbox.mboxMessage]:
    return list(mailbox.mbox(company.mail_archive, create=False))


def addresses(msg, headers=("From", "To", "Cc")) -> list[str]:
    return [a for h in headers for _, a in email.utils.getaddresses(msg.get_all(h, []))]


def subject_messages(company, archive):
    return [m for m in archive if company.subject_email in (a.lower() for a in addresses(m))]


def text_of(msg) -> str:
    """Decoded headers and every leaf body, as a reader or a redactor would see them."""
    parts = [str(make_header(decode_header(str(msg.get(h, ""))))) for h in ("From", "To", "Cc", "Subject")]
    for part in msg.walk():
        if not part.is_multipart():
            parts.append((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
    return "\n".join(parts)


def phone_digits(text: str) -> set[str]:
    """Every phone-like number in `text` as E.164 digits (Finnish national 0 -> 358)."""
    found = set()
    for raw in re.findall(r"\+?\d[\d \-]{6,}\d", text):
        digits = re.sub(r"\D", "", raw)
        found.add("358" + digits[1:] if digits.startswith("0") else digits)
    return found


def test_same_seed_gives_identical_bytes_and_other_seed_differs(company, tmp_path):
    again = generate_company(tmp_path / "again")
    for name in FILES:
        assert (again.workdir / name).read_bytes() == (company.workdir / name).read_bytes(), name
    assert again == DemoCompany(
        **{
            **company.__dict__,
            "workdir": again.workdir,
            "customers_db": again.customers_db,
            "mail_archive": again.mail_archive,
            "mailchimp_data": again.mailchimp_data,
        }
    )
    other = generate_company(tmp_path / "other", seed=7, customers=200, messages=300)
    assert other.mail_archive.read_bytes() != company.mail_archive.read_bytes()


def test_regenerating_in_place_overwrites_and_leaves_no_temporary_files(tmp_path):
    first = generate_company(tmp_path, seed=3, customers=100, messages=120)
    before = {n: (tmp_path / n).read_bytes() for n in FILES}
    (tmp_path / "support.mbox").write_text("garbage")
    second = generate_company(tmp_path, seed=3, customers=100, messages=120)
    assert first == second
    assert {n: (tmp_path / n).read_bytes() for n in FILES} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    assert len(mailbox.mbox(tmp_path / "support.mbox")) == 120


def test_customer_database_shape_and_subject(company):
    con = sqlite3.connect(company.customers_db)
    try:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] >= 1000
        per_customer = dict(con.execute("SELECT customer_id, count(*) FROM orders GROUP BY customer_id"))
        assert max(per_customer.values()) <= 6
        items = [n for (n,) in con.execute("SELECT count(*) FROM order_items GROUP BY order_id")]
        assert min(items) >= 1 and max(items) <= 4
        assert (
            con.execute(
                "SELECT count(*) FROM orders o LEFT JOIN order_items i ON i.order_id = o.id WHERE i.id IS NULL"
            ).fetchone()[0]
            == 0
        )
        bad_totals = con.execute(
            "SELECT count(*) FROM orders o WHERE total_cents != (SELECT sum(quantity * "
            "unit_price_cents) FROM order_items WHERE order_id = o.id)"
        ).fetchone()[0]
        assert bad_totals == 0
        first, last, stored, phone, lang = con.execute(
            "SELECT first_name, last_name, email, phone, language FROM customers WHERE id = 1"
        ).fetchone()
        assert f"{first} {last}" == company.subject_name and lang == "fi"
        assert stored != company.subject_email and stored.lower() == company.subject_email
        assert "+358" + re.sub(r"\D", "", phone)[1:] == company.subject_phone
        assert per_customer[1] >= 3
        emails = [e for (e,) in con.execute("SELECT email FROM customers")]
        assert len({e.lower() for e in emails}) == len(emails)
        assert company.third_party_email in emails
        assert con.execute("SELECT count(*) FROM customers WHERE first_name LIKE '=HYPERLINK(%'").fetchone()[0] == 1
        assert (
            con.execute(
                "SELECT count(*) FROM customers WHERE first_name GLOB '*[äö]*' OR last_name GLOB '*[äö]*'"
            ).fetchone()[0]
            > 100
        )
        assert {lang for (lang,) in con.execute("SELECT DISTINCT language FROM customers")} == {"fi", "en"}
    finally:
        con.close()


def test_archive_size_and_threading(archive):
    assert len(archive) >= 2000
    ids = {m["Message-ID"] for m in archive}
    assert len(ids) == len(archive)
    replies = [m for m in archive if m["In-Reply-To"]]
    assert len(replies) > len(archive) // 2
    assert all(m["In-Reply-To"] in ids and m["In-Reply-To"] in m["References"] for m in replies)
    assert all(m.get_from() and m["Date"] for m in archive)


def test_subject_threads_carry_third_parties(company, archive):
    mine = subject_messages(company, archive)
    roots = {(m["References"] or m["Message-ID"]).split()[0] for m in mine}
    assert len(mine) >= 15 and len(roots) >= 6
    written = {a for m in mine for a in addresses(m) if a.lower() == company.subject_email}
    assert len(written) >= 3, "the subject's address should appear in several letter cases"
    only_cc = [m for m in mine if company.subject_email not in (a.lower() for a in addresses(m, ("From", "To")))]
    assert len(only_cc) >= 3, "the subject should sometimes be only in Cc"
    text = "\n".join(text_of(m) for m in mine)
    assert company.third_party_email in text
    assert company.third_party_phone.lstrip("+") in phone_digits(text)
    assert company.staff_address in text


def test_archive_holds_awkward_mime(company, archive):
    mine = subject_messages(company, archive)
    encodings = {m.get("Content-Transfer-Encoding") for m in mine}
    assert {"quoted-printable", "base64"} <= encodings
    assert any(p.get_filename() == "palautuslomake.txt" for m in mine for p in m.walk())
    assert any(any(isinstance(d, NoBoundaryInMultipartDefect) for d in m.defects) for m in mine)
    assert any("=?iso-8859-1?" in str(m["Subject"]) for m in mine)
    assert sum("=?utf-8?" in str(m["From"]) for m in archive) > 100

    def undecodable(m) -> bool:
        try:
            (m.get_payload(decode=True) or b"").decode(m.get_content_charset() or "ascii")
        except UnicodeDecodeError:
            return True
        return False

    assert any(not m.is_multipart() and undecodable(m) for m in mine)


def test_mailchimp_export(company):
    raw = company.mailchimp_data.read_text(encoding="utf-8")
    data = json.loads(raw)
    assert raw == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert [lst["name"] for lst in data["lists"]] == ["Uutiskirje", "Tarjoukset"]
    con = sqlite3.connect(company.customers_db)
    consented = {e.lower() for (e,) in con.execute("SELECT email FROM customers WHERE marketing_consent = 1")}
    con.close()
    for lst in data["lists"]:
        members = {m["email_address"]: m for m in lst["members"]}
        assert set(members) <= consented and len(members) > 100
        me = members[company.subject_email]
        assert me["status"] == "subscribed" and me["tags"] and len(me["activity"]) >= 5
        assert me["merge_fields"] == {"FNAME": "Aino", "LNAME": "Mäkinen"}
