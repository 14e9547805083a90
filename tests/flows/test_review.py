"""Human review before packaging, as the privacy team uses it: `dsar run`, `dsar review show|approve|reject`."""

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import demo_key_file, prepare_demo
from flows.demo.settings import demo_config
from flows.runtime import open_runtime
from tests.flows.privacy import drain_prefect, find_in_database
from tests.flows.test_cli import dsar
from tests.flows.verified_requests import verified_requests

pytestmark = pytest.mark.e2e

UNPARSEABLE = ("From: {email}\nTo: asiakaspalvelu@demokauppa.example\nMessage-ID: <broken-7@example.fi>\n"
               "Content-Type: text/plain; charset*\n\nTerveysasioitani, joita ei saa lukea kukaan muu.\n")


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    demo, secrets = prepare_demo(tmp_path_factory.mktemp("review") / "demo")
    # Customer 5 has a message in the archive that cannot be parsed: it is withheld.
    with sqlite3.connect(demo.customers_db) as db:
        (email,) = db.execute("SELECT lower(email) FROM customers WHERE id = 5").fetchone()
    with demo.mail_archive.open("a", encoding="utf-8") as mbox:
        mbox.write(f"\nFrom {email} Mon Jan  1 00:00:00 2024\n{UNPARSEABLE.format(email=email)}\n")
    return demo, secrets, email


@pytest.fixture(scope="module")
def configs(company):
    """A dsar.toml per `[review]` setting, side by side (one store, one ledger): name -> path."""
    demo, secrets, _ = company
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    sections = {"default": "", "required": "[review]\nrequired = true\n",
                "off": "[review]\nrequired = false\nwhen_withheld = false\n"}
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        paths = {}
        text = demo_config(mailchimp.base_url, demo.staff_address, demo_key_file(demo.workdir))
        for name, section in sections.items():
            paths[name] = demo.workdir / f"dsar-{name}.toml"
            paths[name].write_text(text + "\n" + section)
        yield paths


@pytest.fixture
def verified(company):
    """Registers and verifies a request of the demo subject (or `email`); closes it after the test."""
    demo, _, _ = company
    yield from verified_requests(demo.subject_email)


def run(rt, request_id, monkeypatch):
    """The flow in-process, as `dsar run` starts it without a Prefect server."""
    monkeypatch.setenv("DSAR_CONFIG", str(rt.config.path))
    from flows.fulfil import run_request

    assert run_request(request_id) == request_id
    return rt.store.get(request_id)


def cli(monkeypatch, config, *args):
    """`dsar` in this process (Prefect's test API in reach), so a suspended run would be looked for."""
    from flows.cli import app

    monkeypatch.setenv("DSAR_CONFIG", str(config))
    return CliRunner().invoke(app, [*args, "--config", str(config)])


def done(rt, request_id, stage) -> dict:
    detail = rt.store.stage_done(request_id, stage)
    assert detail is not None, f"{stage} is not done"
    return detail


def events(rt, request_id):
    return [(e.action, e.detail) for e in rt.ledger.events(request_id)]


def delivered_nothing(rt, request_id):
    assert rt.store.stage_done(request_id, "package") is None
    assert rt.store.stage_done(request_id, "store") is None
    assert not (rt.work_dir(request_id) / f"{request_id}.zip").exists()
    assert not list(rt.storage.root.rglob(f"{request_id}*"))
    assert not rt.mailer.was_sent(f"{request_id}-passphrase") and not rt.mailer.was_sent(f"{request_id}-link")


def test_without_review_a_request_is_delivered_as_before(prefect_api, configs, verified, monkeypatch):
    rt = open_runtime(configs["off"])
    request_id = verified(rt)
    assert run(rt, request_id, monkeypatch).status == "delivered"
    assert not [a for a, _ in events(rt, request_id) if a.startswith("review")]


def test_a_required_review_stops_the_run_before_anything_is_packaged(prefect_api, configs, verified, company,
                                                                    monkeypatch):
    demo, _, _ = company
    rt = open_runtime(configs["required"])
    request_id = verified(rt)
    stored = run(rt, request_id, monkeypatch)
    assert (stored.status, stored.reason) == ("awaiting_review", "review: required")
    delivered_nothing(rt, request_id)
    assert (rt.work_dir(request_id) / "redacted").is_dir(), "what the reviewer looks at is staged"
    requested = [d for a, d in events(rt, request_id) if a == "review_requested"]
    records = {s.name: done(rt, request_id, f"extract:{s.name}")["records"] for s in rt.config.sources}
    assert requested == [{"reasons": ["required"], "withheld": 0, "records": records}]
    assert all(count > 0 for count in records.values())

    assert run(rt, request_id, monkeypatch).status == "awaiting_review"  # asked once, however often it runs
    assert [a for a, _ in events(rt, request_id)].count("review_requested") == 1
    delivered_nothing(rt, request_id)
    assert cli(monkeypatch, configs["required"], "review", "list").stdout.split() == [request_id]

    ledger = json.dumps(events(rt, request_id), ensure_ascii=False).lower()
    assert demo.subject_email not in ledger and demo.subject_name.lower() not in ledger
    drain_prefect()
    assert find_in_database(Path(prefect_api), [demo.subject_email, demo.subject_name]) == []


