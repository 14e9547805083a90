"""Identifiers with valid check digits, and the ways people write them.

Every function takes the generator's `random.Random` so the corpus is the same
for the same seed. Nothing here is a real person's identifier: identity codes
and card numbers are random with a correct check character, IBANs random with
correct mod-97 digits.
"""

from __future__ import annotations

import random
import string

_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# Century sign -> the century it stands for (signs U-Y and B-F since 2023).
CENTURY_SIGNS = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
                 "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}


def hetu(rng: random.Random, sign: str | None = None) -> str:
    """A Finnish personal identity code with a valid check character."""
    sign = sign or rng.choice(sorted(CENTURY_SIGNS))
    century = CENTURY_SIGNS[sign]
    year = century + rng.randrange(0, 100) if century != 2000 else 2000 + rng.randrange(0, 25)
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    number = rng.randint(2, 899)
    digits = f"{day:02d}{month:02d}{year % 100:02d}{number:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{_HETU_CHECK[int(digits) % 31]}"


def hetu_valid(code: str) -> bool:
    if len(code) != 11 or code[6] not in CENTURY_SIGNS:
        return False
    digits = code[:6] + code[7:10]
    return digits.isdigit() and _HETU_CHECK[int(digits) % 31] == code[10]


# Country -> (BBAN length, BBAN alphabet: "n" digits, "a" capitals, per position as a pattern).
_IBAN_BBAN = {"FI": "n" * 14, "DE": "n" * 18, "SE": "n" * 20, "EE": "n" * 16, "NO": "n" * 11,
              "GB": "aaaa" + "n" * 14, "NL": "aaaa" + "n" * 10, "FR": "n" * 23}


