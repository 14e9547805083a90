"""Identifiers with a checksum or a fixed shape: identity codes, IBANs, payment cards, IP addresses."""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Iterator
from typing import ClassVar

from redaction.analysis import Document
from redaction.detectors import Finding, PatternDetector

_HETU_CONTROL = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURY = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}


class HetuDetector(PatternDetector):
    """Finnish personal identity codes (henkilötunnus): date, century sign, number, checksum.

    Every century sign counts, the 2023 additions included (`-YXWVU` for the
    1900s, `ABCDEF` for the 2000s).
    """

    kind = "hetu"
    pattern = re.compile(r"(?<![\w-])(\d{2})(\d{2})(\d{2})([-+ABCDEFYXWVUabcdefyxwvu])(\d{3})([0-9A-Ya-y])(?![\w-])")

    def validate(self, match: re.Match[str]) -> str | None:
        day, month, year, sign, number, control = match.groups()
        try:
            datetime.date(_HETU_CENTURY[sign.upper()] + int(year), int(month), int(day))
        except ValueError:
            return None
        if _HETU_CONTROL[int(day + month + year + number) % 31] != control.upper():
            return None
        return match.group(0).upper()


# IBAN length per country (ISO 13616 registry); a match longer than its country's is cut to it.
_IBAN_LENGTH = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24,
    "XK": 20,
}


class IbanDetector:
    """IBANs of any country, spaced or not, checked with mod-97."""

    kind: ClassVar[str] = "iban"
    pattern = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \t]?[A-Za-z0-9]){11,30}")

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        # A match runs on over whatever follows (words, a second IBAN); it is cut to its
        # country's length, and the search goes on from the cut, or from the next start if rejected.
        match = self.pattern.search(text)
        while match is not None:
            compact = self._iban(match.group(0))
            if compact is None:
                match = self.pattern.search(text, match.start() + 1)
                continue
            end = match.start() + compact[1]
            yield Finding(match.start(), end, self.kind, compact[0])
            match = self.pattern.search(text, end)

    @staticmethod
    def _iban(raw: str) -> tuple[str, int] | None:
        """The IBAN at the start of `raw` and its length as written, or None."""
        length = _IBAN_LENGTH.get(raw[:2].upper())
        if length is None:
            return None
        # Walk to the `length`-th alphanumeric character: the IBAN ends there.
        seen, end = 0, 0
        while end < len(raw) and seen < length:
            seen += raw[end].isalnum()
            end += 1
        if seen < length or (end < len(raw) and raw[end].isalnum()):
            return None
        compact = re.sub(r"\s", "", raw[:end]).upper()
        return (compact, end) if _mod97(compact) == 1 else None


def _mod97(iban: str) -> int:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97


# The word nearest before a number says what it is: a card, or a reference or order number
# that happens to pass Luhn ("laskun numero 4111...", but "tilaus maksettu kortilla 4111...").
_CARD_CONTEXT = re.compile(
    r"(?is).*(?<!\w)(?:(?P<card>\w*kort\w*|card\w*|visa|mastercard|amex)|"
    r"(?P<other>viit\w*|ref\w*|tilau\w*|order\w*|lasku\w*|invoice\w*))(?!\w)"
    r"(?!.*[.!?]\s+(?-i:[A-ZÅÄÖ]))\W{0,3}(?:\w+\W{1,3}){0,2}\Z"  # in the same sentence
)
_CARD_WINDOW = 40


class CardDetector(PatternDetector):
    """Payment card numbers: 13-19 digits, spaced or dashed, with a valid Luhn digit."""

    kind = "card"
    pattern = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,22}(?!\w)")

    def find(self, doc: Document) -> Iterator[Finding]:
        for match in self.pattern.finditer(doc.text):
            written = match.group(0)
            # What follows a card on its line may be digits too ("4111 1111 1111 1111 12/28"):
            # the card is the longest run of whole groups that passes.
            for end in [len(written), *reversed([m.start() for m in re.finditer(r"[ -]", written)])]:
                digits = re.sub(r"\D", "", written[:end])
                if 13 <= len(digits) <= 19 and _luhn(digits):
                    break
            else:
                continue
            context = _CARD_CONTEXT.match(doc.text, max(0, match.start() - _CARD_WINDOW), match.start())
            if context is not None and context.group("other"):
                continue
            yield Finding(match.start(), match.start() + end, self.kind, digits)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


class IpDetector:
    """IPv4 and IPv6 addresses."""

    kind: ClassVar[str] = "ip"
    # Four dotted numbers, the first digit before the look-behind so that `re` skips ahead to digits;
    # each number is then checked to be an octet (0-255, no leading zero).
    v4 = re.compile(r"\d(?<![\d.]\d)\d{0,2}(?:\.\d{1,3}){3}(?!\d|\.\d)")
    v6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|:)(?![\w:])")
    v6_hint = re.compile(r":[0-9A-Fa-f]{0,4}:")  # no IPv6 address without one; cheap to look for

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        for match in self.v4.finditer(text):
            if all(len(octet) == len(str(int(octet))) and int(octet) <= 255 for octet in match.group(0).split(".")):
                yield Finding(match.start(), match.end(), self.kind, match.group(0))
        if self.v6_hint.search(text):
            for match in self.v6.finditer(text):
                try:
                    value = ipaddress.IPv6Address(match.group(0))
                except ValueError:
                    continue
                yield Finding(match.start(), match.end(), self.kind, value.compressed)
