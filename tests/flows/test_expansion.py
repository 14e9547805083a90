"""Identity expansion on the demo company's real SQLite customer database and mbox archive.

The subject's customer row gains a second address and a mobile number; the archive gains a message they
sent from that address, naming their mobile and a neighbour's address.
"""

import io
import json
import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from exports.storage import LocalStorage
from extractors.records import CUSTOMER_ID, EMAIL, PHONE, Identifier, Record
from flows import stages
from flows.config import load_config
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import demo_key_file, prepare_demo
from flows.demo.settings import demo_config
from flows.errors import ConfigError, StageFailed
from flows.notify import Outbox
from flows.runtime import open_runtime
from tests.flows.privacy import find_in_database
from tests.flows.verified_requests import verified_requests

ALT = "asiakas.4471@tyopaikka.example"
MOBILE_TYPED, MOBILE = "050 765 4321", "+358507654321"
STRANGER = "pertti.paananen@naapurit.example"
IDENTIFIERS = ('trusted = true\n'
               'identifiers = { email = ["alt_email"], phone = ["phone", "mobile"], customer_id = ["id"] }\n')
FROM_ALT = f"""
From {ALT} Mon Jan  1 00:00:00 2024
From: {ALT}
To: asiakaspalvelu@demokauppa.example
Subject: Paketin nouto
Date: Mon, 01 Jan 2024 10:00:00 +0200
Message-ID: <expand-1@tyopaikka.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hei, kirjoitan työosoitteestani {ALT}. Soittakaa numeroon {MOBILE_TYPED}.
Naapurini {STRANGER} voi myös noutaa paketin.
"""


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    demo, secrets = prepare_demo(tmp_path_factory.mktemp("expansion") / "demo")
    with sqlite3.connect(demo.customers_db) as db:
        db.execute("ALTER TABLE customers ADD COLUMN alt_email TEXT")
        db.execute("ALTER TABLE customers ADD COLUMN mobile TEXT")
        db.execute("UPDATE customers SET alt_email = ?, mobile = ? WHERE lower(email) = ?",
                   (ALT.upper(), MOBILE_TYPED, demo.subject_email))  # as typed: case is no part of an address
    with demo.mail_archive.open("a", encoding="utf-8") as mbox:
        mbox.write(FROM_ALT + "\n")
    return demo, secrets


@pytest.fixture(scope="module")
def configs(company):
    """The demo config with the customer database trusted, and as it is (nothing trusted): name -> path."""
    demo, secrets = company
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        text = demo_config(mailchimp.base_url, demo.staff_address, demo_key_file(demo.workdir))
        paths = {"trusted": demo.workdir / "dsar-trusted.toml", "untrusted": demo.workdir / "dsar-untrusted.toml"}
        paths["trusted"].write_text(text.replace('name = "customers"\n', 'name = "customers"\n' + IDENTIFIERS))
        paths["untrusted"].write_text(text)
        yield paths


@pytest.fixture
def verified(company):
    """Registers and verifies a request of the demo subject (or `email`); closes it after the test."""
    demo, _ = company
    yield from verified_requests(demo.subject_email)