def _iban_digits(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def iban(rng: random.Random, country: str = "FI") -> str:
    """An IBAN (unspaced) whose check digits pass mod-97."""
    bban = "".join(rng.choice(string.digits if c == "n" else string.ascii_uppercase) for c in _IBAN_BBAN[country])
    check = 98 - _iban_digits(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def iban_valid(code: str) -> bool:
    code = code.replace(" ", "")
    return len(code) > 4 and _iban_digits(code[4:] + code[:4]) % 97 == 1


def grouped(code: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(code[i: i + size] for i in range(0, len(code), size))


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


def luhn_valid(number: str) -> bool:
    digits = "".join(ch for ch in number if ch.isdigit())
    return luhn_digit(digits[:-1]) == digits[-1]


# (prefix, length) of card brands: Visa 13/16/19, Mastercard, Amex 15, Diners 14, Discover, Maestro 18/19.
_CARDS = (("4", 16), ("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("34", 15),
          ("37", 15), ("36", 14), ("6011", 16), ("6759", 18), ("6759", 19))


def card(rng: random.Random) -> str:
    """A payment card number (digits only) with a valid Luhn digit."""
    prefix, length = rng.choice(_CARDS)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


def card_written(rng: random.Random, number: str) -> str:
    style = rng.choice(("space", "space", "dash", "plain"))
    if style == "plain":
        return number
    sep = " " if style == "space" else "-"
    if len(number) == 15:  # Amex: 4-6-5
        return sep.join((number[:4], number[4:10], number[10:]))
    return grouped(number, 4, sep)


def fi_mobile(rng: random.Random) -> str:
    """A Finnish mobile number in E.164."""
    return "+358" + rng.choice(("40", "41", "44", "45", "46", "50")) + f"{rng.randrange(10**7):07d}"


def phone_written(rng: random.Random, e164: str) -> str:
    """An E.164 number as a person would write it."""
    if e164.startswith("+358"):
        rest = e164[4:]
        if rest.startswith("9"):  # Helsinki landline: (09) 123 4567, 09 1234 5678
            local = rest[1:]
            return rng.choice((f"(09) {local[:-4]} {local[-4:]}", f"09 {local[:4]} {local[4:]}"
                               if len(local) == 8 else f"09 {local[:3]} {local[3:]}", f"09-{local}"))
        area, number = rest[:2], rest[2:]
        return rng.choice((
            f"0{area} {number[:3]} {number[3:]}", f"0{area}-{number}", f"0{area}{number}",
            f"+358 {area} {number[:3]} {number[3:]}", f"+358{area}{number}", f"0{area} {number}",
            f"00358 {area} {number[:3]} {number[3:]}", f"+358 ({area}) {number}",
        ))
    return e164


def fi_landline(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return "+3589" + f"{rng.randrange(10**6, 10**7):07d}" if rng.random() < 0.6 else \
            "+3589" + f"{rng.randrange(10**7, 10**8):08d}"
    return "+358" + rng.choice(("2", "3", "13", "14", "17", "19")) + f"{rng.randrange(10**6, 10**7):07d}"


def foreign_phone(rng: random.Random) -> str:
    """An international number as written (not E.164): UK, US, Germany, Sweden."""
    kind = rng.choice(("uk", "us", "de", "se"))
    if kind == "uk":
        return rng.choice((f"+44 20 7946 0{rng.randrange(1000):03d}", f"+44 7700 900{rng.randrange(1000):03d}",
                           f"0044 20 7946 0{rng.randrange(1000):03d}"))
    if kind == "us":
        area = rng.choice(("415", "212", "312", "617"))
        return rng.choice((f"+1 {area} 555 01{rng.randrange(100):02d}", f"+1 ({area}) 555-01{rng.randrange(100):02d}"))
    if kind == "de":
        return f"+49 30 {rng.randrange(10**7, 10**8)}"
    return f"+46 8 {rng.randrange(100, 1000)} {rng.randrange(100, 1000)} {rng.randrange(10, 100)}"


def ipv4(rng: random.Random) -> str:
    first = rng.choice((84, 88, 91, 193, 194, 212, 217, 62, 80, 185))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def ipv6(rng: random.Random) -> str:
    groups = ["2001", f"{rng.choice((0x14b8, 0x998, 0x2003, 0x67c)):x}"]
    groups += [f"{rng.randrange(0x10000):x}" for _ in range(rng.choice((2, 6)))]
    return ":".join(groups) + ("::" + f"{rng.randrange(1, 0x10000):x}" if len(groups) < 8 else "")


def ascii_fold(text: str) -> str:
    return text.lower().translate(str.maketrans("äöåé", "aoae", "'"))


def email_address(rng: random.Random, first: str, last: str, domains: tuple[str, ...]) -> str:
    f, la = ascii_fold(first), ascii_fold(last)
    local = rng.choice((f"{f}.{la}", f"{f}.{la}", f"{f[0]}{la}", f"{f}{la}{rng.randrange(60, 100)}",
                        f"{f}_{la}", f"{la}.{f}", f"{f}.{la}{rng.randrange(1, 10)}"))
    return f"{local}@{rng.choice(domains)}"


def email_obfuscated(rng: random.Random, address: str) -> str:
    local, domain = address.split("@")
    style = rng.choice(("at-dot", "paren", "bracket", "bracket-dot", "paren-dot"))
    if style == "at-dot":
        return f"{local} at {domain.replace('.', ' dot ')}"
    if style == "paren":
        return f"{local}(at){domain}"
    if style == "bracket":
        return f"{local} [at] {domain}"
    if style == "paren-dot":
        return f"{local}(at){domain.replace('.', '(dot)')}"
    return f"{local} [at] {domain.replace('.', ' [dot] ')}"


def reference_fi(rng: random.Random) -> str:
    """A Finnish bank reference number (viitenumero) with its 7-3-1 check digit, grouped by five from the right."""
    body = str(rng.randrange(10**3, 10**9))
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(body)))
    ref = body + str(-total % 10)
    groups: list[str] = []
    while ref:
        groups.insert(0, ref[-5:])
        ref = ref[:-5]
    return " ".join(groups)


def reference_rf(rng: random.Random) -> str:
    """An ISO 11649 creditor reference (RF..): mod-97 like an IBAN, and often mistaken for one."""
    body = str(rng.randrange(10**6, 10**12))
    check = 98 - _iban_digits(body + "RF00") % 97
    return grouped(f"RF{check:02d}{body}")


def business_id(rng: random.Random) -> str:
    """A Finnish business ID (Y-tunnus) with its mod-11 check digit."""
    while True:
        body = f"{rng.randrange(10**6, 10**7):07d}"
        rest = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if rest != 1:
            return f"{body}-{0 if rest == 0 else 11 - rest}"
