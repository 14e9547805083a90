"""README.html for a demo request: what the config and the request store say, in the requester's language."""

import json

import pytest

from audit.signing import encode_key, generate_key, public_key
from exports.readme import ACTIVITY_FIELDS, render_readme
from extractors.records import WITHHELD, read_jsonl
from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.errors import ConfigError
from flows.readme_info import readme_info
from flows.runtime import open_runtime
from tests.exports.readme_page import Page, coverage_row

PACKAGE_KEY = encode_key(public_key(generate_key()))


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    demo, secrets = prepare_demo(tmp_path_factory.mktemp("readme") / "demo")
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        yield demo, open_runtime(write_demo_config(demo, mailchimp.base_url))


@pytest.fixture
def run_to_package(company):
    """Register, verify, extract, redact and package a request as the flow does; closed after the test."""
    _, rt = company
    opened = []

    def run(email, language, name=None):
        request = stages.register(rt, email, language, name=name)
        opened.append(request.id)
        verify_by_outbox(rt, request.id)
        stages.verify_identity(rt, request.id)
        for source in rt.config.sources:
            stages.extract(rt, request.id, source.name)
        stages.redact(rt, request.id)
        staged = rt.work_dir(request.id) / "redacted"
        withheld = [{"source": r.source, **r.data} for path in sorted(staged.glob(f"*/{WITHHELD}.jsonl"))
                    for r in read_jsonl(path)]
        counts = stages.package(rt, request.id)["records"]
        return rt.store.get(request.id), counts, withheld

    yield run
    for request_id in opened:
        stages.close(rt, request_id, "test done")


def test_the_subjects_readme_in_finnish_tells_what_was_found_where(company, run_to_package):
    demo, rt = company
    request, counts, withheld = run_to_package(demo.subject_email, "fi", demo.subject_name)
    info = readme_info(rt, request, counts, withheld, PACKAGE_KEY)

    assert [s.name for s in info.coverage] == [s.name for s in rt.config.sources]
    for source in info.coverage:
        extracted = rt.store.stage_done(request.id, f"extract:{source.name}")["records"]
        assert source.status == ("found" if extracted else "empty")
        assert dict(source.categories) == counts.get(source.name, {})
    assert sum(w.count for w in info.withheld) == len(withheld)
    redacted = rt.store.stage_done(request.id, "redact")
    assert dict(info.redaction) == {k: v for k, v in redacted.items() if k != "sha256"}
    assert info.controller.supervisory_authority == "Tietosuojavaltuutetun toimisto, tietosuoja.fi"

    page = Page(render_readme(info))
    text = page.all_text()
    for activity in rt.config.activities:
        for field in ACTIVITY_FIELDS:
            assert getattr(activity, field)["fi"] in text, f"{activity.name}.{field}"
    assert counts, "the demo subject has records"
    # The demo config names its sources, the register's categories and some columns (see flows/demo/settings.py).
    assert [s.shown() for s in info.coverage] == ["Asiakasrekisteri", "Asiakaspalvelun sähköposti", "Markkinointi"]
    customers = info.coverage[0]
    assert {c: customers.category_shown(c) for c in counts["customers"]} == {
        "customer": "Asiakastiedot", "orders": "Tilaukset", "order_items": "Tilausrivit"}
    assert info.coverage[1].category_shown("messages") == "Sähköpostiviestit"  # the mail kind's own label
    for source in info.coverage:
        for category, n in counts.get(source.name, {}).items():
            shown = f"{source.shown()} {source.category_shown(category)}"
            assert page.row(shown).startswith(f"{shown} {n} data/{source.name}/{category}.json")
    for source in info.coverage:
        status = "Haettu – tietoja löytyi" if source.status == "found" else "Haettu – tietoja ei löytynyt"
        assert status in coverage_row(page, source.shown())
    assert "Tietosuojavaltuutetun toimisto" in text and "Oikeutesi" in text


def test_a_stranger_reads_in_english_that_every_source_was_searched_and_empty(company, run_to_package):
    _, rt = company
    request, counts, withheld = run_to_package("nobody@elsewhere.example", "en")
    info = readme_info(rt, request, counts, withheld, PACKAGE_KEY)
    assert counts == {} and [s.status for s in info.coverage] == ["empty"] * len(rt.config.sources)
    page = Page(render_readme(info))
    text = page.all_text()
    for source in ("Customer register", "Customer service mail", "Marketing"):
        assert "Searched – nothing found" in coverage_row(page, source)
    assert "The package holds no records about you" in text
    assert "Mailchimp (The Rocket Science Group LLC)." in text
    assert "United States, EU standard contractual clauses." in text


def test_a_source_not_searched_is_reported_as_such(company, run_to_package):
    demo, rt = company
    request, counts, withheld = run_to_package(demo.subject_email, "en", demo.subject_name)
    rt.store.reset_stages(request.id, ["extract:marketing"])
    info = readme_info(rt, request, counts, withheld, PACKAGE_KEY)
    marketing = next(s for s in info.coverage if s.name == "marketing")
    assert (marketing.status, dict(marketing.categories)) == ("skipped", {})
    assert "Not searched: no reason was recorded" in coverage_row(Page(render_readme(info)), "Marketing")


def test_a_text_missing_in_the_requests_language_names_the_key(company, run_to_package):
    demo, _ = company
    config = (demo.workdir / "dsar.toml").read_text(encoding="utf-8")
    # A config answering in Finnish only loads without English texts; a request taken in English then finds one
    # missing when its README is written.
    broken = config.replace('retention = { fi = "Kunnes suostumus perutaan.", en = "Until consent is withdrawn." }',
                            'retention = { fi = "Kunnes suostumus perutaan." }')
    broken = broken.replace('languages = ["fi", "en"]', 'languages = ["fi"]')
    assert broken.count("en = ") < config.count("en = ") and 'languages = ["fi"]' in broken
    (demo.workdir / "broken.toml").write_text(broken, encoding="utf-8")
    broken_rt = open_runtime(demo.workdir / "broken.toml")
    request, counts, withheld = run_to_package(demo.subject_email, "en", demo.subject_name)
    with pytest.raises(ConfigError, match=r"activities\.1\.retention.*no 'en' text"):
        readme_info(broken_rt, request, counts, withheld, PACKAGE_KEY)
