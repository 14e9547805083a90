"""Knowledge match: how facts are normalised and how matched kinds score."""

from datetime import UTC, datetime

import pytest

from identity.errors import VerificationFailed
from identity.evidence import IdentityEvidence
from identity.knowledge import LEVEL_TABLE, PUBLIC, check_knowledge, level_for, normalise

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "typed", "on_record"), [
    ("phone", "040 123 4567", "+358401234567"),
    ("phone", "040-1234567", "+358 40 123 4567"),
    ("phone", "+358401234567", "0401234567"),
    ("phone", "00358 40 123 4567", "040 123 4567"),
    ("phone", "０４０１２３４５６７", "+358401234567"),  # fullwidth digits
    ("postal_code", "00100", "00100"),
    ("postal_code", "00100", 100),  # an integer column dropped the zeros
    ("postal_code", " 00 100 ", "00100"),
    ("postal_code", "００１００", "00100"),
    ("name", "tiina  KÄRKKÄINEN", "Tiina Kärkkäinen"),
    ("name", " Tiina\tKärkkäinen ", "Tiina Kärkkäinen"),
    ("name", "ＴＩＩＮＡ Kärkkäinen", "Tiina Kärkkäinen"),
    ("order_number", "#10042", 10042),
    ("order_number", "10 042", "10042"),
    ("order_number", "１００４２", 10042),
    ("birth_date", "1.4.1980", "1980-04-01"),
    ("birth_date", "01.04.1980", "1980-04-01"),
])
def test_spellings_of_the_same_fact_compare_equal(kind, typed, on_record):
    assert normalise(kind, typed) is not None
    assert normalise(kind, typed) == normalise(kind, on_record)


@pytest.mark.parametrize(("kind", "typed", "on_record"), [
    ("phone", "040 123 4568", "+358401234567"),
    ("postal_code", "00100", "00101"),
    ("name", "Tiina Karkkainen", "Tiina Kärkkäinen"),  # no folding of letters the person did not write
    ("name", "Tiina", "Tiina Kärkkäinen"),
    ("order_number", "10042", "100420"),
    ("birth_date", "1.4.1980", "1980-01-04"),
])
def test_different_facts_differ(kind, typed, on_record):
    assert normalise(kind, typed) != normalise(kind, on_record)


@pytest.mark.parametrize(("kind", "value"), [
    ("phone", "not a number"), ("phone", "123"), ("postal_code", "001000"), ("postal_code", "FI-00100"),
    ("birth_date", "31.2.1980"), ("name", "   "), ("name", None), ("phone", True), ("name", "x" * 201),
])
def test_values_that_are_no_fact_normalise_to_none(kind, value):
    assert normalise(kind, value) is None


def test_an_unknown_kind_is_misuse():
    with pytest.raises(ValueError, match="unknown fact kind"):
        normalise("hetu", "010180-123A")


KNOWN = {
    "name": frozenset({"tiina kärkkäinen"}),
    "postal_code": frozenset({"00100"}),
    "phone": frozenset({"+358401234567"}),
    "order_number": frozenset({"10042", "10077"}),
    "birth_date": frozenset({"1980-04-01"}),
}
NAME, POSTAL, PHONE, ORDER, BORN = "Tiina Kärkkäinen", "00100", "040 123 4567", "#10077", "1.4.1980"


@pytest.mark.parametrize(("stated", "level"), [
    ({"name": NAME, "order_number": ORDER, "phone": PHONE}, "substantial"),
    ({"name": NAME, "order_number": ORDER, "birth_date": BORN}, "substantial"),
    ({"name": NAME, "order_number": ORDER, "phone": PHONE, "postal_code": POSTAL}, "substantial"),
    ({"name": NAME, "order_number": ORDER}, "low"),
    ({"name": NAME, "phone": PHONE, "birth_date": BORN}, "low"),
])
def test_private_facts_score_by_the_table(stated, level):
    evidence = check_knowledge(stated, KNOWN, NOW, tries_left=3)
    assert (evidence.method, evidence.level) == ("knowledge", level)
    assert evidence.identifiers == tuple(sorted(stated))  # kinds, never values
    assert NAME not in str(evidence.to_dict()) and "10077" not in str(evidence.to_dict())
    assert IdentityEvidence.from_dict(evidence.to_dict()) == evidence


@pytest.mark.parametrize("stated", [
    {"name": NAME, "postal_code": POSTAL},  # public facts only: never evidence, not even "low"
    {"name": NAME},
    {"postal_code": POSTAL},
    {"order_number": ORDER, "phone": PHONE},  # private facts without the name they belong to
    {"name": NAME, "phone": PHONE},
    {"name": NAME, "birth_date": BORN, "postal_code": POSTAL},
])
def test_too_few_or_only_public_facts_give_no_evidence(stated):
    with pytest.raises(VerificationFailed):
        check_knowledge(stated, KNOWN, NOW, tries_left=3)


def test_no_row_of_the_table_is_reached_by_public_facts_alone():
    assert level_for(frozenset(PUBLIC)) is None
    assert all(needed - PUBLIC for needed, _ in LEVEL_TABLE)
    assert all("order_number" in needed for needed, level in LEVEL_TABLE if level != "low")


def test_one_wrong_fact_fails_the_whole_match():
    stated = {"name": NAME, "order_number": ORDER, "phone": PHONE, "postal_code": "00200"}
    with pytest.raises(VerificationFailed):
        check_knowledge(stated, KNOWN, NOW, tries_left=3)


def test_a_fact_the_record_lacks_counts_for_nothing():
    known = {k: v for k, v in KNOWN.items() if k != "birth_date"}
    with pytest.raises(VerificationFailed):
        check_knowledge({"name": NAME, "phone": PHONE, "birth_date": BORN}, known, NOW, tries_left=3)
    evidence = check_knowledge({"name": NAME, "order_number": ORDER, "birth_date": "2.2.2002"}, known, NOW,
                               tries_left=3)
    assert evidence.level == "low" and evidence.identifiers == ("name", "order_number")


def test_no_tries_left_locks_even_the_right_answers():
    with pytest.raises(VerificationFailed):
        check_knowledge({"name": NAME, "order_number": ORDER, "phone": PHONE}, KNOWN, NOW, tries_left=0)


def test_unknown_kinds_and_naive_times_are_misuse():
    with pytest.raises(ValueError, match="unknown fact kind"):
        check_knowledge({"hetu": "010180-123A"}, KNOWN, NOW, tries_left=3)
    with pytest.raises(ValueError, match="timezone-aware"):
        check_knowledge({"name": NAME}, KNOWN, datetime(2026, 3, 1), tries_left=3)
