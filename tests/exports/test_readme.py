"""README.html: both languages, every Art. 15 item, the coverage statement, escaping, and nothing that loads."""

import base64
import dataclasses
import hashlib
import os
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exports.readme import (
    ACTIVITY_FIELDS,
    ActivityInfo,
    ControllerInfo,
    Language,
    ReadmeInfo,
    SourceCoverage,
    WithheldInfo,
    key_fingerprint,
    render_readme,
)
from tests.exports.readme_page import Page, coverage_row

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_KEY = base64.b64encode(bytes(range(32))).decode("ascii")


def activity(name: str, sources: tuple[str, ...]) -> ActivityInfo:
    """Each text names its activity and field, so that the test can find every one of them."""
    return ActivityInfo(name, sources, **{field: f"{name}:{field}-text" for field in ACTIVITY_FIELDS})


def sample(language: Language = "fi", **changes) -> ReadmeInfo:
    info = ReadmeInfo(
        request_id="REQ-ABC234",
        language=language,
        generated_at=datetime(2026, 3, 4, 8, 5, tzinfo=UTC),
        controller=ControllerInfo(
            name="Demo Kauppa Oy", business_id="1234567-1", contact_email="tietosuoja@demokauppa.example",
            postal_address="Esimerkkikatu 1, 00100 Helsinki", dpo_email="dpo@demokauppa.example",
            phone="+358 9 123 4567", dpo_name="Liisa Laine",
            supervisory_authority="Tietosuojavaltuutetun toimisto, tietosuoja.fi",
        ),
        activities=(activity("customer_register", ("customers", "support_mail")),
                    activity("marketing", ("marketing",))),
        coverage=(
            SourceCoverage("customers", "sql", "found", None, {"orders": 12, "customer": 1}),
            SourceCoverage("support_mail", "mbox", "found", None, {"messages": 7}),
            SourceCoverage("marketing", "mailchimp", "empty", None, {}),
            SourceCoverage("archive", "sql", "skipped", "database offline for maintenance", {}),
        ),
        withheld=(WithheldInfo("support_mail", "unparsed", 2),),
        redaction={"names_replaced": 9, "emails_replaced": 3, "phones_replaced": 0, "people": 2, "phones": 0},
        public_key=PUBLIC_KEY,
    )
    return dataclasses.replace(info, **changes)


@pytest.mark.parametrize("language", ["fi", "en"])
def test_both_languages_render_with_every_activity_field_and_source(language):
    page = Page(render_readme(sample(language)))
    assert page.tags("html") == [{"lang": language}]
    text = page.all_text()
    for name in ("customer_register", "marketing"):
        for field in ACTIVITY_FIELDS:
            assert f"{name}:{field}-text" in text, f"{name}.{field} is missing"
    for source in ("Customers", "Support mail", "Marketing", "Archive"):  # no labels given: names humanised
        assert coverage_row(page, source)
    assert "Tietosuojavaltuutetun toimisto, tietosuoja.fi" in text
    assert "1234567-1" in text and "Esimerkkikatu 1, 00100 Helsinki" in text


def test_finnish_page_reads_in_finnish():
    text = Page(render_readme(sample("fi"))).all_text()
    for phrase in ("Kopio henkilötiedoistasi", "Oikeus tietojen oikaisemiseen", "Oikeus tietojen poistamiseen",
                   "Oikeus käsittelyn rajoittamiseen", "Vastustamisoikeus", "Oikeus siirtää tiedot",
                   "Oikeus tehdä valitus valvontaviranomaiselle", "Siirrot EU:n tai ETA:n ulkopuolelle",
                   "Koottu 4.3.2026 klo 8.05 UTC."):
        assert phrase in text
    for english in ("Your rights", "Searched", "Rectification", "records"):
        assert english not in text


def test_english_page_reads_in_english():
    text = Page(render_readme(sample("en"))).all_text()
    for phrase in ("A copy of your personal data", "Rectification", "Erasure", "Restriction", "Objection",
                   "Portability", "complain to a supervisory authority", "Transfers outside the EU/EEA",
                   "Compiled on 4 March 2026, 08:05 UTC."):
        assert phrase in text
    for finnish in ("Oikeutesi", "Haettu", "tietuetta"):
        assert finnish not in text


@pytest.mark.parametrize(("language", "status"), [("fi", "Haettu – tietoja ei löytynyt"),
                                                  ("en", "Searched – nothing found")])
def test_a_source_with_nothing_found_says_so(language, status):
    page = Page(render_readme(sample(language)))
    assert status in coverage_row(page, "Marketing")
    assert status not in coverage_row(page, "Customers")


@pytest.mark.parametrize(("language", "found", "skipped"), [
    ("fi", "Haettu – tietoja löytyi: 13 tietuetta.", "Ei haettu: database offline for maintenance"),
    ("en", "Searched – data found: 13 records.", "Not searched: database offline for maintenance"),
])
def test_coverage_counts_records_and_names_why_a_source_was_skipped(language, found, skipped):
    page = Page(render_readme(sample(language)))
    assert found in coverage_row(page, "Customers")
    assert skipped in coverage_row(page, "Archive")
    assert ("2 kohdetta" if language == "fi" else "2 items") in coverage_row(page, "Support mail")


