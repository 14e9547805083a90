"""A whole request through Prefect, checked the way the requester and an auditor would."""

import base64
import csv
import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from audit.signing import load_private_key, public_key, verify
from flows.config import read_env_file
from tests.exports.age_cli import age_decrypt
from tests.flows.privacy import drain_prefect, find_in_database, find_in_files, table_count

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def package(demo):
    result, _ = demo
    plain = age_decrypt(Path(result.package_path), result.passphrase)
    return zipfile.ZipFile(io.BytesIO(plain))


def test_the_package_opens_with_age_and_its_hashes_match(demo, package):
    result, _ = demo
    root = f"{result.request_id}/"
    index = json.loads(package.read(root + "index.json"))
    assert index["request_id"] == result.request_id
    assert index["files"], "the manifest lists no files"
    for entry in index["files"]:
        assert entry["path"].startswith(root)
        assert hashlib.sha256(package.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]
    listed = {e["path"] for e in index["files"]} | {root + "index.json", root + "index.json.sig"}
    assert set(package.namelist()) == listed
    # Signed with the demo controller's package key.
    key = load_private_key(read_env_file(Path(result.workdir) / "dsar.env", Path(result.workdir))["DSAR_PACKAGE_KEY"])
    verify(public_key(key), package.read(root + "index.json"), base64.b64decode(package.read(root + "index.json.sig")))


