"""What a successful identity check proves, kept with the request and shown to auditors.

Evidence names the kinds of identifiers verified ("email"), never their values,
and holds no secrets, so `to_dict()` is safe to store and to log.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

METHODS = ("email_code", "oidc", "knowledge", "in_person")
LEVELS = ("low", "substantial", "high")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class IdentityEvidence:
    """`identifiers` are kinds such as ("email",); `level` is the level of assurance."""

    method: str
    identifiers: tuple[str, ...]
    level: str
    verified_at: datetime

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
        object.__setattr__(self, "verified_at", self.verified_at.astimezone(UTC))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the request store."""
        return {
            "method": self.method,
            "identifiers": list(self.identifiers),
            "level": self.level,
            "verified_at": self.verified_at.strftime(_AT_FORMAT),
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
        return cls(method, tuple(identifiers), level, verified_at)