def test_each_category_has_its_count_and_files():
    page = Page(render_readme(sample("en")))
    assert page.row("Customers Orders") == "Customers Orders 12 data/customers/orders.json data/customers/orders.csv"
    assert page.row("Customers Customer") == (
        "Customers Customer 1 data/customers/customer.json data/customers/customer.csv")
    assert page.row("Support mail Messages").startswith("Support mail Messages 7 ")
    assert not [r for r in page.rows if r.startswith("Marketing ") and ".json" in r]
    text = page.all_text()
    for member in ("report.xlsx", "index.json.sig", "portability/", "schema/", ".eml"):
        assert member in text


def test_withheld_items_and_replaced_third_party_data_are_counted():
    page = Page(render_readme(sample("fi")))
    assert page.row("Support mail Sähköpostiviestiä").endswith(" 2")
    assert page.row("Nimet") == "Nimet 9"
    assert page.row("Sähköpostiosoitteet") == "Sähköpostiosoitteet 3"
    assert "Eri henkilöitä yhteensä: 2" in page.all_text()
    assert not [r for r in page.rows if r.startswith("Puhelinnumerot")], "a zero count is not an exemption applied"
    assert "15 artiklan 4 kohta" in page.all_text()


def test_nothing_withheld_or_replaced_is_stated_as_such():
    text = Page(render_readme(sample("en", withheld=(), redaction={"names_replaced": 0, "people": 0}))).all_text()
    assert "Nothing about you was withheld from the package." in text
    assert "The package held no data about other people, so nothing was replaced." in text


def test_a_code_the_page_does_not_know_is_shown_as_it_is():
    info = sample("en", withheld=(WithheldInfo("scans", "needs_manual_review", 1),),
                  coverage=(SourceCoverage("scans", "sharepoint", "found", None, {"documents": 4}),),
                  redaction={"vat_numbers_replaced": 5})
    page = Page(render_readme(info))
    assert page.row("Scans needs_manual_review") == "Scans needs_manual_review 1"
    assert page.row("vat_numbers_replaced") == "vat_numbers_replaced 5"
    assert "sharepoint" in coverage_row(page, "Scans")


def test_the_public_key_and_its_fingerprint_are_shown_with_how_to_verify():
    text = Page(render_readme(sample("en"))).all_text()
    fingerprint = hashlib.sha256(bytes(range(32))).hexdigest()
    assert key_fingerprint(PUBLIC_KEY).replace(" ", "") == fingerprint
    assert PUBLIC_KEY in text and key_fingerprint(PUBLIC_KEY) in text
    assert f"dsar verify REQ-ABC234.zip --public-key {PUBLIC_KEY}" in text
    assert "sha256sum REQ-ABC234/data/customers/customer.json" in text
    assert "age -d -o REQ-ABC234.zip REQ-ABC234.zip.age" in text


def test_config_and_record_text_cannot_add_markup():
    script = "<script>alert(1)</script>"
    info = sample(
        "en",
        controller=dataclasses.replace(sample().controller, name=script, postal_address='<img src="http://x.example/p">',
                                       contact_email='a@b.example"><script>alert(2)</script>'),
        activities=(dataclasses.replace(activity("a", ("customers",)), purposes=script),),
        withheld=(WithheldInfo("customers", "<b>bold</b>", 1),),
    )
    html = render_readme(info)
    page = Page(html)
    assert not page.tags("script") and not page.tags("img") and not page.tags("b")
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert script in page.all_text(), "the escaped text still reads as written"
    assert 'mailto:a@b.example"><script>alert(2)</script>' in {a["href"] for a in page.tags("a")}


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_page_loads_nothing_and_its_policy_says_so(language):
    html = render_readme(sample(language))
    page = Page(html)
    for tag in ("script", "link", "img", "iframe", "object", "embed", "base", "form", "audio", "video", "source"):
        assert not page.tags(tag), f"<{tag}> would load something"
    ids = {attrs["id"] for _, attrs in page.elements if "id" in attrs}
    for tag, attrs in page.elements:
        assert "src" not in attrs and "srcset" not in attrs and "style" not in attrs, tag
        for name, value in attrs.items():
            assert not re.search(r"https?:", value or "", re.I), f"<{tag} {name}> holds a URL"
        if tag == "a":
            href = attrs["href"] or ""
            assert href.startswith("mailto:") or href[1:] in ids, href
    css = "".join(page.styles)
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert "@media print" in css
    csp = [m["content"] for m in page.tags("meta") if (m.get("http-equiv") or "").lower() == "content-security-policy"]
    css_hash = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    assert csp == [f"default-src 'none'; style-src 'sha256-{css_hash}'; base-uri 'none'; form-action 'none'"]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.tags("meta")
    assert page.tags("meta")[0] == {"charset": "utf-8"}


