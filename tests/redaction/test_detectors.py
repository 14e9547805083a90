"""Value detectors, tested with tables of (text, expected findings) in presidio's style.

A row lists what the detector must find in the text, each finding as the exact
text it covers and its normalised value; an empty list means nothing at all.
"""

import pytest

from redaction.addresses import AddressDetector
from redaction.analysis import Document
from redaction.detectors import EmailDetector, Finding, ObfuscatedEmailDetector
from redaction.identifiers import CardDetector, HetuDetector, IbanDetector, IpDetector
from redaction.lexicon import Lexicon
from redaction.phones import PhoneDetector, normalise_phone

_HETU_CONTROL = "0123456789ABCDEFHJKLMNPRSTUVWXY"


@pytest.fixture(scope="module")
def lexicon():
    return Lexicon()


def found(detector, text, lexicon):
    """(covered text, normalised value) of each finding; every finding has the detector's kind."""
    findings = list(detector.find(Document(text, lexicon)))
    assert all(f.kind == detector.kind for f in findings)
    return [(text[f.start:f.end], f.value_normalised) for f in findings]


def hetu(ddmmyy, sign, number):
    """A valid identity code, its control character computed as the Population Register Centre does."""
    return f"{ddmmyy}{sign}{number}{_HETU_CONTROL[int(ddmmyy + number) % 31]}"


# -- email ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("info@example.com", [("info@example.com", "info@example.com")]),
        ("mail: Matti.Virtanen+dsar@mail.Example.fi.",
         [("Matti.Virtanen+dsar@mail.Example.fi", "matti.virtanen+dsar@mail.example.fi")]),
        ("a@x.fi, b_c@sub.dom.example.org",
         [("a@x.fi", "a@x.fi"), ("b_c@sub.dom.example.org", "b_c@sub.dom.example.org")]),
        ("lähetä osoitteeseen anna@x.fi-osoitteeseen", [("anna@x.fi", "anna@x.fi")]),
        ("mailto:pekka@yritys.fi", [("pekka@yritys.fi", "pekka@yritys.fi")]),
        ("(pekka@yritys.fi)", [("pekka@yritys.fi", "pekka@yritys.fi")]),
        ("not an address: user@localhost or @x.fi or a@b or x@.fi", []),
        ("hinta 5 € @ 3 kpl", []),
        ("", []),
    ],
)
def test_email(text, expected, lexicon):
    assert found(EmailDetector(), text, lexicon) == expected


@pytest.mark.parametrize(
    ("text", "span", "name"),
    [
        ("From: Matti Virtanen <matti@x.fi>", "Matti Virtanen <matti@x.fi>", "Matti Virtanen"),
        ('To: "Virtanen, Matti" <matti@x.fi>', '"Virtanen, Matti" <matti@x.fi>', "Virtanen, Matti"),
        ("Cc: <matti@x.fi>", "<matti@x.fi>", None),
        ("kirjoita Anna-Liisa Ähkä <al@x.fi> kautta", "Anna-Liisa Ähkä <al@x.fi>", "Anna-Liisa Ähkä"),
        ("ota yhteyttä <al@x.fi>", "<al@x.fi>", None),
        ("Reply-To: John O'Brien <JOB@Example.com>", "John O'Brien <JOB@Example.com>", "John O'Brien"),
    ],
)
def test_email_display_name_is_part_of_the_finding(text, span, name, lexicon):
    [finding] = EmailDetector().find(Document(text, lexicon))
    assert text[finding.start:finding.end] == span
    assert finding.name == name


