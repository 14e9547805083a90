"""Knowledge match and manual checks as the privacy team uses them: `dsar request verify`, then the whole flow."""

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, write_demo_config
from flows.knowledge_check import submit_knowledge
from flows.runtime import open_runtime
from identity.errors import VerificationFailed
from tests.flows.privacy import drain_prefect, find_in_database
from tests.flows.test_cli import dsar

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("methods") / "demo")


@pytest.fixture(scope="module")
def config(company):
    demo, secrets = company
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        yield write_demo_config(demo, mailchimp.base_url)


@pytest.fixture
def rt(config):
    return open_runtime(config)


@pytest.fixture
def subject_request(rt, company):
    """Registers a request of the demo subject; closes it after the test, so the next one is not a duplicate."""
    demo, _ = company
    made = []

    def register(language="fi", at=rt):
        request = stages.register(at, demo.subject_email, language)
        assert request.duplicate_of is None
        made.append(request.id)
        return request

    yield register
    for request_id in made:
        if rt.store.get(request_id).is_open:
            rt.store.set_status(request_id, "closed", rt.clock())


def subject_orders(demo) -> list[tuple[int, str]]:
    """(order id, ordered_at) of the subject's orders, newest first, from the customer database itself."""
    with sqlite3.connect(demo.customers_db) as db:
        return db.execute(
            "SELECT o.id, o.ordered_at FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE lower(c.email) = ? ORDER BY o.ordered_at DESC", (demo.subject_email,)).fetchall()


def run_flow(rt, request_id, monkeypatch):
    monkeypatch.setenv("DSAR_CONFIG", str(rt.config.path))
    from flows.fulfil import run_request

    run_request(request_id)
    return rt.store.get(request_id)


def ledger_text(rt, request_id) -> str:
    return json.dumps([e.detail for e in rt.ledger.events(request_id)], ensure_ascii=False)


def test_a_request_verified_by_knowledge_is_delivered(prefect_api, rt, company, subject_request, tmp_path,
                                                     monkeypatch):
    demo, _ = company
    request = subject_request()
    order_id = subject_orders(demo)[0][0]
    answers = tmp_path / "answers.json"
    # As a requester writes them: another spelling of the phone, the name in capitals, "#" before the order.
    answers.write_text(json.dumps({"name": demo.subject_name.upper(), "phone": "040 123 4567",
                                   "order_number": f"#{order_id}", "postal_code": "33720"}))
    verified = dsar("request", "verify", request.id, "--knowledge", "--answers", str(answers),
                    "--config", str(rt.config.path))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout == (f"{request.id}: identity verified (knowledge, substantial). "
                               f"Run it with: dsar run {request.id}\n")

    assert run_flow(rt, request.id, monkeypatch).status == "delivered"
    assert rt.mailer.was_sent(f"{request.id}-link")
    event = next(e for e in rt.ledger.events(request.id) if e.action == "identity_verified")
    assert event.detail == {"method": "knowledge", "level": "substantial",
                            "kinds": ["name", "order_number", "phone", "postal_code"]}
    recorded = ledger_text(rt, request.id)
    for value in (demo.subject_name, "4567", str(order_id), "33720"):
        assert value not in recorded
    drain_prefect()
    assert find_in_database(Path(prefect_api), [demo.subject_name.upper(), "040 123 4567", f"#{order_id}"]) == []


def test_a_request_verified_by_a_manual_check_is_delivered(prefect_api, rt, subject_request, monkeypatch):
    request = subject_request("en")
    note = "Finnish passport, valid, photo matches; visited the shop"
    checked = dsar("request", "verify", request.id, "--manual", "--method", "id-document", "--by", "anna.k",
                   "--note", note, "--config", str(rt.config.path))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"{request.id}: identity verified (manual, high).")

    evidence = rt.store.get(request.id).evidence
    assert evidence["check"] == "id_document" and evidence["checked_by"] == "anna.k"
    assert [(staff, text) for _, staff, text in rt.store.check_notes(request.id)] == [("anna.k", note)]
    assert "passport" not in ledger_text(rt, request.id)

    assert run_flow(rt, request.id, monkeypatch).status == "delivered"
    event = next(e for e in rt.ledger.events(request.id) if e.action == "identity_verified")
    assert (event.actor, event.detail) == ("privacy_team", {
        "method": "manual", "level": "high", "kinds": ["person"], "check": "id_document", "by": "anna.k"})
    shown = dsar("request", "show", request.id, "--config", str(rt.config.path))
    assert "identity    manual (high)" in shown.stdout
    drain_prefect()
    assert find_in_database(Path(prefect_api), [note, "passport"]) == []


def test_only_recent_orders_count_when_the_config_says_so(rt, company, subject_request):
    demo, _ = company
    orders = subject_orders(demo)
    newest, oldest = orders[0], orders[-1]
    knowledge = rt.config.identity.knowledge
    recent = knowledge.order_number.model_copy(update={"date": "ordered_at", "within_days": 365})
    knowledge = knowledge.model_copy(update={"order_number": recent})
    identity = rt.config.identity.model_copy(update={"knowledge": knowledge})
    # A month after the newest order: the oldest is more than a year old.
    now = datetime.fromisoformat(newest[1]).astimezone(UTC) + timedelta(days=30)
    at = dataclasses.replace(rt, config=dataclasses.replace(rt.config, identity=identity), clock=lambda: now)
    assert (now - datetime.fromisoformat(oldest[1])).days > 365

    stale = subject_request(at=at)
    with pytest.raises(VerificationFailed):
        submit_knowledge(at, stale.id, {"name": demo.subject_name, "phone": demo.subject_phone,
                                        "order_number": oldest[0]})
    assert at.store.get(stale.id).evidence is None
    evidence = submit_knowledge(at, stale.id, {"name": demo.subject_name, "phone": demo.subject_phone,
                                               "order_number": newest[0]})
    assert evidence.level == "substantial"


@pytest.mark.parametrize(("args", "message"), [
    (["--knowledge"], "--knowledge needs the requester's answers"),
    (["--manual", "--method", "id-document"], "--manual needs --method and --by"),
    (["--knowledge", "--manual"], "use one of --knowledge and --manual"),
    (["--by", "anna.k"], "--method, --by and --note go with --manual"),
])
def test_incomplete_commands_are_one_line_and_record_nothing(rt, subject_request, args, message):
    request = subject_request()
    result = dsar("request", "verify", request.id, *args, "--config", str(rt.config.path))
    assert result.returncode == 2 and message in result.stderr
    assert rt.store.get(request.id).evidence is None


def test_answers_that_are_not_an_object_of_kinds_are_refused(rt, subject_request, tmp_path):
    request = subject_request()
    answers = tmp_path / "answers.json"
    for content, message in ((json.dumps(["Aino"]), "must hold a JSON object"),
                             ("{not json", "not a readable JSON file"),
                             (json.dumps({"hetu": "140587-123A"}), "1 unknown key(s)")):
        answers.write_text(content)
        result = dsar("request", "verify", request.id, "--knowledge", "--answers", str(answers),
                      "--config", str(rt.config.path))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "140587" not in result.stderr
    assert rt.store.get(request.id).evidence is None
    tries = [e for e in rt.ledger.events(request.id) if e.action == "identity_try"]
    assert tries == [], "a refused answers file spent a try"