def staged(rt, request_id, source) -> list[Record]:
    path = rt.work_dir(request_id) / "extracted" / f"{source}.jsonl"
    return [Record.from_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


def redacted_message(rt, request_id, message_id):
    path = rt.work_dir(request_id) / "redacted" / "support_mail" / "messages.jsonl"
    [message] = [r.data for r in map(Record.from_json, path.read_text(encoding="utf-8").splitlines())
                 if r.data["message_id"] == message_id]
    return message


def done(rt, request_id, stage) -> dict:
    detail = rt.store.stage_done(request_id, stage)
    assert detail is not None, f"{stage} is not done"
    return detail


def needles() -> list[str]:
    return [ALT, MOBILE, MOBILE_TYPED, MOBILE.removeprefix("+")]


def test_mail_sent_from_the_subjects_other_address_is_found_and_theirs_is_kept(configs, verified):
    rt = open_runtime(configs["trusted"])
    request_id = verified(rt)
    stages.verify_identity(rt, request_id)
    # The mail source first: the trusted customer database is extracted before it all the same.
    mail = stages.extract(rt, request_id, "support_mail")
    customers = done(rt, request_id, "extract:customers")
    for source in ("marketing", "customers"):
        stages.extract(rt, request_id, source)
    assert any(r.data["message_id"] == "expand-1@tyopaikka.example" for r in staged(rt, request_id, "support_mail"))
    assert customers["expanded"] == {CUSTOMER_ID: 1, EMAIL: 1, PHONE: 2}
    assert customers["searched"] == {EMAIL: 1}  # a trusted source searches for the verified address alone
    assert mail["searched"] == {EMAIL: 2, PHONE: 2, CUSTOMER_ID: 1}

    stages.redact(rt, request_id)
    body = redacted_message(rt, request_id, "expand-1@tyopaikka.example")["body"]
    assert ALT in body and MOBILE_TYPED in body, "the subject's own address and number were redacted"
    assert STRANGER not in body and "[person-" in body, "the neighbour's address was not redacted"

    # Counts only: no identifier reaches the ledger or the request store.
    assert find_in_database(rt.config.base_dir / "dsar.db", needles()) == []


def test_an_untrusted_source_never_expands_the_subject(configs, verified):
    rt = open_runtime(configs["untrusted"])
    request_id = verified(rt)
    stages.verify_identity(rt, request_id)
    details = {s.name: stages.extract(rt, request_id, s.name) for s in rt.config.sources}
    # Both the customer row and the Mailchimp member describe the subject, and hold their other identifiers...
    assert any(r.about_subject and r.data.get("alt_email") for r in staged(rt, request_id, "customers"))
    assert any(r.about_subject for r in staged(rt, request_id, "marketing"))
    # ... but neither is trusted: nothing is searched for but the verified address.
    request = rt.store.get(request_id)
    assert stages.subject_of(rt, request_id, request).also == ()
    assert all("expanded" not in d and d["searched"] == {EMAIL: 1} for d in details.values())
    assert not any(r.data["message_id"] == "expand-1@tyopaikka.example"
                   for r in staged(rt, request_id, "support_mail"))


def test_a_resumed_run_searches_for_the_same_subject(company, configs, verified):
    demo, _ = company
    rt = open_runtime(configs["trusted"])
    request_id = verified(rt)
    stages.verify_identity(rt, request_id)
    first = {s.name: stages.extract(rt, request_id, s.name) for s in rt.config.sources}
    subject = stages.subject_of(rt, request_id, rt.store.get(request_id))
    assert [(i.kind, i.value, i.source, i.column) for i in subject.also] == [
        (EMAIL, ALT, "customers", "alt_email"), (PHONE, demo.subject_phone, "customers", "phone"),
        (PHONE, MOBILE, "customers", "mobile"),
        (CUSTOMER_ID, str(staged(rt, request_id, "customers")[0].data["id"]), "customers", "id")]
    assert subject.also[2] == Identifier(PHONE, MOBILE, "customers", "customer", "mobile")

    # Another process resumes after the mail source's staging was lost: it searches for the same.
    rt.store.reset_stages(request_id, ["extract:support_mail"])
    (rt.work_dir(request_id) / "extracted" / "support_mail.jsonl").unlink()
    resumed = open_runtime(configs["trusted"])
    assert stages.subject_of(resumed, request_id, resumed.store.get(request_id)) == subject
    again = stages.extract(resumed, request_id, "support_mail")
    assert (again["sha256"], again["searched"]) == (first["support_mail"]["sha256"], first["support_mail"]["searched"])

    # The trusted source's staging altered (another address slipped in): not believed, extracted anew.
    path = rt.work_dir(request_id) / "extracted" / "customers.jsonl"
    row = staged(rt, request_id, "customers")[0]
    forged = Record(row.source, row.category, "forged", {**row.data, "alt_email": STRANGER}, about_subject=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(forged.to_json() + "\n")
    resumed.store.reset_stages(request_id, ["extract:support_mail"])
    with pytest.raises(StageFailed, match=r"staged data is missing or changed \(extract:customers\)"):
        stages.extract(resumed, request_id, "support_mail")
    assert resumed.store.stage_done(request_id, "extract:customers") is None
    assert not path.exists()


@pytest.mark.parametrize(("section", "key", "message"), [
    ('trusted = true\nidentifiers = { address = ["alt_email"] }\n', "sources.0.identifiers.address",
     "use one of email, phone, customer_id"),
    ('identifiers = { email = ["alt_email"] }\n', "sources.0.identifiers", "only a source with trusted = true"),
    ("trusted = true\n", "sources.0.identifiers", "missing"),
    ('trusted = "yes"\nidentifiers = { email = ["alt_email"] }\n', "sources.0.trusted", "use true or false"),
    ('trusted = true\nidentifiers = { email = "alt_email" }\n', "sources.0.identifiers.email", "list of record keys"),
])
def test_a_wrong_trusted_section_is_refused_naming_the_key(tmp_path, section, key, message):
    path = tmp_path / "dsar.toml"
    text = demo_config("http://127.0.0.1:9/3.0", "x@demokauppa.example").replace('env_file = "dsar.env"\n', "")
    path.write_text(text.replace('name = "customers"\n', 'name = "customers"\n' + section))
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert error.value.key == key and message in str(error.value)


def test_trusted_keys_stay_out_of_the_source_settings(configs):
    customers, mail, marketing = load_config(configs["trusted"], environ={}).sources
    assert customers.trusted and dict(customers.identifiers) == {
        EMAIL: ("alt_email",), PHONE: ("phone", "mobile"), CUSTOMER_ID: ("id",)}
    assert not mail.trusted and not marketing.trusted
    assert "trusted" not in customers.settings and "identifiers" not in customers.settings


@pytest.mark.e2e
def test_a_flow_run_finds_the_other_address_and_tells_only_the_requester(prefect_api, configs, verified,
                                                                         monkeypatch):
    from flows.fulfil import run_request
    from tests.exports.age_cli import age_decrypt
    from tests.flows.privacy import drain_prefect, find_in_files

    rt = open_runtime(configs["trusted"])
    request_id = verified(rt)
    monkeypatch.setenv("DSAR_CONFIG", str(configs["trusted"]))
    run_request(request_id)
    assert rt.store.get(request_id).status == "delivered"

    stored = done(rt, request_id, "store")
    assert isinstance(rt.mailer, Outbox) and isinstance(rt.storage, LocalStorage)
    passphrase = rt.mailer.read(f"{request_id}-passphrase").strip().splitlines()[-1].strip()
    package = zipfile.ZipFile(io.BytesIO(age_decrypt(rt.storage.path(stored["object_key"]), passphrase)))
    readme = package.read(f"{request_id}/README.html").decode("utf-8")
    assert ALT in readme and MOBILE in readme  # the requester's own copy says what was searched for
    mails = [n for n in package.namelist() if n.startswith(f"{request_id}/data/support_mail/messages/")]
    assert any(ALT.encode() in package.read(n) and STRANGER.encode() not in package.read(n) for n in mails)

    drain_prefect()
    assert find_in_database(Path(prefect_api), needles()) == []
    assert find_in_files(Path(os.environ["PREFECT_HOME"]), needles()) == []
    assert find_in_database(rt.config.base_dir / "dsar.db", needles()) == []


def test_only_values_that_are_identifiers_of_their_kind_expand():
    """A column holding "-", a display name, an address the mail system takes no part of (non-ASCII, without
    allow_smtputf8) or nothing adds nothing. Addresses come out as sources compare them, phones in E.164."""
    from flows.config import SourceSpec
    from flows.expansion import identifiers_in

    spec = SourceSpec("customers", "sql", {}, trusted=True,
                      identifiers={EMAIL: ("alt_email", "old_email"), PHONE: ("mobile",), CUSTOMER_ID: ("id",)})
    rows = [Record("customers", "customer", "1", {"alt_email": "Tyo.Osoite@Firma.Example", "old_email": "-",
                                                  "mobile": "050 765 4321", "id": 7}, about_subject=True),
            Record("customers", "customer", "2", {"alt_email": "Aino <a@b.fi>", "old_email": "työ@b.fi",
                                                  "mobile": "ei ole", "id": ""}, about_subject=True),
            Record("customers", "orders", "3", {"alt_email": "x@y.fi", "id": 8})]  # not about the subject
    assert [(i.kind, i.value, i.category, i.column) for i in identifiers_in(spec, rows, "FI")] == [
        (EMAIL, "tyo.osoite@firma.example", "customer", "alt_email"), (PHONE, MOBILE, "customer", "mobile"),
        (CUSTOMER_ID, "7", "customer", "id")]
    untrusted = SourceSpec("marketing", "mailchimp", {})
    assert list(identifiers_in(untrusted, rows, "FI")) == []