def test_email_recipient_list(lexicon):
    text = "To: Anna Ahonen <anna@x.fi>, Pekka Pouta <Pekka@Y.fi>"
    findings = EmailDetector().find(Document(text, lexicon))
    assert [(text[f.start:f.end], f.name, f.value_normalised) for f in findings] == [
        ("Anna Ahonen <anna@x.fi>", "Anna Ahonen", "anna@x.fi"),
        ("Pekka Pouta <Pekka@Y.fi>", "Pekka Pouta", "pekka@y.fi"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("matti at example dot fi", [("matti at example dot fi", "matti@example.fi")]),
        ("Matti AT Example DOT fi", [("Matti AT Example DOT fi", "matti@example.fi")]),
        ("matti(at)example.fi", [("matti(at)example.fi", "matti@example.fi")]),
        ("matti (at) example (dot) fi", [("matti (at) example (dot) fi", "matti@example.fi")]),
        ("matti [at] example [dot] fi", [("matti [at] example [dot] fi", "matti@example.fi")]),
        ("matti{at}example{dot}fi", [("matti{at}example{dot}fi", "matti@example.fi")]),
        ("matti.virtanen [at] mail [dot] yritys [dot] fi, kiitos",
         [("matti.virtanen [at] mail [dot] yritys [dot] fi", "matti.virtanen@mail.yritys.fi")]),
        ("osoite: matti ät esimerkki piste fi.", [("matti ät esimerkki piste fi", "matti@esimerkki.fi")]),
        ("matti(ät)esimerkki(piste)fi", [("matti(ät)esimerkki(piste)fi", "matti@esimerkki.fi")]),
        ("anna_k at sub dot example dot co dot uk",
         [("anna_k at sub dot example dot co dot uk", "anna_k@sub.example.co.uk")]),
        ("pekka @ yritys.fi", [("pekka @ yritys.fi", "pekka@yritys.fi")]),
        # English "at" before the address is not part of it.
        ("reach me on 050 355 6067 or at charlotte.taylor(at)suomi24.fi.",
         [("charlotte.taylor(at)suomi24.fi", "charlotte.taylor@suomi24.fi")]),
        ("or at white.james [at] btinternet [dot] com.",
         [("white.james [at] btinternet [dot] com", "white.james@btinternet.com")]),
        ("or at olivia.smith at gmail dot com", [("olivia.smith at gmail dot com", "olivia.smith@gmail.com")]),
        ("sähköposti: info at yritys dot info", [("info at yritys dot info", "info@yritys.info")]),
        # A plain address is EmailDetector's, not found twice.
        ("matti@example.fi", []),
        # Prose with "at" and "piste" in it.
        ("We met at the station. Then we left.", []),
        ("Look at this dot, please", []),
        ("Olin kotona at 5 pm", []),
        ("Visit us at www.example.com or WWW dot example dot com", []),
        ("piste fi", []),
    ],
)
def test_obfuscated_email(text, expected, lexicon):
    assert found(ObfuscatedEmailDetector(), text, lexicon) == expected


# -- phone numbers ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("040 123 4567", [("040 123 4567", "+358401234567")]),
        ("soita 040-1234567", [("040-1234567", "+358401234567")]),
        ("0401234567", [("0401234567", "+358401234567")]),
        ("+358 40 123 4567", [("+358 40 123 4567", "+358401234567")]),
        ("+358401234567", [("+358401234567", "+358401234567")]),
        ("00358 40 1234567", [("00358 40 1234567", "+358401234567")]),
        ("(09) 123 4567", [("(09) 123 4567", "+35891234567")]),
        ("09 1234 5678", [("09 1234 5678", "+358912345678")]),
        ("+44 20 7946 0958", [("+44 20 7946 0958", "+442079460958")]),
        ("+1 415 555 0100", [("+1 415 555 0100", "+14155550100")]),
        ("puh. 050 1234567", [("050 1234567", "+358501234567")]),
        ("p. 0401234567", [("0401234567", "+358401234567")]),
        ("Puhelin: 040 123 45 67.", [("040 123 45 67", "+358401234567")]),
        ("gsm 0451234567, email x", [("0451234567", "+358451234567")]),
        ("numero 040 1234567", [("040 1234567", "+358401234567")]),
        ("Mobile: +358 (0)40 123 4567", [("+358 (0)40 123 4567", "+358401234567")]),
        # A phone word is enough without a leading 0 or +.
        ("puh. 401234567", [("401234567", "+358401234567")]),
        ("tel. 9 123 4567", [("9 123 4567", "+35891234567")]),
        ("Soita 040 123 4567 tai +44 20 7946 0958 illalla.",
         [("040 123 4567", "+358401234567"), ("+44 20 7946 0958", "+442079460958")]),
        ("Tilaukseni 123 saapui. Soita 040 123 4567.", [("040 123 4567", "+358401234567")]),
        ("Tilausnumero 12345, puh. 040 1234567", [("040 1234567", "+358401234567")]),
        ("Tilaus ja puh. 040 1234567", [("040 1234567", "+358401234567")]),
        ("No news from the parcel.\n\nI called +358 9 4241 5500 and", [("+358 9 4241 5500", "+358942415500")]),
        ("Tilaus tuli. Numeroni 0401234567", [("0401234567", "+358401234567")]),
        ("Idalle 040 123 4567", [("040 123 4567", "+358401234567")]),
        ("Summary: call 040 1234567", [("040 1234567", "+358401234567")]),
        ("Euroopan päivystys +358 40 123 4567", [("+358 40 123 4567", "+358401234567")]),
        # A date or time right before does not make the number part of it.
        ("12.3.2026 040 123 4567", [("040 123 4567", "+358401234567")]),
        ("ma 12.3. klo 10.15 0401234567", [("0401234567", "+358401234567")]),
        ("0401234567 02/03/2026", [("0401234567", "+358401234567")]),
        ("2026-03-02 040 123 4567", [("040 123 4567", "+358401234567")]),
        # Nor do numbers after it on the same line.
        ("Soita 040 123 4567 10 kertaa", [("040 123 4567", "+358401234567")]),
        ("040 1234567 2 kpl", [("040 1234567", "+358401234567")]),
        ("p. 09 123 4567 8-16", [("09 123 4567", "+35891234567")]),
        ("puh. 040 1234567 12-18", [("040 1234567", "+358401234567")]),
        ("+44 20 7946 0958 12", [("+44 20 7946 0958", "+442079460958")]),
        ("+358 40 123 4567 2026", [("+358 40 123 4567", "+358401234567")]),
        ("puh 040 1234567 / 050 7654321", [("040 1234567", "+358401234567"), ("050 7654321", "+358507654321")]),
    ],
)
def test_phone(text, expected, lexicon):
    assert found(PhoneDetector("FI"), text, lexicon) == expected


