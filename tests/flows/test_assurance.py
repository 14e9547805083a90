"""Levels of assurance in the flow: sources above the achieved level stay unread and the README says why,
a level below the minimum stops the request before anything is searched, and a changed email stops delivery."""

import re
import zipfile

import pytest

from flows import stages
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.errors import StageFailed
from flows.runtime import Runtime, open_runtime
from flows.stage_record import without_run
from identity.errors import AlreadyVerified, StrongerIdentityNeeded
from tests.exports.readme_page import Page, coverage_row
from tests.flows.assurance import counting_server, disclosed, policy_config, set_email


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    demo, _ = prepare_demo(tmp_path_factory.mktemp("assurance") / "demo")
    return demo


@pytest.fixture(scope="module")
def marketing(company):
    """The marketing source points here: every attempt to read it is counted (and fails)."""
    with counting_server() as server:
        yield server


@pytest.fixture
def opened(company):
    """Requests a test registers for the demo subject, closed after it (a subject has one open request)."""
    made: list[tuple[Runtime, str]] = []

    def register(rt, language="en"):
        request = stages.register(rt, company.subject_email, language, name=company.subject_name)
        made.append((rt, request.id))
        return request.id

    yield register
    for rt, request_id in made:
        if rt.store.get(request_id).is_open:
            stages.close(rt, request_id, "test done")


def runtime(company, marketing, name, levels=None, minimum="low"):
    base = write_demo_config(company, marketing.url)
    return open_runtime(policy_config(base, name, levels or {}, minimum))


def test_a_source_above_the_achieved_level_is_never_read_and_the_readme_says_why(company, marketing, opened):
    rt = runtime(company, marketing, "dsar-marketing-substantial.toml", {"marketing": "substantial"})
    request_id = opened(rt)
    verify_by_outbox(rt, request_id)  # an email code: level low
    hits = marketing.hits
    stages.verify_identity(rt, request_id)
    for spec in rt.config.sources:
        stages.extract(rt, request_id, spec.name)
    assert rt.store.stage_done(request_id, "extract:marketing") == {
        "source": "marketing", "records": 0, "skipped": "identity level low below substantial"}
    assert rt.store.stage_done(request_id, "extract:customers")["records"] > 0
    stages.redact(rt, request_id)
    stages.package(rt, request_id)
    with zipfile.ZipFile(rt.work_dir(request_id) / f"{request_id}.zip") as package:
        names = package.namelist()
        readme = Page(package.read(f"{request_id}/README.html"))
    assert "Not searched: identity level low below substantial" in coverage_row(readme, "Marketing")
    assert "Not searched" not in coverage_row(readme, "Customer register")
    assert not [n for n in names if "/marketing/" in n]
    stages.encrypt_and_store(rt, request_id)
    stages.deliver(rt, request_id)
    assert rt.store.get(request_id).status == "delivered"
    assert marketing.hits == hits, "the marketing source was read although the level was too low"
    skipped = [without_run(e.detail) for e in rt.ledger.events(request_id) if e.action == "extract:marketing_done"]
    assert skipped == [{"source": "marketing", "records": 0, "skipped": "identity level low below substantial"}]


def test_a_customer_table_above_the_level_is_not_opened_even_for_redactions_people(company, marketing, opened,
                                                                                  monkeypatch):
    from extractors.sql import SqlSource

    rt = runtime(company, marketing, "dsar-customers-substantial.toml", {"customers": "substantial"})
    request_id = opened(rt)
    verify_by_outbox(rt, request_id)  # an email code: level low
    opened_tables: list[str] = []
    for method in ("records", "people"):
        original = getattr(SqlSource, method)

        def counted(self, *args, _original=original, _method=method):
            opened_tables.append(_method)
            return _original(self, *args)

        monkeypatch.setattr(SqlSource, method, counted)
    stages.verify_identity(rt, request_id)
    for spec in rt.config.sources:
        if spec.name != "marketing":  # unreachable here, and not what this test is about
            stages.extract(rt, request_id, spec.name)
    rt.store.complete_stage(request_id, "extract:marketing", {"source": "marketing", "records": 0,
                                                              "skipped": "not part of this test"}, rt.clock())
    stages.redact(rt, request_id)
    assert rt.store.stage_done(request_id, "extract:customers")["skipped"] == "identity level low below substantial"
    assert opened_tables == [], "the customer database was read although the level was too low"


