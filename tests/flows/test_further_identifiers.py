"""Further addresses and phone numbers a requester names, on the demo company's real mbox and customer database.

The archive gains a message the subject sent from their work address and one sent from an address they name
but never verify; only the first may be found.
"""

import hashlib
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from extractors.records import EMAIL, PHONE
from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import demo_key_file, prepare_demo
from flows.demo.settings import demo_config
from flows.errors import ConfigError, InvalidRequest
from flows.identifiers import add_identifier, submit_identifier_code
from flows.notify import Outbox
from flows.runtime import open_runtime
from flows.sms import SmsOutbox
from identity.errors import VerificationFailed
from tests.exports.age_cli import age_decrypt
from tests.flows.privacy import drain_prefect, find_in_database
from tests.flows.verified_requests import verified_requests

pytestmark = pytest.mark.e2e

WORK = "aino.tyo@tyopaikka.example"
UNVERIFIED = "vanha.osoite@entinen.example"
PHONE_TYPED, PHONE_E164 = "040 765 4321", "+358407654321"
SMS = '\n[sms]\noutbox = "sms-outbox"\n'


def _message(sender: str, message_id: str, body: str) -> str:
    return f"""
From {sender} Mon Jan  1 00:00:00 2024
From: {sender}
To: asiakaspalvelu@demokauppa.example
Subject: Tilaukseni
Date: Mon, 01 Jan 2024 10:00:00 +0200
Message-ID: <{message_id}>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

{body}
"""


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    demo, secrets = prepare_demo(tmp_path_factory.mktemp("further") / "demo")
    with demo.mail_archive.open("a", encoding="utf-8") as mbox:
        mbox.write(_message(WORK, "work-1@tyopaikka.example", "Kirjoitan työosoitteestani.") + "\n")
        mbox.write(_message(UNVERIFIED, "old-1@entinen.example", "Kirjoitan vanhasta osoitteesta.") + "\n")
    return demo, secrets


@pytest.fixture(scope="module")
def configs(company):
    """The demo config with an SMS outbox, without any SMS channel, and with the customer database trusted:
    name -> path."""
    demo, secrets = company
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        text = demo_config(mailchimp.base_url, demo.staff_address, demo_key_file(demo.workdir))
        paths = {name: demo.workdir / f"dsar-{name}.toml" for name in ("sms", "plain", "trusted")}
        paths["sms"].write_text(text + SMS)
        paths["plain"].write_text(text)
        trusted = 'name = "customers"\ntrusted = true\nidentifiers = { customer_id = ["id"] }\n'
        paths["trusted"].write_text(text.replace('name = "customers"\n', trusted))
        yield paths


@pytest.fixture
def verified(company):
    demo, _ = company
    yield from verified_requests(demo.subject_email)


def code_in(text: str) -> str:
    found = re.search(r"\b(\d{8})\b", text)
    assert found is not None, "no code in the message"
    return found.group(1)


def mailed_code(rt, key: str) -> str:
    assert isinstance(rt.mailer, Outbox)
    return code_in(rt.mailer.read(key))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


def run(rt, request_id, monkeypatch):
    monkeypatch.setenv("DSAR_CONFIG", str(rt.config.path))
    from flows.fulfil import run_request

    assert run_request(request_id) == request_id
    return rt.store.get(request_id)


def package_of(rt, request_id) -> zipfile.ZipFile:
    assert isinstance(rt.mailer, Outbox)
    passphrase = rt.mailer.read(f"{request_id}-passphrase").strip().splitlines()[-1].strip()
    stored = rt.store.stage_done(request_id, "store")
    assert stored is not None
    return zipfile.ZipFile(io.BytesIO(age_decrypt(rt.storage.path(stored["object_key"]), passphrase)))


def ledger_rows(rt) -> str:
    with sqlite3.connect(rt.config.sqlalchemy_url(rt.config.store.url).removeprefix("sqlite:///")) as db:
        return "\n".join(map(str, db.execute("SELECT * FROM audit_events").fetchall())).lower()


