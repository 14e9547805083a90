"""Detectors, tested with tables of (text, expected findings) in presidio's style."""

import pytest

from redaction.detectors import EmailDetector, Finding, PhoneDetector, normalise_phone


def spans(detector, text):
    return [(f.start, f.end, f.kind, f.value_normalised) for f in detector.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("info@example.com", [(0, 16, "email", "info@example.com")]),
        ("mail: Matti.Virtanen+dsar@mail.Example.fi.", [(6, 41, "email", "matti.virtanen+dsar@mail.example.fi")]),
        ("a@x.fi, b_c@sub.dom.example.org", [(0, 6, "email", "a@x.fi"), (8, 31, "email", "b_c@sub.dom.example.org")]),
        ("lähetä osoitteeseen anna@x.fi-osoitteeseen", [(20, 29, "email", "anna@x.fi")]),
        ("mailto:pekka@yritys.fi", [(7, 22, "email", "pekka@yritys.fi")]),
        ("not an address: user@localhost or @x.fi or a@b", []),
        ("", []),
    ],
)
def test_email_detector(text, expected):
    assert spans(EmailDetector(), text) == expected


@pytest.mark.parametrize(
    ("text", "span", "name"),
    [
        ("From: Matti Virtanen <matti@x.fi>", "Matti Virtanen <matti@x.fi>", "Matti Virtanen"),
        ('To: "Virtanen, Matti" <matti@x.fi>', '"Virtanen, Matti" <matti@x.fi>', "Virtanen, Matti"),
        ("Cc: <matti@x.fi>", "<matti@x.fi>", None),
        ("kirjoita Anna-Liisa Ähkä <al@x.fi> kautta", "Anna-Liisa Ähkä <al@x.fi>", "Anna-Liisa Ähkä"),
        ("ota yhteyttä <al@x.fi>", "<al@x.fi>", None),
    ],
)
def test_email_detector_display_name_is_part_of_the_finding(text, span, name):
    [finding] = EmailDetector().find(text)
    assert text[finding.start:finding.end] == span
    assert finding.name == name


def test_email_detector_recipient_list():
    text = "To: Anna Ahonen <anna@x.fi>, Pekka Pouta <Pekka@Y.fi>"
    found = list(EmailDetector().find(text))
    assert [(text[f.start:f.end], f.name, f.value_normalised) for f in found] == [
        ("Anna Ahonen <anna@x.fi>", "Anna Ahonen", "anna@x.fi"),
        ("Pekka Pouta <Pekka@Y.fi>", "Pekka Pouta", "pekka@y.fi"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("soita 040 123 4567", [(6, 18, "phone", "+358401234567")]),
        ("+358 50 1234567", [(0, 15, "phone", "+358501234567")]),
        ("0451234567", [(0, 10, "phone", "+358451234567")]),
        ("(09) 123 4567", [(0, 13, "phone", "+35891234567")]),
        ("puh. 040-1234567", [(5, 16, "phone", "+358401234567")]),
        ("050 123 45 67 tai +44 20 7946 0958", [(0, 13, "phone", "+358501234567"), (18, 34, "phone", "+442079460958")]),
        ("tilausnumero 2024-000123", []),
        ("päivämäärä 12.3.2024", []),
        ("hinta 123,45 €", []),
        ("2024-03-12T10:15:00", []),
        ("postinumero 00100 Helsinki", []),
        ("Y-tunnus 1234567-8", []),
        ("IBAN FI21 1234 5600 0007 85", []),
        ("asiakasnumero 40123456", []),
    ],
)
def test_phone_detector(text, expected):
    assert spans(PhoneDetector(), text) == expected


def test_phone_detector_other_default_region():
    assert spans(PhoneDetector(region="SE"), "08-123 456 78") == [(0, 13, "phone", "+46812345678")]


@pytest.mark.parametrize(
    ("number", "expected"),
    [("040 123 4567", "+358401234567"), ("+358401234567", "+358401234567"), ("not a number", "not a number")],
)
def test_normalise_phone(number, expected):
    assert normalise_phone(number) == expected


def test_finding_is_a_value():
    assert Finding(0, 1, "email", "a@x.fi") == Finding(0, 1, "email", "a@x.fi")