def test_below_the_minimum_level_the_flow_asks_for_more_and_searches_nothing(
        company, marketing, opened, prefect_api, monkeypatch):
    rt = runtime(company, marketing, "dsar-minimum-substantial.toml", minimum="substantial")
    request_id = opened(rt)
    verify_by_outbox(rt, request_id)
    hits = marketing.hits
    monkeypatch.setenv("DSAR_CONFIG", str(rt.config.path))
    from flows.fulfil import run_request

    assert run_request(request_id) == request_id  # the flow ends; the request waits
    request = rt.store.get(request_id)
    assert (request.status, request.reason) == ("awaiting_identity", "stronger identification needed: substantial")
    assert [s.name for s in rt.config.sources if rt.store.stage_done(request_id, f"extract:{s.name}")] == []
    assert disclosed(rt, request_id) == [] and not rt.work_dir(request_id).exists()
    assert marketing.hits == hits
    asked = [e.detail for e in rt.ledger.events(request_id) if e.action == "identity_insufficient"]
    assert asked == [{"level": "low", "required": "substantial"}]
    # The stage says the same without Prefect, and a second attempt changes nothing.
    with pytest.raises(StrongerIdentityNeeded, match="stronger identification needed: substantial"):
        stages.verify_identity(rt, request_id)
    assert rt.store.stage_done(request_id, "identity") is None


@pytest.mark.parametrize("before", ["package", "encrypt_and_store", "deliver"])
def test_an_email_changed_after_verification_stops_delivery(company, marketing, opened, before):
    # The marketing source (which fails when read) is skipped: the other two are read as usual.
    rt = runtime(company, marketing, "dsar-marketing-substantial.toml", {"marketing": "substantial"})
    request_id = opened(rt)
    verify_by_outbox(rt, request_id)
    order = ["redact", "package", "encrypt_and_store", "deliver"]
    stages.verify_identity(rt, request_id)
    for spec in rt.config.sources:
        stages.extract(rt, request_id, spec.name)
    for stage in order[:order.index(before)]:
        getattr(stages, stage)(rt, request_id)
    sent_before = disclosed(rt, request_id)
    set_email(rt, request_id, "someone.else@example.fi")
    with pytest.raises(StageFailed, match="the email on record changed after identity was verified"):
        getattr(stages, before)(rt, request_id)
    request = rt.store.get(request_id)
    assert request.status == "failed" and "email on record changed" in request.reason
    assert rt.store.links_of(request_id) == ()
    assert disclosed(rt, request_id) == sent_before, "something left after the email changed"
    outbox = rt.config.base_dir / "outbox"
    assert not any(b"someone.else@example.fi" in p.read_bytes() for p in outbox.glob(f"{request_id}-*"))


def test_a_replayed_code_is_told_the_request_is_already_verified(company, marketing, opened):
    rt = runtime(company, marketing, "dsar-all-low.toml")
    request_id = opened(rt)
    key = stages.send_code(rt, request_id)
    found = re.search(r"\b(\d{8})\b", rt.mailer.read(key))
    assert found is not None
    code = found.group(1)
    stages.submit_code(rt, request_id, code)
    verified = rt.store.get(request_id)
    with pytest.raises(AlreadyVerified, match=f"{request_id}: identity already verified; nothing more was used"):
        stages.submit_code(rt, request_id, code)
    assert rt.store.get(request_id) == verified  # nothing changed, nothing gained


def test_dsar_run_below_the_minimum_says_what_to_ask_for(company, marketing, opened):
    from tests.flows.test_cli import dsar

    rt = runtime(company, marketing, "dsar-minimum-substantial.toml", minimum="substantial")
    request_id = opened(rt)
    verify_by_outbox(rt, request_id)
    result = dsar("run", request_id, "--config", str(rt.config.path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"dsar: error: {request_id}: stronger identification needed: substantial\n"
    assert rt.store.get(request_id).status == "awaiting_identity"
    assert disclosed(rt, request_id) == []