@pytest.mark.parametrize(
    "text",
    [
        # dates and times
        "päivämäärä 02.03.2026", "2.3.2026", "2026-03-02", "02-03-2026", "02/03/2026", "2026/03/02", "12. 3. 2026",
        "toimitus 02-03-2026 klo 10-12", "08:00-16:00", "klo 8.00-16.00", "maksettu 12.3. klo 10.15", "klo 10:15",
        "2024-03-12T10:15:00", "12.03.2026 10:15:30", "02.03.2026-05.03.2026",
        # orders, invoices, references, customers
        "tilausnumero 0401234567", "Tilausnumero: 0401234567", "asiakasnumero 004512", "asiakasnumero 0045123456",
        "viitenumero 1234 5612", "viite 00000 12345 67890", "lasku 2026-0042", "laskun numero 0401234567",
        "order no. 0401234567", "Invoice #0401234567", "customer number 0401234567", "ref. 0401234567",
        "puhelin ja tilausnumero 0401234567", "tilauksen numero 401234567", "asiakkaan numero 0401234567",
        "tilauksesi 0401234567 on lähetetty",
        "Y-tunnus 1234567-8", "tilinumero FI21 1234 5600 0007 85",
        # postal codes and amounts
        "postinumero 00100 Helsinki", "Satamakatu 57, 00100 Helsinki", "00100", "hinta 1 299,00 €", "49,90",
        "yhteensä 1 234 567,00 euroa", "1 299 000 €",
        # plain numbers without a phone word or leading 0 or +
        "123456789", "Tilaus 5 kpl", "vuonna 2026 noin 1234567 käyttäjää", "paljon 1234567",
        # not possible numbers
        "0123", "+358 1", "versio 1.2.3.4",
    ],
)
def test_phone_not_found(text, lexicon):
    assert found(PhoneDetector("FI"), text, lexicon) == []


def test_phone_word_finds_a_foreign_number_without_a_country_code(lexicon):
    # A UK number written as UK people write it, in a Finnish text: found as a possible number
    # (read as Finnish, since nothing says otherwise); a phone word makes it a phone.
    [(span, _)] = found(PhoneDetector("FI"), "Tel: 020 7946 0958", lexicon)
    assert span == "020 7946 0958"
    assert found(PhoneDetector("GB"), "Tel: 020 7946 0958", lexicon) == [("020 7946 0958", "+442079460958")]


def test_phone_other_default_region(lexicon):
    assert found(PhoneDetector("SE"), "08-123 456 78", lexicon) == [("08-123 456 78", "+46812345678")]


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("040 123 4567", "FI", "+358401234567"),
        ("+358401234567", "SE", "+358401234567"),
        ("00358 40 1234567", "FI", "+358401234567"),
        ("(09) 123 4567", "FI", "+35891234567"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("not a number", "FI", None),
        ("12", "FI", None),
    ],
)
def test_normalise_phone(number, region, expected):
    assert normalise_phone(number, region) == expected


