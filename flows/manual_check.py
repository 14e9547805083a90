"""Manual checks recorded by staff: `dsar request verify REQ --manual --method ... --by STAFF_ID`.

The ledger gets the check, the level and the staff id. A note goes to the
request store only. Notes that hold a personal identity code or a payment card
number are refused outright: staff write what they checked ("passport, valid,
photo matches"), never the document's numbers, so that no copy of an identity
document's data is kept anywhere (data minimisation; the Finnish Data Protection
Act restricts processing identity codes).
"""

from __future__ import annotations

import unicodedata

from flows.errors import InvalidRequest
from flows.runtime import Runtime
from flows.stages import open_request, record_evidence
from identity.evidence import IdentityEvidence
from identity.manual import manual_evidence
from redaction.identifiers import CardDetector, HetuDetector

_NOTE_MAX = 500
_REFUSED_IN_NOTES = (HetuDetector(), CardDetector())


def record_manual_check(
    rt: Runtime, request_id: str, check: str, staff_id: str, note: str | None = None,
) -> IdentityEvidence:
    """Record that `staff_id` checked the requester of `request_id`; UnknownStaff unless they are configured.

    Nothing is recorded when anything is refused.
    """
    identity = rt.config.identity
    open_request(rt, request_id)
    check = check.replace("-", "_")
    level = getattr(identity.manual_levels, check, None)
    if level is None:
        raise InvalidRequest("the manual check must be id-document, signed-letter or in-person")
    evidence = manual_evidence(check, staff_id, identity.staff_ids, level, rt.clock())
    if note is not None:
        note = check_note(note)
    record_evidence(rt, request_id, "privacy_team", evidence)
    if note:
        rt.store.add_check_note(request_id, staff_id, evidence.verified_at, note)
    return evidence


def check_note(note: str) -> str:
    """A staff member's note, stripped; InvalidRequest when it is too long or holds an identity code or card
    number (staff write what they checked or decided, never a document's numbers)."""
    note = note.strip()
    if len(note) > _NOTE_MAX:
        raise InvalidRequest(f"the note is longer than {_NOTE_MAX} characters")
    if _holds_identifier(note):
        raise InvalidRequest("the note holds an identity code or card number; write what was checked, "
                             "not the document's numbers")
    return note


def _holds_identifier(note: str) -> bool:
    plain = unicodedata.normalize("NFKC", note)  # fullwidth digits would slip past the patterns
    return any(detector.validate(match) is not None
               for detector in _REFUSED_IN_NOTES for match in detector.pattern.finditer(plain))
