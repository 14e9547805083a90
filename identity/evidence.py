"""What a successful identity check proves, kept with the request and shown to auditors.

Evidence names the kinds of identifiers verified ("email"), never their values,
and holds no secrets, so `to_dict()` is safe to store and to log. A manual check
also names which check a member of staff made (`check`) and their staff id
(`checked_by`), never a document or its number.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from identity.errors import UnknownStaff

METHODS = ("email_code", "oidc", "knowledge", "in_person", "manual")
LEVELS = ("low", "substantial", "high")
MANUAL_CHECKS = ("id_document", "signed_letter", "in_person")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
STAFF_ID = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,39}$")  # anchored: config validation uses it too


def known_staff(staff_id: str, staff_ids: Collection[str]) -> str:
    """`staff_id`, when well-formed and one of `staff_ids` (any well-formed id while that list is empty);
    UnknownStaff otherwise, naming nothing typed."""
    if not STAFF_ID.fullmatch(staff_id) or (staff_ids and staff_id not in staff_ids):
        raise UnknownStaff(staff_id)
    return staff_id
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class IdentityEvidence:
    """`identifiers` are kinds such as ("email",); `level` is the level of assurance.

    `check` and `checked_by` belong to method "manual" (one of MANUAL_CHECKS, and a staff id), and only to it.
    """

    method: str
    identifiers: tuple[str, ...]
    level: str
    verified_at: datetime
    check: str | None = None
    checked_by: str | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"evidence method must be one of {', '.join(METHODS)}")
        if self.level not in LEVELS:
            raise ValueError(f"evidence level must be one of {', '.join(LEVELS)}")
        if (
            not isinstance(self.identifiers, tuple)
            or not self.identifiers
            or not all(isinstance(k, str) and _KIND.fullmatch(k) for k in self.identifiers)
        ):
            raise ValueError("evidence identifiers must be a non-empty tuple of kinds such as 'email'")
        if not isinstance(self.verified_at, datetime) or self.verified_at.utcoffset() is None:
            raise ValueError("evidence verified_at must be a timezone-aware datetime")
        if self.method == "manual":
            if self.check not in MANUAL_CHECKS:
                raise ValueError(f"a manual check must be one of {', '.join(MANUAL_CHECKS)}")
            if not isinstance(self.checked_by, str) or not STAFF_ID.fullmatch(self.checked_by):
                raise ValueError("a manual check must name the staff id of who made it")
        elif self.check is not None or self.checked_by is not None:
            raise ValueError("only manual evidence names a check and who made it")
        object.__setattr__(self, "verified_at", self.verified_at.astimezone(UTC))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the request store."""
        manual = {"check": self.check, "checked_by": self.checked_by} if self.method == "manual" else {}
        return {
            "method": self.method,
            "identifiers": list(self.identifiers),
            "level": self.level,
            "verified_at": self.verified_at.strftime(_AT_FORMAT),
            **manual,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "IdentityEvidence":
        """Inverse of `to_dict`; ValueError when `data` is not evidence."""
        try:
            identifiers = data["identifiers"]
            if not isinstance(identifiers, list):
                raise TypeError
            verified_at = datetime.strptime(data["verified_at"], _AT_FORMAT).replace(tzinfo=UTC)
            method, level = data["method"], data["level"]
        except (KeyError, TypeError, ValueError):
            raise ValueError("stored identity evidence is malformed") from None
        # Evidence stored before manual checks existed has neither key.
        return cls(method, tuple(identifiers), level, verified_at, data.get("check"), data.get("checked_by"))