# -- identity codes, IBANs, cards, IPs --------------------------------------------------------------------------------

@pytest.mark.parametrize("sign", list("+-YXWVUABCDEF"))
def test_hetu_every_century_sign(sign, lexicon):
    code = hetu("131052", sign, "308")
    text = f"Henkilötunnus {code}, kiitos."
    assert found(HetuDetector(), text, lexicon) == [(code, code)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("131052-308T", [("131052-308T", "131052-308T")]),
        ("hetu: 010101A123N.", [("010101A123N", "010101A123N")]),
        ("(131052-308t)", [("131052-308t", "131052-308T")]),
        (f"{hetu('290200', 'A', '002')} ja {hetu('311299', '-', '899')}",
         [(hetu("290200", "A", "002"),) * 2, (hetu("311299", "-", "899"),) * 2]),
        ("131052-308U", []),                     # wrong control character
        ("131052-307T", []),                     # wrong number for the control character
        (hetu("320152", "-", "308"), []),        # no 32nd day
        (hetu("131352", "-", "308"), []),        # no 13th month
        (hetu("300252", "-", "308"), []),        # no 30 February
        (hetu("290201", "A", "308"), []),        # 2001 was not a leap year
        (hetu("131052", "G", "308"), []),        # not a century sign
        ("x131052-308T", []), ("131052-308TX", []), ("131052-308T-1", []),
    ],
)
def test_hetu(text, expected, lexicon):
    assert found(HetuDetector(), text, lexicon) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FI21 1234 5600 0007 85", [("FI21 1234 5600 0007 85", "FI2112345600000785")]),
        ("tilille FI2112345600000785.", [("FI2112345600000785", "FI2112345600000785")]),
        ("IBAN: fi21 1234 5600 0007 85", [("fi21 1234 5600 0007 85", "FI2112345600000785")]),
        ("DE89 3704 0044 0532 0130 00", [("DE89 3704 0044 0532 0130 00", "DE89370400440532013000")]),
        ("GB82 WEST 1234 5698 7654 32", [("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432")]),
        ("NO9386011117947", [("NO9386011117947", "NO9386011117947")]),
        ("FR1420041010050500013M02606", [("FR1420041010050500013M02606", "FR1420041010050500013M02606")]),
        # Words after the IBAN are not part of it, whatever their case.
        ("FI21 1234 5600 0007 85 Nordea", [("FI21 1234 5600 0007 85", "FI2112345600000785")]),
        ("FI21 1234 5600 0007 85 BIC NDEAFIHH", [("FI21 1234 5600 0007 85", "FI2112345600000785")]),
        ("GB82 WEST 1234 5698 7654 32 LONDON", [("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432")]),
        ("FI2112345600000785 ja DE89370400440532013000",
         [("FI2112345600000785", "FI2112345600000785"), ("DE89370400440532013000", "DE89370400440532013000")]),
        # Something IBAN-shaped right before does not hide it.
        ("AB12 FI21 1234 5600 0007 85", [("FI21 1234 5600 0007 85", "FI2112345600000785")]),
        ("FI21 1234 5600 0007 86", []),          # checksum
        ("FI21 1234 5600 0007 8", []),           # too short for Finland
        ("FI21 1234 5600 0007 851", []),         # too long for Finland
        ("XX21 1234 5600 0007 85", []),          # no such country
        ("AFI2112345600000785", []),
        ("SOME12 WORDS IN CAPITALS AND 12 NUMBERS", []),
    ],
)
def test_iban(text, expected, lexicon):
    assert found(IbanDetector(), text, lexicon) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111", [("4111 1111 1111 1111", "4111111111111111")]),
        ("kortti 4111-1111-1111-1111.", [("4111-1111-1111-1111", "4111111111111111")]),
        ("4111111111111111", [("4111111111111111", "4111111111111111")]),
        ("Amex 3782 822463 10005", [("3782 822463 10005", "378282246310005")]),
        ("4222222222222", [("4222222222222", "4222222222222")]),                    # 13 digits
        ("6304 0000 0000 0000 018", [("6304 0000 0000 0000 018", "6304000000000000018")]),  # 19 digits
        ("Tilaus maksettu kortilla 4111 1111 1111 1111", [("4111 1111 1111 1111", "4111111111111111")]),
        ("kortti 4111 1111 1111 1111 12/28", [("4111 1111 1111 1111", "4111111111111111")]),
        ("4111 1111 1111 1111 voimassa 2028", [("4111 1111 1111 1111", "4111111111111111")]),
        ("4111 1111 1111 1112", []),             # Luhn
        ("411111111111", []),                    # 12 digits
        ("41111111111111111111", []),            # 20 digits
        ("viitenumero 4111 1111 1111 1111", []),
        ("ref: 4111111111111111", []),
        ("tilausnumero 4111111111111111", []),
        ("Order #4111111111111111", []),
        ("laskun numero 4111111111111111", []),
        ("Lasku tuli. Maksoin 4111111111111111", [("4111111111111111", "4111111111111111")]),
        ("viitteen numero 4111111111111111", []),
        ("tilauksen 4111111111111111", []),
        ("X4111111111111111", []),
    ],
)
def test_card(text, expected, lexicon):
    assert found(CardDetector(), text, lexicon) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.1", [("192.168.1.1", "192.168.1.1")]),
        ("kirjautui osoitteesta 10.0.0.255.", [("10.0.0.255", "10.0.0.255")]),
        ("from 8.8.8.8, 1.1.1.1", [("8.8.8.8", "8.8.8.8"), ("1.1.1.1", "1.1.1.1")]),
        ("2001:db8::1", [("2001:db8::1", "2001:db8::1")]),
        ("IP [2001:0DB8:0000:0000:0000:0000:0000:0001]", [("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]),
        ("fe80::1ff:fe23:4567:890a", [("fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a")]),
        ("localhost ::1 ok", [("::1", "::1")]),
        ("256.1.1.1", []), ("1.2.3.256", []), ("192.168.001.1", []),
        ("1.2.3", []), ("versio 1.2.3.4.5", []), ("02.03.2026", []), ("12.3.2026 10.15", []),
        ("klo 10:15:30", []), ("10:15", []), ("2024-03-12T10:15:30", []), ("00:1A:2B:3C:4D:5E", []),
        ("a::b::c", []), ("Huom: lue tämä", []),
    ],
)
def test_ip(text, expected, lexicon):
    assert found(IpDetector(), text, lexicon) == expected


# -- street addresses -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Satamakatu 57", "Satamakatu 57"),
        ("Osoite: Kuusitie 4 B 11", "Kuusitie 4 B 11"),
        ("Mannerheimintie 12 A 3, 00100 Helsinki", "Mannerheimintie 12 A 3, 00100 Helsinki"),
        ("Asun osoitteessa Satamakatu 57, 00100 Helsinki.", "Satamakatu 57, 00100 Helsinki"),
        ("Kuusitie 4 b 11, 02100 Espoo", "Kuusitie 4 b 11, 02100 Espoo"),
        ("Kuusitie 4b as. 11", "Kuusitie 4b as. 11"),
        ("Kuusitie 4 A, 33100 Tampere", "Kuusitie 4 A, 33100 Tampere"),
        ("Mannerheimintie 12\n00100 Helsinki", "Mannerheimintie 12\n00100 Helsinki"),
        ("Pohjoinen Rautatiekatu 21", "Pohjoinen Rautatiekatu 21"),
        ("Asun Kuusitiellä 4.", "Kuusitiellä 4"),
        ("Paketti tuli Satamakadulla 5 olevaan noutopisteeseen", "Satamakadulla 5"),
        ("Muutin Koivukujalle 3 A 2", "Koivukujalle 3 A 2"),
        ("Storgatan 5, 00100 Helsingfors", "Storgatan 5, 00100 Helsingfors"),
        ("221B Baker Street", "221B Baker Street"),
        ("I live at 12 Oak Lane, Leeds LS1 4AB.", "12 Oak Lane, Leeds LS1 4AB"),
        ("Flat 3, 12 Oak Lane", "Flat 3, 12 Oak Lane"),
        ("Send it to Flat 3, 12 Oak Lane, Leeds LS1 4AB", "Flat 3, 12 Oak Lane, Leeds LS1 4AB"),
        ("1600 Pennsylvania Avenue, Washington DC 20500", "1600 Pennsylvania Avenue, Washington DC 20500"),
        ("10 Downing Street, London SW1A 2AA", "10 Downing Street, London SW1A 2AA"),
        ("Apt. 4B, 55 Elm Road, Bristol", "Apt. 4B, 55 Elm Road, Bristol"),
        ("350 5th Avenue, New York, NY 10118", "350 5th Avenue, New York, NY 10118"),
        ("Bulevardi 5 A 7", "Bulevardi 5 A 7"),
        ("Rautatientori 1", "Rautatientori 1"),
        ("Kauppakaari 3", "Kauppakaari 3"),
        ("Olen Mäkitorpantiellä 12 B", "Mäkitorpantiellä 12 B"),
        ("Asun Koivupuistossa 4 B 12.", "Koivupuistossa 4 B 12"),
        ("The parcel was delivered to Kotimäki 40a and signed for", "Kotimäki 40a"),
        ("osoitteessa Harjurinteellä 25 C asuva naapuri", "Harjurinteellä 25 C"),
        ("Kalliorinne 5 and signed", "Kalliorinne 5"),
        ("Kalliorinne 3, 02100 Espoo", "Kalliorinne 3, 02100 Espoo"),
    ],
)
def test_address_is_inside_the_span(text, address, lexicon):
    findings = list(AddressDetector().find(Document(text, lexicon)))
    start = text.index(address)
    assert any(f.start <= start and start + len(address) <= f.end for f in findings), findings
    # The span is the address, not the sentence around it.
    assert all(f.end - f.start <= len(address) + 2 for f in findings), findings


