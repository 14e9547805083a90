"""Replace other people in records with stable placeholders (GDPR Art. 15(4)).

Two passes over the same record stream: `learn` every record, then `redact`
every record, so a display name first seen in a later record's header is also
replaced in an earlier record's body. The Redactor keeps only what it learned
(values -> placeholders, names -> placeholders), never the records.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from extractors.records import Record, Subject
from redaction.detectors import Detector, Finding, PhoneDetector, default_detectors, normalise_phone
from redaction.policy import Policy

# Placeholder prefix per finding kind; a kind not listed uses its own name.
_PREFIX = {"email": "person", "phone": "phone", "name": "person"}
_NAME = "name"


def _fold(name: str) -> str:
    # lower(), not casefold(): it must agree with re.IGNORECASE matching.
    return " ".join(name.split()).lower()


class Redactor:
    """Redacts third parties for one package; build one per request.

    `keep` lists the controller's own role mailboxes (and, without "@", phone
    numbers) that stay as they are, like the subject's own email, phones and
    name. Placeholders are numbered by first appearance in `learn` order.
    Values under `verbatim` keys are identifiers, not text about people: a
    Message-ID looks like an address but names a message.
    """

    def __init__(
        self, subject: Subject, policy: Policy | None = None, detectors: Iterable[Detector] | None = None
    ) -> None:
        policy = policy or Policy()
        keep, region, verbatim = policy.keep, policy.region, policy.verbatim_keys
        self._verbatim = frozenset(verbatim)
        self._detectors = tuple(detectors) if detectors is not None else default_detectors()
        kept = [k.strip() for k in keep]
        kept_phones = [k for k in kept if "@" not in k]
        self._own: dict[str, frozenset[str]] = {
            "email": frozenset({subject.email} | {k.lower() for k in kept if "@" in k}),
            "phone": frozenset(normalise_phone(p, region) for p in (*subject.phones, *kept_phones)),
        }
        self._placeholders: dict[tuple[str, str], str] = {}
        self._numbers: Counter[str] = Counter()
        # Folded name -> placeholder; None marks a name to keep (the subject's,
        # a kept mailbox's). Kept names stay in the pattern so that they shadow
        # a shorter third-party name inside them.
        self._names: dict[str, str | None] = {}
        if subject.name:
            self._names[_fold(subject.name)] = None
        self._name_pattern: re.Pattern[str] | None = None
        self._name_pattern_stale = True
        self._replaced: Counter[str] = Counter()
        self._used: set[str] = set()

    def learn(self, record: Record) -> None:
        """First pass: note third parties and their display names in `record`."""
        for text in _strings(record.data, self._verbatim):
            for finding in _resolve(self._detected(text)):
                self._note(finding)

    def redact(self, record: Record) -> Record:
        """Second pass: a copy of `record` with every string in `data` redacted.

        Source, category, key and the keys of mappings in `data` are not touched.
        """
        return dataclasses.replace(record, data=self._redact_value(record.data))

    def summary(self) -> dict[str, int]:
        """Counts of what `redact` replaced; never values."""
        counts = {
            "emails_replaced": self._replaced["email"],
            "phones_replaced": self._replaced["phone"],
            "names_replaced": self._replaced[_NAME],
        }
        for kind in sorted(self._replaced.keys() - {"email", "phone", _NAME}):
            counts[f"{kind}s_replaced"] = self._replaced[kind]
        counts["people"] = sum(1 for p in self._used if p.startswith("[person-"))
        counts["phones"] = sum(1 for p in self._used if p.startswith("[phone-"))
        return counts

    # -- internals ---------------------------------------------------------

    def _detected(self, text: str) -> Iterator[Finding]:
        for detector in self._detectors:
            yield from detector.find(text)

    def _note(self, finding: Finding) -> str | None:
        """The placeholder for a detected value (None: keep), learning its name."""
        placeholder = self._placeholder(finding)
        if finding.name:
            self._note_name(finding.name, placeholder)
        return placeholder

    def _placeholder(self, finding: Finding) -> str | None:
        if finding.value_normalised in self._own.get(finding.kind, ()):
            return None
        prefix = _PREFIX.get(finding.kind, finding.kind)
        key = (prefix, finding.value_normalised)
        placeholder = self._placeholders.get(key)
        if placeholder is None:
            self._numbers[prefix] += 1
            placeholder = f"[{prefix}-{self._numbers[prefix]}]"
            self._placeholders[key] = placeholder
        return placeholder

    def _note_name(self, name: str, placeholder: str | None) -> None:
        folded = _fold(name)
        if len(folded) < 2 or "@" in folded:
            return
        # The first person seen with a name owns it; a kept owner always wins,
        # so the subject's own name is never replaced.
        if folded in self._names and (self._names[folded] is None or placeholder is not None):
            return
        self._names[folded] = placeholder
        self._name_pattern_stale = True

    def _names_in(self, text: str) -> Iterator[Finding]:
        if self._name_pattern_stale:
            self._name_pattern = _compile_names(self._names)
            self._name_pattern_stale = False
        if self._name_pattern is None:
            return
        for match in self._name_pattern.finditer(text):
            yield Finding(match.start(), match.end(), _NAME, _fold(match.group(0)))

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redact_text(value)
        if isinstance(value, Mapping):
            return {key: item if key in self._verbatim else self._redact_value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact_value(item) for item in value]
        return value

    def _redact_text(self, text: str) -> str:
        detected = list(self._detected(text))
        names = list(self._names_in(text))
        if not detected and not names:
            return text
        pieces: list[str] = []
        cursor = 0
        for finding in _resolve([*detected, *names]):
            is_name = finding.kind == _NAME
            placeholder = self._names.get(finding.value_normalised) if is_name else self._note(finding)
            if placeholder is None:
                continue
            pieces.append(text[cursor:finding.start])
            pieces.append(placeholder)
            cursor = finding.end
            self._replaced[finding.kind] += 1
            self._used.add(placeholder)
        pieces.append(text[cursor:])
        return "".join(pieces)


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


def _compile_names(names: Mapping[str, str | None]) -> re.Pattern[str] | None:
    if not names:
        return None
    # Longest first so "Anna-Liisa Virtanen" wins over "Anna-Liisa"; a name
    # broken across lines still matches.
    alternatives = [r"\s+".join(map(re.escape, name.split())) for name in sorted(names, key=lambda n: (-len(n), n))]
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def _strings(value: Any, verbatim: frozenset[str]) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in verbatim:
                yield from _strings(item, verbatim)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, verbatim)


def subject_phones(records: Iterable[Record], region: str = "FI") -> tuple[str, ...]:
    """E.164 numbers in the records that describe the subject (`about_subject`): theirs to keep.

    Numbers a requester merely typed are not trusted: keeping them would let a
    request reveal whichever third party's number was typed.
    """
    detector = PhoneDetector(region)
    found: set[str] = set()
    for record in records:
        if record.about_subject:
            for text in _strings(record.data, frozenset()):
                found.update(finding.value_normalised for finding in detector.find(text))
    return tuple(sorted(found))
