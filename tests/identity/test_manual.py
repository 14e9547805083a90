"""Manual-check evidence: what it records, and evidence stored before it existed still loads."""

from datetime import UTC, datetime

import pytest

from identity.errors import UnknownStaff
from identity.evidence import IdentityEvidence
from identity.manual import manual_evidence

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_a_manual_check_names_the_check_and_who_made_it():
    evidence = manual_evidence("id-document", "anna.k", ["anna.k"], "high", NOW)
    stored = evidence.to_dict()
    assert stored == {"method": "manual", "identifiers": ["person"], "level": "high",
                      "verified_at": "2026-03-01T09:30:00.000000Z", "check": "id_document", "checked_by": "anna.k"}
    assert IdentityEvidence.from_dict(stored) == evidence


def test_evidence_stored_before_manual_checks_still_loads():
    old = {"method": "email_code", "identifiers": ["email"], "level": "low",
           "verified_at": "2025-03-01T09:30:00.000000Z"}
    evidence = IdentityEvidence.from_dict(old)
    assert (evidence.check, evidence.checked_by) == (None, None)
    assert evidence.to_dict() == old


def test_staff_not_on_the_list_are_refused():
    for who in ("mallory", "Anna.K", ""):
        with pytest.raises(UnknownStaff):
            manual_evidence("signed-letter", who, ["anna.k"], "substantial", NOW)


@pytest.mark.parametrize("fields", [
    {"method": "manual"},                                          # no check, no staff id
    {"method": "manual", "check": "photocopy", "checked_by": "anna.k"},
    {"method": "manual", "check": "id_document", "checked_by": "Anna K"},
    {"method": "email_code", "check": "id_document", "checked_by": "anna.k"},
])
def test_malformed_manual_evidence_is_refused(fields):
    with pytest.raises(ValueError):
        IdentityEvidence(identifiers=("person",), level="high", verified_at=NOW, **fields)