@pytest.mark.parametrize(
    "text",
    [
        "Tilaus 5 kpl", "Sivu 12", "Versio 3", "Kappale 2", "Luku 4 käsittelee asiaa", "Huone 12",
        "Kohta 3 B", "Vuonna 2026 ostin 3 tuotetta", "Tilauksen 12345 toimitus", "Liite 2, sivu 3",
        "Page 12", "Chapter 3 Street Art", "Order 5 items", "I ordered 3 large pizzas", "Windows 10 Home",
        "Take 2 tablets", "Katu", "Tie on 5 km pitkä", "Tie 5 km", "Katu 5", "Kalliossa 5 vuotta", "Lahti 2026",
        "Niemi 3 kpl", "Mäki 4", "Saarella 2 viikkoa", "Rannalla 3 tuntia", "Torilla 10 myyjää", "Kylässä 200 asukasta",
        "Lahdessa 3 päivää", "Pihalla 2 autoa", "Puistossa 5 lasta",
    ],
)
def test_address_not_found(text, lexicon):
    assert found(AddressDetector(), text, lexicon) == []


def test_address_normalised_whatever_the_case_and_commas(lexicon):
    a = found(AddressDetector(), "Kuusitie 4 B 11, 00100 Helsinki", lexicon)
    b = found(AddressDetector(), "KUUSITIE 4 b 11 00100 HELSINKI", lexicon)
    assert [v for _, v in a] == [v for _, v in b] != []