def test_an_approved_request_is_delivered_by_the_next_run(prefect_api, configs, verified, monkeypatch):
    rt = open_runtime(configs["required"])
    request_id = verified(rt)
    run(rt, request_id, monkeypatch)
    note = "Checked the order history; nothing of anyone else's"
    shown = cli(monkeypatch, configs["required"], "review", "show", request_id)
    assert shown.exit_code == 0, shown.output
    assert "status      awaiting_review (review: required)" in shown.output
    assert "customers: customer 1, order_items" in shown.output and "withheld    -" in shown.output

    approved = cli(monkeypatch, configs["required"], "review", "approve", request_id, "--by", "anna.k", "--note", note)
    assert approved.exit_code == 0, approved.output
    assert approved.output == f"{request_id}: approved. dsar run {request_id} finishes the request.\n"
    assert (rt.store.get(request_id).status, rt.store.get(request_id).reason) == ("verified", "review: approved")

    assert run(rt, request_id, monkeypatch).status == "delivered"
    assert rt.mailer.was_sent(f"{request_id}-link")
    actions = [a for a, _ in events(rt, request_id)]
    assert actions.index("review_requested") < actions.index("review_approved") < actions.index("package_done")
    assert ("review_approved", {"by": "anna.k"}) in events(rt, request_id)
    assert [(staff, decision, text) for _, staff, decision, text in rt.store.review_decisions(request_id)] == [
        ("anna.k", "approve", note)]
    assert "order history" not in json.dumps(events(rt, request_id))


def test_a_rejected_request_fails_loses_its_staging_and_is_reviewed_again(prefect_api, configs, verified,
                                                                          monkeypatch):
    rt = open_runtime(configs["required"])
    request_id = verified(rt)
    run(rt, request_id, monkeypatch)
    rejected = cli(monkeypatch, configs["required"], "review", "reject", request_id, "--by", "ville.n")
    assert rejected.exit_code == 0, rejected.output
    assert "rejected: it is failed and its staged data deleted" in rejected.output

    stored = rt.store.get(request_id)
    assert (stored.status, stored.reason) == ("failed", "review: rejected")
    assert not rt.work_dir(request_id).exists()
    assert all(rt.store.stage_done(request_id, stage) is None for stage in stages.staging_stages(rt))
    delivered_nothing(rt, request_id)
    assert ("review_rejected", {"by": "ville.n"}) in events(rt, request_id)
    assert any(a == "staging_deleted" and d["why"] == "review_rejected" for a, d in events(rt, request_id))

    # A later run extracts anew and asks again.
    assert run(rt, request_id, monkeypatch).status == "awaiting_review"
    assert [a for a, _ in events(rt, request_id)].count("review_requested") == 2
    assert (rt.work_dir(request_id) / "redacted").is_dir()
    delivered_nothing(rt, request_id)


def test_an_unknown_staff_id_is_refused_and_nothing_is_recorded(prefect_api, configs, verified, monkeypatch):
    rt = open_runtime(configs["required"])
    request_id = verified(rt)
    run(rt, request_id, monkeypatch)
    before = events(rt, request_id)
    for by in ("mallory", "Anna Korhonen"):
        refused = dsar("review", "approve", request_id, "--by", by, "--config", str(configs["required"]))
        assert refused.returncode == 2
        assert refused.stderr == "dsar: error: unknown staff id: use one listed in [identity] staff_ids of the config\n"
    assert events(rt, request_id) == before
    assert rt.store.get(request_id).status == "awaiting_review"
    assert rt.store.review_decisions(request_id) == ()


def test_a_decision_needs_a_request_that_awaits_review(prefect_api, configs, verified, monkeypatch):
    from flows.errors import InvalidRequest
    from flows.review import decide

    rt = open_runtime(configs["off"])
    request_id = verified(rt)
    with pytest.raises(InvalidRequest, match=f"{request_id} is not awaiting review \\(it is verified\\)"):
        decide(rt, request_id, True, "anna.k")
    assert rt.store.review_decisions(request_id) == ()


