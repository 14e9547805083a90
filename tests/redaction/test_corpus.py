"""The redaction corpus: real-world mail never breaks redact_message, and the labels hold up."""

import email
import email.policy
import json
from pathlib import Path

import pytest

from extractors.records import Subject
from redaction.message import redact_message
from redaction.policy import Policy
from tests.corpus import finnish, identifiers, pools
from tests.corpus.generate import generate
from tests.corpus.mime import fields_of

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ROBUSTNESS = sorted(
    path for path in (CORPUS / "robustness").rglob("*")
    if path.is_file() and not path.name.startswith(("LICENSE", "NOTICE"))
)
# Known failures; strict, so a fix shows up here.
KNOWN_CRASHES: dict[str, str] = {}
SUBJECT = Subject("sanna.subjekti@example.fi", name="Sanna Subjekti", phones=("+358401112222",))
POLICY = Policy(controller_domains=("kauppa.fi",), staff=("Liisa Laine",))


def _labels(split):
    lines = (CORPUS / split / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_robustness_mail_is_there():
    assert len(ROBUSTNESS) > 60


def _robustness_params():
    for path in ROBUSTNESS:
        name = str(path.relative_to(CORPUS / "robustness"))
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_CRASHES[name])] if name in KNOWN_CRASHES else []
        yield pytest.param(path, id=name, marks=marks)


@pytest.mark.parametrize("path", _robustness_params())
def test_robustness_message_redacts_to_a_parseable_utf8_text_message(path):
    out = redact_message(path.read_bytes(), SUBJECT, POLICY)
    msg = email.message_from_bytes(out, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content_type() == "text/plain"
    assert body.get_content_charset() == "utf-8"
    assert isinstance(body.get_content(), str)


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_every_label_span_is_the_text_at_its_offsets(split):
    for record in _labels(split):
        fields = fields_of((CORPUS / split / record["file"]).read_bytes())
        for span in record["spans"]:
            assert fields[span["field"]][span["start"]: span["end"]] == span["text"], (record["file"], span["kind"])


def test_identifiers_in_the_labels_have_valid_check_digits():
    for record in _labels("heldout"):
        for span in record["spans"]:
            digits = "".join(ch for ch in span["text"] if ch.isalnum())
            if span["kind"] == "hetu":
                assert identifiers.hetu_valid(span["text"])
            elif span["kind"] == "iban":
                assert identifiers.iban_valid(span["text"])
            elif span["kind"] == "card":
                assert identifiers.luhn_valid(digits) and 13 <= len(digits) <= 19


def test_dev_split_is_what_the_generator_makes(tmp_path):
    generate(1, 120, tmp_path)
    assert (tmp_path / "labels.jsonl").read_bytes() == (CORPUS / "dev" / "labels.jsonl").read_bytes()
    for path in sorted((CORPUS / "dev" / "messages").iterdir()):
        assert (tmp_path / "messages" / path.name).read_bytes() == path.read_bytes(), path.name


def test_every_finnish_case_form_of_the_name_pools_is_confirmed_by_voikko():
    pytest.importorskip("libvoikko")
    native: list[str] = []
    foreign: list[str] = []
    for pool, into in ((pools.FI_FEMALE, native), (pools.FI_MALE, native), (pools.FI_SURNAMES, native),
                       (pools.EN_FEMALE, foreign), (pools.EN_MALE, foreign), (pools.EN_SURNAMES, foreign)):
        into.extend(name for name in pool.core + pool.odd + pool.even if name not in pools.NO_CASE_FORMS)
    assert finnish.check_forms(native) == []
    assert finnish.check_forms(foreign, foreign=True) == []