# -- the same identifier written two ways ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("detector", "one", "other"),
    [
        (EmailDetector(), "Matti.Virtanen@Example.FI", "matti.virtanen@example.fi"),
        (ObfuscatedEmailDetector(), "matti at example dot fi", "matti [at] example [dot] fi"),
        (PhoneDetector("FI"), "puh. 040 123 4567", "+358401234567"),
        (PhoneDetector("FI"), "(09) 123 4567", "+358 9 1234567"),
        (PhoneDetector("FI"), "00358 40 1234567", "040-1234567"),
        (HetuDetector(), "131052-308t", "131052-308T"),
        (IbanDetector(), "FI21 1234 5600 0007 85", "fi2112345600000785"),
        (CardDetector(), "4111 1111 1111 1111", "4111-1111-1111-1111"),
        (IpDetector(), "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:DB8::1"),
    ],
)
def test_same_identifier_two_ways_same_value(detector, one, other, lexicon):
    [(_, a)] = found(detector, one, lexicon)
    [(_, b)] = found(detector, other, lexicon)
    assert a == b


def test_obfuscated_and_plain_email_same_value(lexicon):
    [(_, plain)] = found(EmailDetector(), "matti@example.fi", lexicon)
    [(_, written)] = found(ObfuscatedEmailDetector(), "matti(at)example(dot)fi", lexicon)
    assert plain == written


def test_finding_is_a_value():
    assert Finding(0, 1, "email", "a@x.fi") == Finding(0, 1, "email", "a@x.fi")
