"""Replace other people in records with stable placeholders (GDPR Art. 15(4)).

Two passes over the same record stream: `learn` every record, then `redact`
every record, so a name first seen in a later record's header is also replaced
in an earlier record's body. The Redactor keeps only what it learned (values
and name words -> placeholders), never the records, and never lets the map out.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from extractors.records import PHONE, Record, Subject
from redaction.addresses import AddressDetector
from redaction.analysis import Document
from redaction.detectors import Detector, EmailDetector, Finding, ObfuscatedEmailDetector
from redaction.identifiers import CardDetector, HetuDetector, IbanDetector, IpDetector
from redaction.lexicon import Lexicon, shared_lexicon
from redaction.names import KIND as NAME
from redaction.names import Names, Person, is_name_key
from redaction.phones import PhoneDetector, national_number, normalise_phone
from redaction.policy import Policy

# Joins the strings of one record so that they are scanned at once: a blank line and a NUL, which no
# detector reads across and no finding may contain.
_SEPARATOR = "\n\0\n"
# Placeholder prefix per kind; a kind not listed uses its own name.
_PREFIX = {"email": "person", NAME: "person"}


def make_detectors(policy: Policy) -> tuple[Detector, ...]:
    """The value detectors the policy turns on, in priority order (names are found apart)."""
    available: dict[str, tuple[Detector, ...]] = {
        "email": (EmailDetector(), ObfuscatedEmailDetector()),
        "hetu": (HetuDetector(),),
        "iban": (IbanDetector(),),
        "card": (CardDetector(),),
        "ip": (IpDetector(),),
        "phone": (PhoneDetector(policy.region),),
        "address": (AddressDetector(),),
    }
    return tuple(d for kind, found in available.items() if kind in policy.detectors for d in found)


class Redactor:
    """Redacts third parties for one package; build one per request.

    The subject's emails, phones and name (with those a trusted source found:
    `Subject.also`), the values in their own records (`about_subject`), the
    policy's kept values, role mailboxes and (per policy) staff stay as they
    are. People are numbered by first appearance in `learn` order, other values
    (phones, IBANs, ...) in `redact` order; one person keeps one placeholder for
    address and name alike.
    """

    def __init__(self, subject: Subject, policy: Policy | None = None, lexicon: Lexicon | None = None) -> None:
        self._policy = policy = policy or Policy()
        self._lexicon = lexicon or shared_lexicon()
        self._detectors = make_detectors(policy)
        # Learning needs only what ties people to names (addresses); other values are numbered when redacted.
        self._learning_detectors = tuple(d for d in self._detectors if d.kind == "email")
        self._numbers: Counter[str] = Counter()
        self._names = Names(self._lexicon, lambda: self._new_label("person"))
        self._find_names = NAME in policy.detectors
        self._values: dict[tuple[str, str], str] = {}
        self._people: dict[str, Person] = {}  # email address -> person
        self._persons: dict[int, Person] = {}  # id -> person, for the name findings of the text at hand
        # Every address and phone of the subject's: the verified ones and those a trusted source holds for them.
        self._own: dict[str, set[str]] = {"email": set(subject.emails)}
        self._own_national: set[str] = set()  # the subject's phone numbers without their country codes
        for phone in subject.values(PHONE):
            self._keep_value("phone", normalise_phone(phone, policy.region) or phone)
        for kept in policy.keep:
            self._keep_text(kept)
        if subject.name:
            self._names.keep(subject.name)
        for address in subject.emails:
            self._keep_name_in_address(address)
        for name in policy.staff:
            if policy.keep_staff:
                self._names.keep_whole(name)
            else:
                self._names.claim(name, Person())
        for name in policy.known_people:
            self._names.claim(name, Person())
        self._replaced: Counter[str] = Counter()
        self._used: set[str] = set()
        self._documents: dict[str, Document] = {}

    def learn(self, record: Record) -> None:
        """First pass: the subject's own values from their records; third parties from everything else."""
        strings = list(_strings(record.data, self._policy.verbatim_keys))
        if record.about_subject:
            for key, text in strings:
                if key is not None and is_name_key(key):
                    self._names.keep(text)
            self._keep_text(_SEPARATOR.join(text for _, text in strings))
            return
        for key, text in strings:
            if key is not None and is_name_key(key) and text.strip():
                self._names.claim(text, self._names.person(text))
        joined = self._document(_SEPARATOR.join(text for _, text in strings))
        for finding in self._findings(joined, learning=True):
            self._placeholder(finding)

    def learn_all(self, records: Callable[[], Iterable[Record]]) -> None:
        """Both learning sweeps over a re-readable stream: the subject's own records first, so that their
        values are theirs before any other record could make them someone else's."""
        for record in records():
            if record.about_subject:
                self.learn(record)
        for record in records():
            if not record.about_subject:
                self.learn(record)

    def redact(self, record: Record) -> Record:
        """Second pass: a copy of `record` with every string in `data` redacted.

        Source, category, key and the keys of mappings in `data` are not touched;
        a record about the subject is theirs and is returned as it is.
        """
        if record.about_subject:
            return record
        return dataclasses.replace(record, data=self._redact_value(record.data))

    def summary(self) -> dict[str, int]:
        """Counts of what `redact` replaced; never values."""
        counts = {_plural(kind) + "_replaced": self._replaced[kind] for kind in sorted(self._replaced)}
        for kind in ("email", "phone", NAME):
            counts.setdefault(_plural(kind) + "_replaced", 0)
        counts["people"] = sum(1 for p in self._used if p.startswith("[person-"))
        counts["phones"] = sum(1 for p in self._used if p.startswith("[phone-"))
        return dict(sorted(counts.items()))

    # -- internals ---------------------------------------------------------

    def _new_label(self, prefix: str) -> str:
        self._numbers[prefix] += 1
        return f"[{prefix}-{self._numbers[prefix]}]"

    def _document(self, text: str) -> Document:
        """The analysed text; the last few are kept, so that a record redacted right after it was learned
        (one message, `dsar redact`) is tokenised once."""
        doc = self._documents.pop(text, None) or Document(text, self._lexicon)
        self._documents[text] = doc
        while len(self._documents) > 8:
            del self._documents[next(iter(self._documents))]
        return doc

    def _keep_value(self, kind: str, value: str) -> None:
        self._own.setdefault(kind, set()).add(value)
        if kind == "phone" and (national := national_number(value)) is not None:
            self._own_national.add(national)

    def _keep_text(self, text: str) -> None:
        """Every value detected in a text of the subject's (or kept by policy) stays."""
        for finding in self._detected(Document(text, self._lexicon)):
            self._keep_value(finding.kind, finding.value_normalised)
            if finding.kind == "email":
                if finding.name:
                    self._names.keep(finding.name)
                self._keep_name_in_address(finding.value_normalised)

    def _keep_name_in_address(self, address: str) -> None:
        """aino.virtanen@x.fi tells the subject's names when nothing else does."""
        for part in self._name_in_address(address):
            self._names.keep(part)

    def _name_in_address(self, address: str) -> list[str]:
        """The name words an address is made of ("pekka.virtanen", "pekkavirtanen82"), or none."""
        local = re.sub(r"\d+", ".", address.split("@", 1)[0].lower())
        parts = [p for p in re.split(r"[._+-]+", local) if len(p) > 1]
        is_name = self._is_name_word
        if parts and all(is_name(p) for p in parts):
            return parts
        if len(parts) == 1:  # written together: try every split into two names
            word = parts[0]
            for cut in range(2, len(word) - 1):
                if is_name(word[:cut]) and is_name(word[cut:]):
                    return [word[:cut], word[cut:]]
        return []

    def _is_name_word(self, word: str) -> bool:
        info = self._lexicon.word(word.capitalize())
        return info.name and (not info.common or len(word) > 4)

    def _kept_address(self, address: str) -> bool:
        if address in self._own["email"] or self._role(address):
            return True
        domain = address.partition("@")[2]
        return self._policy.keep_staff and bool(self._policy.staff) and domain in self._policy.controller_domains

    def _role(self, address: str) -> bool:
        """A mailbox of a function, not a person: a known role ("asiakaspalvelu@") or an ordinary Finnish or
        English noun that is no name ("ajanvaraus@", "vanhemmat@", "bookings@")."""
        local = address.partition("@")[0].split("+", 1)[0]
        if local in self._policy.role_mailboxes:
            return True
        if not local.isalpha() or len(local) < 4:
            return False
        word = self._lexicon.word(local)
        return word.common and not word.name

    def _detected(self, doc: Document, detectors: tuple[Detector, ...] | None = None) -> Iterator[Finding]:
        for detector in self._detectors if detectors is None else detectors:
            yield from detector.find(doc)

    def _findings(self, doc: Document, learning: bool = False) -> list[Finding]:
        detected = self._detected(doc, self._learning_detectors if learning else None)
        found = [self._narrowed(f, doc.text) for f in detected]
        if self._find_names:
            values = sorted((f.start, f.end) for f in found)
            for start, end, person in self._names.scan(doc, learning):
                # A value's detector knows better than a name's: "Asun Kuusitiellä 4" is an address.
                if not any(s < end and start < e for s, e in values):
                    # Labelled when placed, in the order of the text, like every other finding.
                    self._persons[id(person)] = person
                    found.append(Finding(start, end, NAME, str(id(person))))
        text = doc.text
        return _resolve(f for f in found if "\0" not in text[f.start:f.end])

    def _narrowed(self, finding: Finding, text: str) -> Finding:
        """A role mailbox stays, but the name shown beside it is a person's ("Pikkumetsä / Marjo <toimisto@>"):
        the finding shrinks to the address, and the name is looked at like any other."""
        if finding.kind != "email" or finding.name is None or not self._role(finding.value_normalised):
            return finding
        return Finding(text.rfind("<", finding.start, finding.end), finding.end, "email", finding.value_normalised)

    def _placeholder(self, finding: Finding) -> str | None:
        """The placeholder for a finding (None: keep it), learning the person behind an address."""
        if finding.kind == NAME:
            return self._names.label(self._persons[int(finding.value_normalised)])
        if finding.kind == "email":
            return self._email_placeholder(finding)
        if finding.value_normalised in self._own.get(finding.kind, ()):
            return None
        if finding.kind == "phone" and national_number(finding.value_normalised) in self._own_national:
            return None  # the subject's +44 7700 900123 written the British way, 07700 900123
        key = (finding.kind, finding.value_normalised)
        placeholder = self._values.get(key)
        if placeholder is None:
            placeholder = self._values[key] = self._new_label(_PREFIX.get(finding.kind, finding.kind))
        return placeholder

    def _email_placeholder(self, finding: Finding) -> str | None:
        address = finding.value_normalised
        if self._kept_address(address):
            if finding.name and address in self._own["email"]:
                self._names.keep(finding.name)
            elif finding.name and not self._role(address):  # staff: kept written whole
                self._names.keep_whole(finding.name)
            return None
        person = self._people.get(address)
        if person is None:
            # matti.virtanen@ is the Matti Virtanen already met, when nothing else names the address.
            parts = self._name_in_address(address)
            person = self._people[address] = self._names.person(finding.name or " ".join(parts) or None)
            if person.kept:  # a stranger's address under the subject's name is still a stranger's
                person = self._people[address] = Person()
            if finding.name:
                self._names.claim(finding.name, person)
            if len(parts) > 1:  # claimed once: claiming the same words again changes nothing
                self._names.claim(" ".join(parts), person)
        elif finding.name:
            self._names.claim(finding.name, person)
        return self._names.label(person)

    def _redact_value(self, value: Any) -> Any:
        """Every string in a record's data redacted, in one pass over all of them joined."""
        strings = [text for _, text in _strings(value, self._policy.verbatim_keys)]
        redacted = self._redact_text(_SEPARATOR.join(strings)).split(_SEPARATOR)
        if len(redacted) != len(strings):  # a separator in the data itself: take the strings one by one
            redacted = [self._redact_text(text) for text in strings]
        return self._rebuild(value, iter(redacted))

    def _rebuild(self, value: Any, redacted: Iterator[str], key: str | None = None) -> Any:
        """`value` with its strings, in `_strings` order, taken from `redacted`."""
        if isinstance(value, str):
            text = next(redacted)
            if key is not None and is_name_key(key) and value.strip():
                label = self._names.label(self._names.person(value))
                if label is not None:
                    self._replaced[NAME] += 1
                    self._used.add(label)
                    return label
            return text
        if isinstance(value, Mapping):
            verbatim = self._policy.verbatim_keys
            return {k: v if k in verbatim else self._rebuild(v, redacted, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._rebuild(item, redacted, key) for item in value]
        return value

    def _redact_text(self, text: str) -> str:
        findings = self._findings(self._document(text))
        if not findings:
            return text
        pieces: list[str] = []
        cursor = 0
        for finding in findings:
            placeholder = self._placeholder(finding)
            if placeholder is None:
                continue
            pieces.append(text[cursor:finding.start])
            pieces.append(placeholder)
            cursor = finding.end
            self._replaced[finding.kind] += 1
            self._used.add(placeholder)
        pieces.append(text[cursor:])
        return "".join(pieces)


def _plural(kind: str) -> str:
    return kind + ("es" if kind.endswith("s") else "s")


def _resolve(findings: Iterable[Finding]) -> list[Finding]:
    """Non-overlapping findings: the earliest start wins, then the longest span.

    A kept finding (the subject's own address) still claims its span, so a
    phone number inside it is not replaced either. Ties keep detector order.
    """
    ordered = sorted(enumerate(findings), key=lambda item: (item[1].start, item[1].start - item[1].end, item[0]))
    chosen: list[Finding] = []
    end = -1
    for _, finding in ordered:
        if finding.start >= end:
            chosen.append(finding)
            end = finding.end
    return chosen


def _strings(value: Any, verbatim: frozenset[str], key: str | None = None) -> Iterator[tuple[str | None, str]]:
    """Every string in a record's data with the key it sits under."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for k, item in value.items():
            if k not in verbatim:
                yield from _strings(item, verbatim, k)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, verbatim, key)
