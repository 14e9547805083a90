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
from functools import lru_cache
from typing import ClassVar

import phonenumbers

from redaction.analysis import Document
from redaction.detectors import Finding

# Patterns start with what they match, not with a look-behind, so that `re` can skip ahead to a
# possible first character: that keeps the detector fast on long texts.
_CANDIDATE = re.compile(
    # A comma may stand right before or after a number (CSV: "Liisa,0401119988,1"), not inside one.
    r"(?:\+(?<![\w+/-]\+)\d|\((?<![\w+/-]\()\s*\d|\d(?<![\w+/-]\d)(?<!\d,\d))"
    r"(?:(?:[ \t]?-[ \t]?|[ \t\-./()]{0,2})\d){6,17}(?![\w]|\.\d)"   # "040 - 123 4567" too
)
# An extension after the number belongs to it.
_EXTENSION = re.compile(r"[ \t]*(?:,[ \t]*)?(?:ext\.?|x|alanumero|alanro|sis\.?)[ \t]*\d{1,5}(?!\d)", re.IGNORECASE)
_DATE_OR_TIME = re.compile(r"\d{1,2}[./-][ \t]?\d{1,2}[./-][ \t]?(?:\d{2,4})?|\d{4}-\d{2}-\d{2}|\d{1,2}[:.]\d{2}(?!\d)")
# Whole dates and times, blanked out before looking for numbers, so that a phone number
# written right after one ("12.3.2026 040 123 4567") is not read as part of it.
_DATES = re.compile(
    r"\d(?<![\d.:/-]\d)(?:\d?\.\d{1,2}\.(?:\d{4}|\d{2})?|\d?([/-])\d{1,2}\1\d{4}|\d{3}([/.-])\d{2}\2\d{2}|"
    r"\d?[:.]\d{2}(?:[:.]\d{2})?)(?![\d:/]|[.-]\d)"
)
_PHONE_WORDS = (
    r"puh\w*|p|tel\w*|tfn|phone|mobile|mob|cell\w*|gsm|kännyk\w*|matkapuh\w*|soit\w*|call|whatsapp|sms|"
    r"tekstiviesti\w*|fax|faksi|mobiili\w*"
)
# Words for "number": a phone word only when no word nearby says the number is something else.
_NUMBER_WORDS = r"numero\w*|number|nro|nr|no"
# Words that make the number that follows something else; Finnish ones by the stem their
# inflected forms share ("tilaus", "tilauksen").
_NOT_PHONE_WORDS = (
    r"tilau\w*|order\w*|lasku\w*|invoice\w*|viit\w*|ref\w*|reference|asiak\w*|customer\w*|account|tili\w*|"
    r"y-tunnus|ytunnus|business|id|tunnu\w*|sopimu\w*|contract|seuranta\w*|tracking|lähety\w*|shipment|"
    r"paket\w*|parcel|tuot\w*|product|sku|ean|kuit\w*|receipt|case|tiket\w*|ticket|postinumero\w*|"
    r"summa|amount|eur|€|hinta|price|total|yhteensä|serial|sarjanumero\w*|takuu\w*|warranty|pin|koodi\w*|code"
)
# A word, then at most two more words in the same sentence, then the number: the greedy `.*` makes it
# the nearest such word ("...from the parcel. I called +358..." is no parcel number).
_SAME_SENTENCE = r"(?!(?s:.*)[.!?]\s+(?-i:[A-ZÅÄÖ]))"
_AFTER = rf"(?![^\W\d_]){_SAME_SENTENCE}\.?[\s:.#=-]*(?:\w+[\s:.#=-]*){{0,2}}\Z"
_CONTEXT = re.compile(
    rf"(?is).*(?<!\w)(?:(?P<phone>{_PHONE_WORDS})|(?P<other>{_NOT_PHONE_WORDS})){_AFTER}"
)
_NUMBER_CONTEXT = re.compile(rf"(?i)(?<!\w)(?:{_NUMBER_WORDS}){_AFTER}")
_WINDOW = 40
_COUNTRY_CODE = re.compile(r"358\d{8,9}\Z")
_GROUP_BREAK = re.compile(r"(?<=\d)[ \t\-./]+(?=\d)")
_LONE_DIGIT = re.compile(r"\d\s\d\Z")


class PhoneDetector:
    """Phone numbers, normalised to E.164; numbers without a country code are read as `region` numbers."""

    kind: ClassVar[str] = "phone"

    def __init__(self, region: str) -> None:
        self.region = region

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        blanked = _DATES.sub(lambda m: "x" * len(m.group(0)), text)
        position = 0
        while (match := _CANDIDATE.search(blanked, position)) is not None:
            position = match.end()
            written = match.group(0)
            if _DATE_OR_TIME.search(written) and not written.startswith("+"):
                continue
            start = match.start()
            window = max(0, start - _WINDOW)
            context = _CONTEXT.match(text, window, start)
            if context is not None and context.group("other"):
                continue
            said = context is not None or _NUMBER_CONTEXT.search(text, window, start) is not None
            international = _COUNTRY_CODE.match(written) is not None  # "358401234567": +358 without the +
            if not said and not international and not written.lstrip("( \t").startswith(("+", "0")):
                continue
            number = _number("+" + written if international else written, self.region)
            if number is None:
                continue
            end = start + number[0] - (1 if international else 0)
            extension = _EXTENSION.match(text, end)
            position = end  # a second number may follow in the same run of digits
            yield Finding(start, extension.end() if extension else end, self.kind, number[1])


# Mail repeats its numbers (signatures, quoted replies), and phonenumbers is the costly part.
@lru_cache(maxsize=4096)
def _number(written: str, region: str) -> tuple[int, str] | None:
    """How much of `written` is a phone number, and its E.164 form.

    A number may run on into digits that follow it on the line ("040 123 4567 10 kertaa",
    "09 123 4567 8-16"): the number is the longest run of whole groups that is a valid number,
    else the longest that is a possible one. A lone digit at the end is never part of it.
    """
    ends = [len(written), *reversed([m.start() for m in _GROUP_BREAK.finditer(written)])]
    possible = None
    for end in ends:
        if _LONE_DIGIT.search(written, 0, end) or not 7 <= sum(c.isdigit() for c in written[:end]) <= 15:
            continue
        try:
            parsed = phonenumbers.parse(written[:end], region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return end, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if possible is None and phonenumbers.is_possible_number(parsed):
            possible = end, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return possible


def normalise_phone(number: str, region: str) -> str | None:
    """E.164 form of a possible phone number, or None if it cannot be one."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_number(e164: str) -> str | None:
    """The number without its country code (7700900123 of +447700900123): the same line however it is dialled."""
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return None
