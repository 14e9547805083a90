"""Identity expansion: the subject's other identifiers, as a trusted source's own records of them hold them.

A trusted source (`trusted = true` in its config section) is searched with the
verified address alone; the keys its `identifiers` names, read from its records
about the subject, add the subject's other addresses, phones and customer ids.
The sources after it search for those too, and redaction keeps them as the
subject's. Only trusted sources expand, and never one another: an identifier
found through an identifier someone else's record holds is not the subject's
for certain. Whatever leaves this module for a log or the ledger is a count.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from extractors.records import EMAIL, PHONE, Identifier, Record, Subject
from flows.config import IDENTIFIER_KINDS, SourceSpec
from identity.address import ascii_lower, canonical_address
from identity.errors import InvalidAddress
from redaction.phones import normalise_phone


def identifiers_in(spec: SourceSpec, records: Iterable[Record], region: str,
                   allow_smtputf8: bool = False) -> Iterator[Identifier]:
    """The identifiers `spec` names in its records about the subject, normalised (addresses canonical, phones
    E.164 in `region`), in record order. A value that is no identifier of its kind (an address column holding
    "-") is passed over: searching for it would find nothing, or someone else's."""
    if not spec.trusted:
        return
    for record in records:
        if not record.about_subject:
            continue
        for kind in IDENTIFIER_KINDS:
            for key in spec.identifiers.get(kind, ()):
                value = _normalised(kind, record.data.get(key), region, allow_smtputf8)
                if value is not None:
                    yield Identifier(kind, value, spec.name, record.category, key)


def _normalised(kind: str, raw: Any, region: str, allow_smtputf8: bool) -> str | None:
    if raw is None or isinstance(raw, bool | dict | list):
        return None
    text = str(raw).strip()
    if not text:
        return None
    if kind == EMAIL:
        try:
            return ascii_lower(canonical_address(text, allow_smtputf8=allow_smtputf8))  # as Subject.email is
        except InvalidAddress:
            return None
    if kind == PHONE:
        return normalise_phone(text, region)
    return text


def expanded(subject: Subject, found: Iterable[Identifier]) -> Subject:
    """`subject` with the identifiers it lacks added, first found first (the same records give the same subject)."""
    also = list(subject.also)
    known = {(kind, value) for kind in IDENTIFIER_KINDS for value in subject.values(kind)}
    for identifier in found:
        if (identifier.kind, identifier.value) not in known:
            known.add((identifier.kind, identifier.value))
            also.append(identifier)
    return dataclasses.replace(subject, also=tuple(also))


def counts(identifiers: Iterable[Identifier]) -> dict[str, int]:
    """How many identifiers of each kind: what the ledger may say of them."""
    return dict(sorted(Counter(i.kind for i in identifiers).items()))


def searched(subject: Subject) -> dict[str, int]:
    """How many identifiers of each kind a source is given to search for."""
    return {kind: n for kind in IDENTIFIER_KINDS if (n := len(subject.values(kind)))}