def test_dsar_verify_passes_on_the_demo_package_and_fails_on_any_one_byte_change(demo):
    from exports.errors import PackageInvalid
    from exports.verify import verify_package

    result, _ = demo
    plain = age_decrypt(Path(result.package_path), result.passphrase)
    key = load_private_key(read_env_file(Path(result.workdir) / "dsar.env", Path(result.workdir))["DSAR_PACKAGE_KEY"])
    verified = verify_package(io.BytesIO(plain), public_key(key))
    assert verified.request_id == result.request_id
    for offset in range(0, len(plain), max(1, len(plain) // 97)):  # across headers, data and the directory
        changed = bytearray(plain)
        changed[offset] ^= 0x01
        with pytest.raises(PackageInvalid):
            verify_package(io.BytesIO(bytes(changed)), public_key(key))


def test_the_package_holds_csv_xlsx_mail_and_portability(demo, package):
    result, _ = demo
    root = f"{result.request_id}/"
    names = set(package.namelist())
    assert {root + "report.xlsx", root + "data/customers/customer.csv", root + "schema/data/customers/customer.json",
            root + "portability/customers/customer.json"} <= names
    assert any(n.startswith(root + "data/support_mail/messages/") and n.endswith(".eml") for n in names)
    assert not any(n.startswith(root + "portability/customers/orders") for n in names)  # the shop's records
    [provided] = json.loads(package.read(root + "portability/customers/customer.json"))
    assert provided["email"].lower() == result.subject_email
    assert "id" not in provided and "created_at" not in provided  # the shop made those, not the subject


def test_the_finnish_package_names_columns_by_the_configs_and_the_kinds_labels(demo, package):
    """The demo labels its register (flows/demo/settings.py); the mail kind names its own keys; the rest humanised."""
    result, _ = demo
    root = f"{result.request_id}/"
    header = next(csv.reader(io.StringIO(package.read(root + "data/customers/customer.csv").decode("utf-8-sig"))))
    assert {"Id", "Etunimi", "Sukunimi", "Sähköposti", "Puhelin", "Postal code"} <= set(header)
    assert not {"first_name", "last_name", "email", "phone", "postal_code"} & set(header)
    mail = next(csv.reader(io.StringIO(package.read(root + "data/support_mail/messages.csv").decode("utf-8-sig"))))
    assert {"Lähettäjä", "Vastaanottaja", "Aihe", "Päivämäärä"} <= set(mail)
    assert "first_name" in json.loads(package.read(root + "data/customers/customer.json"))[0]
    workbook = openpyxl.load_workbook(io.BytesIO(package.read(root + "report.xlsx")))
    # "Asiakasrekisteri – Asiakastiedot" is one character past a sheet name's 31: the category's label alone.
    assert {"Asiakastiedot", "Asiakasrekisteri – Tilaukset"} <= set(workbook.sheetnames)
    page = package.read(root + "README.html").decode("utf-8")
    assert "<tr><td>Etunimi</td><td><code>first_name</code></td></tr>" in page


def test_the_readme_tells_a_finnish_reader_what_was_searched_and_found(demo, package):
    """README.html in the request's language: the Art. 15 information and a coverage line per configured source."""
    from tests.exports.readme_page import Page, coverage_row

    result, _ = demo
    root = f"{result.request_id}/"
    index = json.loads(package.read(root + "index.json"))
    assert root + "README.html" in {e["path"] for e in index["files"]}
    page = Page(package.read(root + "README.html"))
    assert page.tags("html")[0]["lang"] == "fi"
    text = page.all_text()
    assert "Tietosuojavaltuutetun toimisto" in text
    shown = {"customers": "Asiakasrekisteri", "support_mail": "Asiakaspalvelun sähköposti", "marketing": "Markkinointi"}
    for source, categories in index["record_counts"].items():
        assert "Haettu – tietoja löytyi" in coverage_row(page, shown[source])
        for category, count in categories.items():
            assert f"data/{source}/{category}.json" in text and str(count) in text
    assert "dsar verify" in text


def ground_truth(workdir: Path, email: str) -> dict:
    """What the demo company holds about `email`, read straight from its files."""
    import mailbox
    import sqlite3
    from email.utils import getaddresses

    with sqlite3.connect(workdir / "customers.db") as db:
        (customer_id,) = db.execute("SELECT id FROM customers WHERE lower(email) = ?", (email,)).fetchone()
        orders = {row[0] for row in db.execute("SELECT id FROM orders WHERE customer_id = ?", (customer_id,))}
        items = db.execute(f"SELECT count(*) FROM order_items WHERE order_id IN ({','.join('?' * len(orders))})",
                           sorted(orders)).fetchone()[0]
    messages = 0
    for message in mailbox.mbox(workdir / "support.mbox"):
        headers = [str(v) for h in ("from", "to", "cc", "reply-to") for v in message.get_all(h, [])]
        messages += any(addr.lower() == email for _, addr in getaddresses(headers))
    lists = json.loads((workdir / "mailchimp.json").read_text(encoding="utf-8"))["lists"]
    members = [m for lst in lists for m in lst["members"] if m["email_address"].lower() == email]
    return {"customer_id": customer_id, "orders": orders, "order_items": items, "messages": messages,
            "members": len(members), "tags": sum(len(m["tags"]) for m in members),
            "activity": sum(len(m["activity"]) for m in members)}


def test_the_subject_gets_exactly_their_records_from_every_source(demo, package):
    result, _ = demo
    truth = ground_truth(Path(result.workdir), result.subject_email)
    root = f"{result.request_id}/"
    index = json.loads(package.read(root + "index.json"))
    assert index["record_counts"] == {
        "customers": {"customer": 1, "orders": len(truth["orders"]), "order_items": truth["order_items"]},
        "support_mail": {"messages": truth["messages"] - len(index["withheld"])},
        "marketing": {"member": truth["members"], "tags": truth["tags"], "activity": truth["activity"]},
    }
    customer = json.loads(package.read(root + "data/customers/customer.json"))
    assert customer[0]["email"].lower() == result.subject_email
    orders = json.loads(package.read(root + "data/customers/orders.json"))
    assert {o["customer_id"] for o in orders} == {truth["customer_id"]}
    items = json.loads(package.read(root + "data/customers/order_items.json"))
    assert {i["order_id"] for i in items} <= truth["orders"]
    for message in json.loads(package.read(root + "data/support_mail/messages.json")):
        addresses = " ".join(message["from"] + message["to"] + message["cc"] + message["reply_to"]).lower()
        assert result.subject_email in addresses, message["message_id"]
    members = json.loads(package.read(root + "data/marketing/member.json"))
    assert {m["email_address"].lower() for m in members} == {result.subject_email}


def test_other_people_are_redacted_from_the_subjects_messages(demo, package):
    from flows.demo.company import generate_company

    result, _ = demo
    company = generate_company(Path(result.workdir) / "again")  # same seed: the same third parties
    messages = package.read(f"{result.request_id}/data/support_mail/messages.json").decode("utf-8")
    assert result.subject_email in messages.lower()
    assert company.third_party_email.lower() not in messages.lower()
    assert "[person-" in messages
    digits = company.third_party_phone.removeprefix("+358")
    assert digits not in messages.replace(" ", "").replace("-", "")


def test_a_third_partys_inflected_name_is_redacted(demo, package):
    result, _ = demo
    messages = package.read(f"{result.request_id}/data/support_mail/messages.json").decode("utf-8")
    assert "Virtase" not in messages  # the neighbour, Pekka Virtanen, named in a Finnish case form


def test_the_package_holds_no_third_party_identifier_of_the_ground_truth(demo, package):
    from flows.demo.company import generate_company
    from redaction.analysis import WORD
    from redaction.lexicon import Lexicon

    result, _ = demo
    company = generate_company(Path(result.workdir) / "again")
    text = "\n".join(package.read(name).decode("utf-8") for name in package.namelist() if name.endswith(".json"))
    folded = " ".join(text.lower().split())
    numbers = {re.sub(r"\D", "", n) for n in re.findall(r"\+?\d[\d \-]{5,}\d", text)}
    lexicon = Lexicon()
    bases = {base for word in set(WORD.findall(text)) for base in lexicon.bases(word)}
    for identifier in company.third_party_identifiers:
        if "@" in identifier:
            assert identifier.lower() not in folded
        elif identifier.replace(" ", "").replace("+", "").isdigit():
            national = re.sub(r"\D", "", identifier).lstrip("0")
            assert not any(national in number for number in numbers), "a third party's phone"
        elif any(c.isdigit() for c in identifier):  # a street address
            assert " ".join(identifier.lower().split()) not in folded
        else:  # a name, in any case form
            assert identifier.lower() not in bases


def test_the_download_link_serves_the_package(demo):
    import httpx

    from flows.portal.app import make_app
    from flows.portal.server import serving
    from flows.runtime import open_runtime

    result, _ = demo
    rt = open_runtime(Path(result.workdir) / "dsar.toml")
    with serving(make_app(rt, start=lambda request_id: None)) as base:
        path = result.download_url.split("/download/", 1)[1]
        response = httpx.get(f"{base}/download/{path}/file")
    assert response.status_code == 200
    assert response.content == Path(result.package_path).read_bytes()


def test_the_ledger_records_every_stage_and_verifies(demo):
    from audit.verify import verify_ledger
    from flows.runtime import open_runtime

    result, _ = demo
    rt = open_runtime(Path(result.workdir) / "dsar.toml")
    actions = [e.action for e in rt.ledger.events(result.request_id)]
    for action in ("received", "identity_code_sent", "identity_verified", "identity_done", "extract:customers_done",
                   "extract:support_mail_done", "extract:marketing_done", "redact_done", "package_done",
                   "store_done", "deliver_done"):
        assert action in actions
    assert verify_ledger(rt.ledger.events(), rt.ledger_public_key) == len(list(rt.ledger.events()))
    assert rt.store.get(result.request_id).status == "delivered"
    assert not rt.work_dir(result.request_id).exists(), "plaintext staging left behind"
    assert rt.store.run_claim(result.request_id) is None, "the run kept its claim"


def test_the_run_is_named_and_tagged_by_the_request(demo):
    import sqlite3

    result, db = demo
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as prefect:
        runs = prefect.execute("SELECT tags, parameters, state_type FROM flow_run WHERE name = ?",
                               (result.request_id,)).fetchall()
    assert len(runs) == 1
    tags, parameters, state = runs[0]
    assert f"req:{result.request_id}" in json.loads(tags)
    assert json.loads(parameters) == {"request_id": result.request_id}
    assert state == "COMPLETED"


def test_every_stage_event_names_its_prefect_run(demo):
    import sqlite3

    from flows.runtime import open_runtime

    result, db = demo
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as prefect:
        (run_id,) = prefect.execute("SELECT id FROM flow_run WHERE name = ?", (result.request_id,)).fetchone()
    rt = open_runtime(Path(result.workdir) / "dsar.toml")
    stage_events = [e for e in rt.ledger.events(result.request_id) if e.action.endswith("_done")]
    assert len(stage_events) == 8
    assert {e.detail["flow_run"] for e in stage_events} == {str(run_id)}
    assert all(e.detail["worker"] and isinstance(e.detail["duration_ms"], int) for e in stage_events)


def _personal(result) -> list[str]:
    from flows.runtime import open_runtime

    rt = open_runtime(Path(result.workdir) / "dsar.toml")
    request = rt.store.get(result.request_id)
    assert request.name is not None
    return [request.email, request.name, request.name.split()[-1]]


def test_prefect_holds_no_personal_data_after_a_run(demo):
    result, db = demo
    drain_prefect()
    assert table_count(db, "flow_run") >= 1 and table_count(db, "task_run") >= 7
    assert table_count(db, "events") > 0 and table_count(db, "log") > 0
    needles = _personal(result)
    assert find_in_database(db, needles) == []
    assert find_in_files(Path(os.environ["PREFECT_HOME"]), needles) == []


class LeakySource:
    """A source failing the way libraries do: its exception quotes what it was looking for."""

    def __init__(self, name):
        self.name = name

    def records(self, subject):
        raise RuntimeError(f"no rows for {subject.email}")


def test_a_failing_flow_leaks_nothing_and_stops_in_a_clear_state(demo, monkeypatch):
    import sqlite3

    from flows import stages
    from flows.demo.run import verify_by_outbox
    from flows.errors import StageFailed
    from flows.fulfil import run_request
    from flows.runtime import open_runtime

    result, db = demo
    rt = open_runtime(Path(result.workdir) / "dsar.toml")
    with sqlite3.connect(Path(result.workdir) / "customers.db") as customers:
        email, first, last = customers.execute(
            "SELECT email, first_name, last_name FROM customers WHERE id = 2").fetchone()
    request = stages.register(rt, email, "en", name=f"{first} {last}")
    verify_by_outbox(rt, request.id)
    real_make_source = stages.make_source
    monkeypatch.setattr(stages, "make_source", lambda name, *args: LeakySource(name) if name == "marketing"
                        else real_make_source(name, *args))

    with pytest.raises(StageFailed) as failure:
        run_request(request.id)
    assert str(failure.value) == f"{request.id}: extract:marketing failed: internal error (RuntimeError)"
    stored = rt.store.get(request.id)
    assert (stored.status, stored.reason) == ("failed", "extract:marketing: internal error (RuntimeError)")

    needles = [email, f"{first} {last}", last]
    drain_prefect()
    home = Path(os.environ["PREFECT_HOME"])
    assert list((home / "storage").iterdir()), "Prefect stored no failure: the scan below would prove nothing"
    assert find_in_database(db, needles) == []
    assert find_in_files(home, needles) == []


def test_a_request_another_run_holds_is_not_run_twice(demo):
    import sqlite3
    from datetime import timedelta

    from flows import stages
    from flows.demo.run import verify_by_outbox
    from flows.errors import RequestBusy
    from flows.fulfil import run_request
    from flows.runtime import open_runtime
    from flows.store import RunClaim

    result, _ = demo
    rt = open_runtime(Path(result.workdir) / "dsar.toml")
    with sqlite3.connect(Path(result.workdir) / "customers.db") as customers:
        (email,) = customers.execute("SELECT email FROM customers WHERE id = 3").fetchone()
    request = stages.register(rt, email, "fi")
    verify_by_outbox(rt, request.id)
    # A run on another host, alive as far as anyone here can tell: its lease is live, Prefect does not know it.
    assert rt.store.claim_run(RunClaim(request.id, "another-flow-run", "elsewhere", 1, "1",
                                       rt.clock() + timedelta(minutes=60)), rt.clock())

    with pytest.raises(RequestBusy, match="being run by flow run another-flow-run on elsewhere:1, claimed until"):
        run_request(request.id)
    assert rt.store.stage_done(request.id, "identity") is None, "a stage ran beside the other run"
    assert rt.store.get(request.id).status == "verified"
    rt.store.release_run(request.id, "another-flow-run")
    rt.store.set_status(request.id, "closed", rt.clock())
