"""Knowledge match: facts the requester states, compared with the facts the customer record holds.

Plain functions, no I/O. The integrator gathers the record's facts (`KnownFacts`:
the normalised values of each kind, from the subject's own rows) and keeps a count
of tries, spent before each check, as with email codes:

    left = spend a try in the store              # persist first: a crash never grants a free try
    evidence = check_knowledge(stated, known, now, tries_left=left)

Scoring. A fact is public when anyone can learn it without the subject's help
(the phone book, a letter's envelope, social media): a name, a postal code.
A public fact never proves identity. The others are known to the subject and
the controller, seldom to anyone else: the phone number on the customer record,
an order number from the subject's own order history, a birth date. The levels,
read top down, the first row whose kinds all matched wins:

    kinds that matched                         level
    name + order_number + phone                substantial
    name + order_number + birth_date           substantial
    name + order_number                        low
    name + phone + birth_date                  low
    anything else (name + postal_code, ...)    no evidence: VerificationFailed

So public facts alone never give evidence at all (not even "low"), and
"substantial" always needs an order number plus a second private fact.
A stated fact that does not match fails the whole check (an impostor cannot
drop the facts they got wrong and keep the rest); a stated fact the record does
not hold (no birth date on file) counts for nothing either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime

import phonenumbers

from identity.errors import VerificationFailed
from identity.evidence import IdentityEvidence

KINDS = ("name", "postal_code", "phone", "order_number", "birth_date")
PUBLIC = frozenset({"name", "postal_code"})

# (kinds that must all match, level); the first row that holds wins. See the module docstring.
LEVEL_TABLE: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"name", "order_number", "phone"}), "substantial"),
    (frozenset({"name", "order_number", "birth_date"}), "substantial"),
    (frozenset({"name", "order_number"}), "low"),
    (frozenset({"name", "phone", "birth_date"}), "low"),
)

KnownFacts = Mapping[str, frozenset[str]]

_SPACES = re.compile(r"\s+")
_ORDER_NOISE = re.compile(r"[\s#\-\u2010-\u2015]")
_FINNISH_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_MAX_FACT = 200  # longer answers are not facts of a customer record


def normalise(kind: str, value: object) -> str | None:
    """The comparable form of one fact, or None when `value` cannot be one of `kind`.

    Every kind: NFKC (fullwidth digits become ASCII), case folded, spaces collapsed.
    name: words in order. postal_code: 1-5 digits, zero-padded to 5 (a spreadsheet
    drops the zeros of "00100"). phone: E.164 through `phonenumbers`, Finland the
    default region. order_number: without spaces, dashes and a leading "#".
    birth_date: ISO from "1980-04-01" or Finnish "1.4.1980".
    """
    if kind not in KINDS:
        raise ValueError(f"unknown fact kind {kind!r}; known: {', '.join(KINDS)}")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip().casefold()
    if not text or len(text) > _MAX_FACT:
        return None
    if kind == "name":
        return text
    if kind == "postal_code":
        compact = text.replace(" ", "")
        return compact.zfill(5) if compact.isascii() and compact.isdigit() and len(compact) <= 5 else None
    if kind == "phone":
        return _phone(text)
    if kind == "order_number":
        compact = _ORDER_NOISE.sub("", text)
        return compact or None
    return _birth_date(text)


def _phone(text: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, "FI")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _birth_date(text: str) -> str | None:
    finnish = _FINNISH_DATE.fullmatch(text)
    try:
        if finnish:
            day, month, year = (int(g) for g in finnish.groups())
            return date(year, month, day).isoformat()
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def matched_kinds(stated: Mapping[str, object], known: KnownFacts) -> frozenset[str]:
    """The kinds of the stated facts that the record holds; VerificationFailed when any stated fact differs.

    A kind the record holds no value of is skipped. Unknown kinds raise ValueError (misuse).
    """
    matched = set()
    for kind, value in stated.items():
        normal = normalise(kind, value)
        values = known.get(kind, frozenset())
        if not values:
            continue
        if normal is None or normal not in values:
            raise VerificationFailed()
        matched.add(kind)
    return frozenset(matched)


def level_for(kinds: frozenset[str]) -> str | None:
    """The level `LEVEL_TABLE` gives to these matched kinds, or None (no evidence)."""
    return next((level for needed, level in LEVEL_TABLE if needed <= kinds), None)


def check_knowledge(
    stated: Mapping[str, object], known: KnownFacts, now: datetime, *, tries_left: int,
) -> IdentityEvidence:
    """Evidence of what the requester knows of the customer record, at the level of `LEVEL_TABLE`.

    `tries_left` is the count before this try was spent; at 0 the method is locked.
    Raises VerificationFailed, the same for every reason: a mismatch, too few
    facts, only public ones, no tries left.
    """
    if now.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    kinds = matched_kinds(stated, known)  # unknown kinds are misuse, even when locked
    level = level_for(kinds)
    if tries_left <= 0 or level is None:
        raise VerificationFailed()
    return IdentityEvidence(method="knowledge", identifiers=tuple(sorted(kinds)), level=level, verified_at=now)
