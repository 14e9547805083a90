"""Manual checks: a member of staff checked who is asking (an identity document, a signed letter, a visit).

What is recorded is who checked, which check and when; never a copy of a
document or its number. Who may check is the controller's list of staff ids.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from identity.errors import UnknownStaff
from identity.evidence import MANUAL_CHECKS, IdentityEvidence


def manual_evidence(
    check: str, staff_id: str, staff_ids: Collection[str], level: str, now: datetime,
) -> IdentityEvidence:
    """Evidence of a manual check `staff_id` made; UnknownStaff unless they are in `staff_ids`.

    `check` is one of MANUAL_CHECKS ("id-document" is taken for "id_document"); misuse raises ValueError.
    """
    check = check.replace("-", "_")
    if check not in MANUAL_CHECKS:
        raise ValueError(f"a manual check must be one of {', '.join(MANUAL_CHECKS)}")
    if staff_id not in staff_ids:
        raise UnknownStaff(staff_id)
    # The staff member matched the person before them to the record of the request's subject.
    return IdentityEvidence(method="manual", identifiers=("person",), level=level, verified_at=now,
                            check=check, checked_by=staff_id)