def test_a_second_verified_address_finds_the_subjects_mail_at_both(prefect_api, configs, verified, company,
                                                                    monkeypatch):
    demo, _ = company
    rt = open_runtime(configs["sms"])
    request_id = verified(rt)
    work_key = add_identifier(rt, request_id, EMAIL, WORK.upper())  # case is no part of an address
    phone_key = add_identifier(rt, request_id, PHONE, PHONE_TYPED)
    add_identifier(rt, request_id, EMAIL, UNVERIFIED)  # named, never verified

    # A wrong code for the work address spends one of its tries and changes nothing else.
    work_code = mailed_code(rt, work_key)
    with pytest.raises(VerificationFailed):
        submit_identifier_code(rt, request_id, WORK, wrong(work_code))
    request = rt.store.get(request_id)
    assert request.status == "verified" and request.evidence is not None
    assert [(i.value, i.verified_at) for i in rt.store.identifiers(request_id)] == [
        (WORK, None), (PHONE_E164, None), (UNVERIFIED, None)]
    assert submit_identifier_code(rt, request_id, WORK, work_code).verified_at is not None
    sms = SmsOutbox(demo.workdir / "sms-outbox")
    assert json.loads((sms.directory / f"{phone_key}.json").read_text())["to"] == PHONE_E164
    submit_identifier_code(rt, request_id, "+358 40 7654321", code_in(sms.read(phone_key)))

    assert run(rt, request_id, monkeypatch).status == "delivered"
    package = package_of(rt, request_id)
    root = f"{request_id}/"
    messages = json.loads(package.read(root + "data/support_mail/messages.json"))
    found = {m["message_id"] for m in messages}
    assert "work-1@tyopaikka.example" in found, "the mail from the verified second address is missing"
    assert len(found) > 1, "the mail at the request's own address is missing"
    assert "old-1@entinen.example" not in found, "an unverified address was searched"
    assert (rt.store.stage_done(request_id, "extract:support_mail") or {})["searched"] == {EMAIL: 2, PHONE: 1}

    index = json.loads(package.read(root + "index.json"))
    assert index["identifiers"] == {
        "searched": [{"kind": EMAIL, "value": demo.subject_email, "found_in": ""},
                     {"kind": EMAIL, "value": WORK, "found_in": ""},
                     {"kind": PHONE, "value": PHONE_E164, "found_in": ""}],
        "not_verified": [{"kind": EMAIL, "value": UNVERIFIED}]}
    readme = package.read(root + "README.html").decode()
    searched, _, not_searched = readme.partition("did not verify them, so we did not search for them")
    assert WORK in searched and PHONE_E164 in searched and UNVERIFIED in not_searched
    assert UNVERIFIED not in searched

    # The ledger names identifiers by kind and hash; Prefect holds none of them.
    actions = [e.action for e in rt.ledger.events(request_id)]
    assert actions.count("identifier_added") == 3 and actions.count("identifier_verified") == 2
    assert actions.count("identifier_failed") == 1
    needles = [demo.subject_email, WORK, UNVERIFIED, PHONE_E164, PHONE_E164.removeprefix("+"), "7654321"]
    assert not [n for n in needles if n.lower() in ledger_rows(rt)]
    # Nor by a plain hash anyone could recompute from a guessed address: the hash is keyed.
    named = {str(e.detail["identifier"]) for e in rt.ledger.events(request_id) if e.action == "identifier_added"}
    plain = {hashlib.sha256(f"dsar identifier\0{EMAIL}\0{WORK}".encode()).hexdigest()[:16]}
    assert len(named) == 3 and not named & plain
    drain_prefect()
    assert find_in_database(Path(prefect_api), needles) == []


def test_an_unverified_address_is_never_searched_and_its_code_works_only_before_the_search(configs, verified):
    rt = open_runtime(configs["sms"])
    request_id = verified(rt)
    key = add_identifier(rt, request_id, EMAIL, UNVERIFIED)
    stages.verify_identity(rt, request_id)
    stages.extract(rt, request_id, "support_mail")
    staged = (rt.work_dir(request_id) / "extracted" / "support_mail.jsonl").read_text()
    assert "old-1@entinen.example" not in staged
    with pytest.raises(InvalidRequest, match="searched already"):
        submit_identifier_code(rt, request_id, UNVERIFIED, mailed_code(rt, key))
    assert rt.store.identifiers(request_id)[0].verified_at is None


def test_a_used_up_second_code_stays_refused_and_the_first_address_stays_verified(configs, verified):
    rt = open_runtime(configs["sms"])
    request_id = verified(rt)
    code = mailed_code(rt, add_identifier(rt, request_id, EMAIL, WORK))
    for _ in range(rt.config.identity.code_attempts):
        with pytest.raises(VerificationFailed):
            submit_identifier_code(rt, request_id, WORK, wrong(code))
    with pytest.raises(VerificationFailed):
        submit_identifier_code(rt, request_id, WORK, code)  # right, but too late
    assert rt.store.identifiers(request_id)[0].verified_at is None
    assert rt.store.get(request_id).status == "verified"


def test_a_copied_verification_reads_as_absent(configs, verified):
    """Whoever can edit the store cannot mark one identifier verified by copying another's record."""
    rt = open_runtime(configs["sms"])
    request_id = verified(rt)
    code = mailed_code(rt, add_identifier(rt, request_id, EMAIL, WORK))
    submit_identifier_code(rt, request_id, WORK, code)
    add_identifier(rt, request_id, EMAIL, UNVERIFIED)
    with rt.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE request_identifiers SET verified = (SELECT verified FROM request_identifiers "
                             "WHERE request_id = ? AND value = ?) WHERE request_id = ? AND value = ?",
                             (request_id, WORK, request_id, UNVERIFIED))
    assert [(i.value, i.verified_at is not None) for i in rt.store.identifiers(request_id)] == [
        (WORK, True), (UNVERIFIED, False)]
    assert [i.value for i in stages.requested_subject(rt, rt.store.get(request_id)).also] == [WORK]