def test_a_withheld_item_asks_for_review_and_shows_what_was_withheld(prefect_api, configs, verified, company,
                                                                     monkeypatch):
    _, _, email = company
    rt = open_runtime(configs["default"])  # no [review] section: when_withheld is on
    request_id = verified(rt, email)
    stored = run(rt, request_id, monkeypatch)
    assert (stored.status, stored.reason) == ("awaiting_review", "review: withheld")
    delivered_nothing(rt, request_id)
    [requested] = [d for a, d in events(rt, request_id) if a == "review_requested"]
    assert (requested["reasons"], requested["withheld"]) == (["withheld"], 1)
    assert "broken-7" not in json.dumps(events(rt, request_id))

    shown = cli(monkeypatch, configs["default"], "review", "show", request_id)
    assert shown.exit_code == 0, shown.output
    assert "withheld    1" in shown.output
    assert "support_mail: unparsed, sha256 " in shown.output and "Message-ID broken-7@example.fi" in shown.output
    assert "Terveysasioitani" not in shown.output

    cli(monkeypatch, configs["default"], "review", "approve", request_id, "--by", "anna.k")
    assert run(rt, request_id, monkeypatch).status == "delivered"
    assert done(rt, request_id, "package")["withheld"] == 1  # listed in index.json, not delivered


def test_a_run_suspended_for_review_is_resumed_on_approval_and_cancelled_on_rejection(prefect_api):
    """The Prefect side of `dsar review approve|reject`, against the test API: a run tagged with the request and
    suspended (as suspend_flow_run leaves it) is found and resumed, or cancelled."""
    from prefect import flow, get_client
    from prefect.states import Suspended

    from flows.fulfil import after_review_decision

    @flow(name="review-probe")
    def probe() -> None:
        pass

    with get_client(sync_client=True) as client:
        # Only a deployment's run can be rescheduled when resumed (no worker is needed to accept it).
        deployment = client.create_deployment(flow_id=client.create_flow(probe), name="review-probe")
        ids = {}
        for approve in (True, False):
            run_ = client.create_flow_run_from_deployment(deployment, tags=[f"req:REQ-PROBE-{approve}"])
            client.set_flow_run_state(run_.id, Suspended(timeout_seconds=600, pause_key="review"), force=True)
            ids[approve] = run_.id
        assert after_review_decision("REQ-PROBE-True", True, "anna.k") == 1
        assert after_review_decision("REQ-PROBE-False", False, "anna.k") == 1
        assert after_review_decision("REQ-PROBE-False", False, "anna.k") == 0  # nothing left suspended
        resumed, cancelled = client.read_flow_run(ids[True]).state, client.read_flow_run(ids[False]).state
    assert resumed is not None and resumed.type.value == "SCHEDULED"  # a worker picks it up again
    assert cancelled is not None and cancelled.type.value == "CANCELLED"


def test_a_decision_from_the_prefect_form_is_read_and_then_deleted_from_prefect(prefect_api):
    """The form's input as the UI sends it to a run that suspend_flow_run left waiting for a ReviewDecision:
    the schema check accepts it, the run reads it back, and afterwards Prefect holds no copy of the note."""
    from prefect import flow, get_client
    from prefect.client.schemas.objects import State
    from prefect.flow_runs import resume_flow_run
    from prefect.input.run_input import keyset_from_paused_state
    from prefect.states import Suspended

    from flows.fulfil import ReviewDecision, forget_review_input

    @flow(name="review-form-probe")
    def probe() -> None:
        pass

    suspended: State[None] = Suspended(timeout_seconds=600, pause_key="review")  # as suspend_flow_run proposes it
    keyset = keyset_from_paused_state(suspended)
    suspended.state_details.run_input_keyset = {str(k): v for k, v in keyset.items()}
    with get_client(sync_client=True) as client:
        deployment = client.create_deployment(flow_id=client.create_flow(probe), name="review-form-probe")
        run_id = client.create_flow_run_from_deployment(deployment, tags=["req:REQ-FORM"]).id
        client.set_flow_run_state(run_id, suspended, force=True)
        ReviewDecision.save(keyset, flow_run_id=run_id)  # the form's schema
        resume_flow_run(run_id, run_input={"approve": True, "staff_id": "anna.k", "note": "nimi Aino Example"})
        loaded = ReviewDecision.load(keyset, flow_run_id=run_id)  # what suspend_flow_run returns the resumed run
        assert isinstance(loaded, ReviewDecision)
        assert (loaded.approve, loaded.staff_id, loaded.note) == (True, "anna.k", "nimi Aino Example")
        assert find_in_database(Path(prefect_api), ["Aino Example"]), "the scan below would prove nothing"

        forget_review_input(run_id)
        left = {i.key for i in client.filter_flow_run_input(run_id, "suspended-review", 10, set())}
    assert keyset["schema"] in left and keyset["response"] not in left
    drain_prefect()
    assert find_in_database(Path(prefect_api), ["Aino Example"]) == []
