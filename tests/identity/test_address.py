"""The canonical requester address: a table of what is accepted (and as what) and what is refused."""

import pytest

from identity.address import ascii_lower, canonical_address
from identity.errors import InvalidAddress

KELVIN = "\u212a"

GOOD = [
    ("tiina.karkkainen@example.fi", "tiina.karkkainen@example.fi"),
    # The domain is case-insensitive; the local part is the mail system's to interpret, so it is kept.
    ("Tiina.KarKKainen@Example.FI", "Tiina.KarKKainen@example.fi"),
    ("  tiina@example.fi ", "tiina@example.fi"),  # pasted spaces around it
    ("tiina+sar@example.fi", "tiina+sar@example.fi"),  # plus-addressing is kept: a different address
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("matti@ÄÄNEKOSKI.fi", "matti@äänekoski.fi"),  # an IDN domain, IDNA-normalised
    ("matti@xn--nekoski-4waa.fi", "matti@äänekoski.fi"),  # its A-label is the same domain
    ("a" * 64 + "@example.fi", "a" * 64 + "@example.fi"),
]

BAD = [
    ("tiina.KarKKainen@example.fi".replace("KK", KELVIN * 2), "ASCII"),  # Kelvin sign, U+212A
    ("ｔｉｉｎａ@example.fi", "ASCII"),  # fullwidth local part
    ("tiin\u0430@example.fi", "ASCII"),  # Cyrillic а
    ("p\u03bfsti@example.fi", "ASCII"),  # Greek ο
    ("tiina@ｅｘａｍｐｌｅ.fi", "stand in"),  # fullwidth domain: IDNA would map it onto example.fi
    (f"tiina@{KELVIN}esko.fi", "stand in"),  # Kelvin sign in the domain: IDNA would make it k
    ("tiina\u00a0@example.fi", "ASCII"),  # no-break space
    ("tiina@exa\u200dmple.fi", "control"),  # zero-width joiner
    ("tii\u200dna@example.fi", "control"),
    ("attacker@evil.example, victim@posti.example", "list"),
    ("attacker@evil.example; victim@posti.example", "list"),
    ("victim@posti.example\r\nBcc: attacker@evil.example", "control"),
    ("victim@posti.example\n", "control"),
    ("victim@posti.example\x00", "control"),
    ("Tiina <tiina@example.fi>", "name"),
    ("<tiina@example.fi>", "name"),
    ('"tiina"@example.fi', "quoted"),
    ('"victim@posti.example"@evil.example', "exactly one @"),
    ("a" * 65 + "@example.fi", "longer than 64"),
    ("a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".fi", "longer than 254"),
    ("tiina@[192.0.2.1]", "IP-address"),
    ("tiina@[IPv6:2001:db8::1]", "IP-address"),
    ("tiina", "exactly one @"),
    ("tiina@@example.fi", "exactly one @"),
    ("@example.fi", "not a valid"),
    ("tiina@localhost", "not a valid"),
    ("tiina@example", "not a valid"),
    ("tiina..k@example.fi", "not a valid"),
    ("", "empty"),
]


@pytest.mark.parametrize(("raw", "canonical"), GOOD)
def test_accepted_addresses_and_their_canonical_form(raw, canonical):
    assert canonical_address(raw) == canonical
    assert canonical_address(canonical) == canonical  # canonical means a fixed point


@pytest.mark.parametrize(("raw", "why"), BAD)
def test_refused_addresses_say_why_without_repeating_the_address(raw, why):
    with pytest.raises(InvalidAddress) as caught:
        canonical_address(raw)
    message = str(caught.value)
    assert why in message
    assert "\n" not in message and "@" not in message.replace("exactly one @", "").replace("before @", "")
    local = raw.strip().partition("@")[0]
    assert not local or local not in message


def test_a_unicode_local_part_is_accepted_only_when_config_allows_it():
    with pytest.raises(InvalidAddress, match="ASCII"):
        canonical_address("jyrki.äijälä@example.fi")
    assert canonical_address("jyrki.äijälä@example.fi", allow_smtputf8=True) == "jyrki.äijälä@example.fi"


@pytest.mark.parametrize("raw", [
    "tiina.KarKKainen@example.fi".replace("KK", KELVIN * 2),  # NFC would make it ASCII K: refused, not folded
    "tiina.kar\u006b\u0301kainen@example.fi",  # decomposed: NFC would compose it
])
def test_even_with_smtputf8_nothing_is_normalised_into_another_address(raw):
    with pytest.raises(InvalidAddress, match="stand in"):
        canonical_address(raw, allow_smtputf8=True)


@pytest.mark.parametrize("raw", ["ｔｉｉｎａ@example.fi", "tiin\u0430@example.fi"])
def test_with_smtputf8_a_look_alike_stays_a_different_address(raw):
    canonical = canonical_address(raw, allow_smtputf8=True)
    assert canonical == raw and canonical != "tiina@example.fi"
    assert ascii_lower(canonical) != "tiina@example.fi"


def test_ascii_lower_folds_ascii_only():
    assert ascii_lower("Tiina.KarKKainen@EXAMPLE.fi") == "tiina.karkkainen@example.fi"
    kelvin = "tiina.KarKKainen".replace("KK", KELVIN * 2)
    assert kelvin.lower() == "tiina.karkkainen"  # what str.lower() does: the hole
    assert ascii_lower(kelvin) == "tiina.kar" + KELVIN * 2 + "ainen"
