"""Phone numbers, and the numbers that only look like them.

A run of digits is a phone number when it is written as one (a leading `+`,
`00` or `0`, or a phone word such as "puh." or "mobile" just before it) and
`phonenumbers` finds it a possible number for its region. Dates, times and
numbers named as orders, invoices, references, customers or amounts are never
phone numbers, however they are written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import phonenumbers

from redaction.analysis import Document
from redaction.detectors import Finding

_CANDIDATE = re.compile(r"(?<![\w+/,-])(?:\+|\(\s*)?\d(?:[ \t\-./()]{0,2}\d){5,17}(?![\w]|[.,]\d)")
_DATE_OR_TIME = re.compile(r"\d{1,2}\.\d{1,2}\.(?:\d{2,4})?|\d{4}-\d{2}-\d{2}|\d{1,2}[:.]\d{2}(?!\d)")
_PHONE_WORDS = (
    r"puh(?:elin)?(?:numero|nro)?|p|tel|tfn|phone|mobile|mob|cell|gsm|numero(?:sta|on|ni|lla|ssa|a)?|number|"
    r"kännykkä\w*|matkapuhelin\w*|puhelin\w*|soita\w*|call|whatsapp|sms|tekstiviesti\w*|fax|faksi|nro|no|mobiili\w*"
)
# Words that make the number that follows something else.
_NOT_PHONE_WORDS = (
    r"tilaus\w*|order\w*|lasku\w*|invoice\w*|viite\w*|ref\w*|reference|asiakas\w*|customer\w*|account|tili\w*|"
    r"y-tunnus|ytunnus|business|id|tunnus\w*|sopimus\w*|contract|seuranta\w*|tracking|lähetys\w*|shipment|"
    r"paketti\w*|parcel|tuote\w*|product|sku|ean|kuitti\w*|receipt|case|tiketti\w*|ticket|postinumero\w*|"
    r"summa|amount|eur|€|hinta|price|total|yhteensä|serial|sarjanumero\w*|takuu\w*|warranty|pin|koodi\w*|code"
)
_CONTEXT = re.compile(
    rf"(?i)(?:(?P<phone>(?<!\w)(?:{_PHONE_WORDS})\.?)|(?P<other>(?<!\w)(?:{_NOT_PHONE_WORDS})))"
    r"[\s:.#=-]*(?:\w+[\s:.#=-]*){0,2}\Z"
)
_WINDOW = 40


class PhoneDetector:
    """Phone numbers, normalised to E.164; numbers without a country code are read as `region` numbers."""

    kind: ClassVar[str] = "phone"

    def __init__(self, region: str) -> None:
        self.region = region

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        for match in _CANDIDATE.finditer(text):
            written = match.group(0)
            start = match.start()
            context = _CONTEXT.search(text, max(0, start - _WINDOW), start)
            if context is not None and context.group("other"):
                continue
            said = context is not None and context.group("phone") is not None
            digits = re.sub(r"\D", "", written)
            leading = written.lstrip("( \t")
            if not said and not leading.startswith(("+", "0")):
                continue
            if not (7 <= len(digits) <= 15):
                continue
            if _DATE_OR_TIME.search(written) and not written.startswith("+"):
                continue
            value = normalise_phone(written, self.region)
            if value is None:
                continue
            yield Finding(start, match.end(), self.kind, value)


def normalise_phone(number: str, region: str) -> str | None:
    """E.164 form of a possible phone number, or None if it cannot be one."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