def test_the_same_info_gives_the_same_bytes_in_any_process():
    html = render_readme(sample("fi"))
    assert render_readme(sample("fi")) == html
    code = ("import sys; from tests.exports.test_readme import sample; from exports.readme import render_readme; "
            "sys.stdout.buffer.write(render_readme(sample('fi')))")
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True)
        assert out.stdout == html


def test_every_text_has_both_languages():
    texts = tomllib.loads((ROOT / "exports" / "templates" / "readme.toml").read_text(encoding="utf-8"))
    for key, value in texts.items():
        assert set(value) == {"fi", "en"} and all(v.strip() for v in value.values()), key
    template = (ROOT / "exports" / "templates" / "readme.html.j2").read_text(encoding="utf-8")
    for key in re.findall(r'\bt\("(\w+)"\s*[,)]', template):
        assert key in texts, f"the template uses {key!r}, which readme.toml lacks"


@pytest.mark.parametrize(("changes", "message"), [
    ({"language": "sv"}, "README language must be one of fi, en"),
    ({"generated_at": datetime(2026, 1, 1)}, "generated_at must be timezone-aware"),
    ({"public_key": "not a key"}, "package public key must be base64 of a 32-byte Ed25519 key"),
])
def test_bad_info_is_refused_with_a_clear_message(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        render_readme(sample(**changes))


def header_facts(html: bytes) -> dict[str, str]:
    """The header's term -> description pairs, as text."""
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html.decode("utf-8"))
    return {term: re.sub(r"<[^>]+>", "", description) for term, description in pairs}


@pytest.mark.parametrize(("language", "expected"), [
    ("fi", {"Postiosoite": "Esimerkkikatu 1, 00100 Helsinki", "Puhelin": "+358 9 123 4567",
            "Tietosuojavastaava": "Liisa Laine, dpo@demokauppa.example"}),
    ("en", {"Postal address": "Esimerkkikatu 1, 00100 Helsinki", "Phone": "+358 9 123 4567",
            "Data protection officer": "Liisa Laine, dpo@demokauppa.example"}),
])
def test_the_header_gives_the_controllers_postal_address_phone_and_dpo(language, expected):
    facts = header_facts(render_readme(sample(language)))
    assert {term: facts.get(term) for term in expected} == expected


def test_contact_details_not_given_are_left_out():
    controller = dataclasses.replace(sample("en").controller, phone="", postal_address="", dpo_name=None,
                                     dpo_email=None)
    facts = header_facts(render_readme(sample("en", controller=controller)))
    assert "Business ID" in facts
    assert not {"Postal address", "Phone", "Data protection officer"} & set(facts)
@pytest.mark.parametrize(("language", "source", "category", "surname"), [
    ("fi", "Asiakasrekisteri", "Asiakkaat", "Sukunimi"), ("en", "Customer register", "Customers", "Surname")])
def test_labels_name_sources_categories_and_columns_and_map_back_to_the_keys(language, source, category, surname):
    """The page names what the requester sees by its labels, and says which JSON key each CSV/XLSX header is."""
    labelled = SourceCoverage("customers", "sql", "found", None, {"asiakkaat": 1}, label=source,
                              category_labels={"asiakkaat": category})
    columns = {"customers": {"asiakkaat": [("sukunimi", surname), ("alt_email", "Alt email")]}}
    info = sample(language, coverage=(labelled, *sample().coverage[1:]), columns=columns,
                  withheld=(WithheldInfo("customers", "unparsed", 1),))
    page = Page(render_readme(info))
    assert page.row(f"{source} {category}") == (
        f"{source} {category} 1 data/customers/asiakkaat.json data/customers/asiakkaat.csv")
    assert coverage_row(page, source)
    assert page.row(surname) == f"{surname} sukunimi"
    assert page.row("Alt email") == "Alt email alt_email"
    assert ("Nimi (CSV ja report.xlsx) Tunnus (JSON)" if language == "fi" else "Name (CSV and report.xlsx) Key (JSON)"
            ) in page.rows
    assert f"{source} – {category}" in page.all_text()  # the columns table's caption
    assert page.row(f"{source} {'Sähköpostiviestiä' if language == 'fi' else 'A mail message'}")  # withheld
    assert "customers" not in " ".join(r for r in page.rows if not r.startswith(source + " " + category))


@pytest.mark.parametrize(("language", "expected"), [
    ("fi", "Koottu 1.1.2027 klo 1.30 (Europe/Helsinki)."),
    ("en", "Compiled on 1 January 2027, 01:30 (Europe/Helsinki).")])
def test_times_are_the_controllers_wall_clock(language, expected):
    """23:30 UTC on 31 December is already New Year's Day in Helsinki: the page says the controller's date."""
    info = sample(language, generated_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC), time_zone="Europe/Helsinki")
    assert expected in Page(render_readme(info)).all_text()