def test_a_phone_needs_an_sms_channel_and_a_possible_number(configs, verified):
    rt = open_runtime(configs["plain"])
    request_id = verified(rt)
    with pytest.raises(ConfigError, match=r"sms: missing: configure \[sms\]"):
        add_identifier(rt, request_id, PHONE, PHONE_TYPED)
    rt = open_runtime(configs["sms"])
    with pytest.raises(InvalidRequest, match="not a possible number in region FI"):
        add_identifier(rt, request_id, PHONE, "12")
    with pytest.raises(InvalidRequest, match="request's own address"):
        add_identifier(rt, request_id, EMAIL, rt.store.get(request_id).email.upper())
    assert rt.store.identifiers(request_id) == ()


def test_the_cli_names_and_verifies_further_identifiers_with_codes_piped_or_given(configs):
    from tests.flows.test_cli import dsar

    config, outbox, sms = str(configs["sms"]), configs["sms"].parent / "outbox", configs["sms"].parent / "sms-outbox"
    new = dsar("request", "new", "--email", "liisa@example.fi", "--also-email", "Liisa@Tyo.example",
               "--also-phone", "040 111 2233", "--config", config)
    assert new.returncode == 0, new.stderr
    request_id = new.stdout.split()[0]
    assert "and one to each of 2 further identifiers" in new.stdout

    [first] = outbox.glob(f"{request_id}-code-*.eml")
    empty = dsar("request", "verify", request_id, "--config", config, stdin="")
    assert empty.returncode == 2 and "no code on stdin; pipe it in or give --code" in empty.stderr
    piped = dsar("request", "verify", request_id, "--config", config, stdin=code_in(first.read_text()) + "\n")
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr  # no GetPassWarning without a terminal
    [second] = outbox.glob(f"{request_id}-email-*-code-*.eml")
    code = code_in(second.read_text())
    refused = dsar("request", "verify", request_id, "--identifier", "liisa@tyo.example", "--code", wrong(code),
                   "--config", config)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "verification failed" in refused.stderr
    right = dsar("request", "verify", request_id, "--identifier", "liisa@tyo.example", "--config", config,
                 stdin=code + "\n")
    assert right.returncode == 0 and right.stderr == "", right.stderr
    [text] = sms.glob(f"{request_id}-phone-*-code-*.json")
    phone = dsar("request", "verify", request_id, "--identifier", "+358401112233", "--code",
                 code_in(text.read_text()), "--config", config)
    assert phone.returncode == 0, phone.stderr

    show = dsar("request", "show", request_id, "--config", config).stdout
    assert "also        email liisa@tyo.example (verified)" in show
    assert "also        phone +358401112233 (verified)" in show
    both = dsar("request", "add-identifier", request_id, "--email", "a@b.example", "--phone", "0401", "--config",
                config)
    assert both.returncode == 2 and "give one of --email and --phone" in both.stderr
    dsar("request", "close", request_id, "--reason", "withdrawn", "--config", config)

    before = dsar("requests", "list", "--config", str(configs["plain"])).stdout
    no_sms = dsar("request", "new", "--email", "pekka@example.fi", "--also-phone", "040 111 2233", "--config",
                  str(configs["plain"]))
    assert no_sms.returncode == 2 and no_sms.stderr.count("\n") == 1 and "sms: missing" in no_sms.stderr
    assert dsar("requests", "list", "--config", str(configs["plain"])).stdout == before, "a request was recorded"


def test_a_trusted_source_searches_for_a_verified_second_address_and_adds_only_its_own(configs, verified):
    from extractors.records import CUSTOMER_ID

    rt = open_runtime(configs["trusted"])
    request_id = verified(rt)
    submit_identifier_code(rt, request_id, WORK, mailed_code(rt, add_identifier(rt, request_id, EMAIL, WORK)))
    stages.verify_identity(rt, request_id)
    mail = stages.extract(rt, request_id, "support_mail")
    customers = rt.store.stage_done(request_id, "extract:customers")
    assert customers is not None
    assert customers["searched"] == {EMAIL: 2} and customers["expanded"] == {CUSTOMER_ID: 1}
    assert mail["searched"] == {EMAIL: 2, CUSTOMER_ID: 1}


def test_once_a_run_has_begun_no_identifier_is_added_or_verified(configs, verified):
    """A run searches its sources one after another: a code typed while the first is being searched (no extract
    recorded yet) would have the later sources, and README.html, search for an address the first never was."""
    rt = open_runtime(configs["sms"])
    request_id = verified(rt)
    key = add_identifier(rt, request_id, EMAIL, WORK)
    stages.verify_identity(rt, request_id)
    assert rt.store.get(request_id).status == "running"
    assert not any(rt.store.stage_done(request_id, f"extract:{s.name}") for s in rt.config.sources)
    with pytest.raises(InvalidRequest, match="being searched"):
        submit_identifier_code(rt, request_id, WORK, mailed_code(rt, key))
    with pytest.raises(InvalidRequest, match="being searched"):
        add_identifier(rt, request_id, EMAIL, UNVERIFIED)
    assert [(i.value, i.verified_at) for i in rt.store.identifiers(request_id)] == [(WORK, None)]
