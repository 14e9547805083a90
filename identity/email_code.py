"""One-time email codes: issue a code, keep only its scrypt hash, check what the requester types.

Sending the code is the integrator's job. The protocol that keeps a crash from
granting free tries:

    code, challenge = issue_code(now)              # store challenge.to_dict(), mail `code`
    ...
    challenge = CodeChallenge.from_dict(stored)
    store(spend_attempt(challenge).to_dict())      # persist the spent attempt first
    evidence = check_code(challenge, typed, now)   # check against the challenge as loaded
    delete the challenge                           # a code verifies once

`check_code` raises one opaque VerificationFailed for a wrong, expired or used
up code, and always runs scrypt so timing does not tell which.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from identity.errors import VerificationFailed
from identity.evidence import IdentityEvidence

CODE_DIGITS = 8
_SALT_BYTES = 16
_KDF = "scrypt:n=16384,r=8,p=1,dklen=32"
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TYPED_NOISE = re.compile(r"[\s\-\u2010-\u2015]")


@dataclass(frozen=True)
class CodeChallenge:
    """What is stored while a code is outstanding; never the code itself."""

    salt: bytes
    code_hash: bytes
    issued_at: datetime
    expires_at: datetime
    attempts_left: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the request store (bytes as base64)."""
        return {
            "kdf": _KDF,
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "code_hash": base64.b64encode(self.code_hash).decode("ascii"),
            "issued_at": self.issued_at.astimezone(UTC).strftime(_AT_FORMAT),
            "expires_at": self.expires_at.astimezone(UTC).strftime(_AT_FORMAT),
            "attempts_left": self.attempts_left,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CodeChallenge":
        """Inverse of `to_dict`; ValueError when `data` is not a stored challenge."""
        try:
            if data["kdf"] != _KDF:
                raise ValueError
            attempts = data["attempts_left"]
            if not isinstance(attempts, int) or isinstance(attempts, bool):
                raise TypeError
            return cls(
                salt=base64.b64decode(data["salt"], validate=True),
                code_hash=base64.b64decode(data["code_hash"], validate=True),
                issued_at=datetime.strptime(data["issued_at"], _AT_FORMAT).replace(tzinfo=UTC),
                expires_at=datetime.strptime(data["expires_at"], _AT_FORMAT).replace(tzinfo=UTC),
                attempts_left=attempts,
            )
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise ValueError("stored email code challenge is malformed") from None


def issue_code(
    now: datetime, ttl: timedelta = timedelta(minutes=15), attempts: int = 5
) -> tuple[str, CodeChallenge]:
    """A fresh 8-digit code for the requester and the challenge to store in its place."""
    _require_aware(now)
    if ttl <= timedelta(0):
        raise ValueError("code lifetime must be positive")
    if attempts < 1:
        raise ValueError("a code must allow at least one attempt")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_bytes(_SALT_BYTES)
    now = now.astimezone(UTC)
    challenge = CodeChallenge(salt, _hash(code, salt), now, now + ttl, attempts)
    return code, challenge


def spend_attempt(challenge: CodeChallenge) -> CodeChallenge:
    """The challenge with one attempt fewer; persist it before calling `check_code`."""
    return replace(challenge, attempts_left=max(challenge.attempts_left - 1, 0))


def check_code(challenge: CodeChallenge, code: str, now: datetime) -> IdentityEvidence:
    """Evidence that the requester controls the email address the code was sent to.

    `challenge` is the one loaded before `spend_attempt`; it is used up when
    `attempts_left <= 0`. Spaces and dashes the requester typed are ignored.
    Raises VerificationFailed, the same for every reason.
    """
    _require_aware(now)
    typed = _TYPED_NOISE.sub("", code) if isinstance(code, str) else ""
    well_formed = len(typed) == CODE_DIGITS and typed.isascii() and typed.isdigit()
    # Hash even a malformed or late answer, so every failure costs the same time.
    candidate = _hash(typed if well_formed else "0" * CODE_DIGITS, challenge.salt)
    matches = hmac.compare_digest(candidate, challenge.code_hash)
    in_time = challenge.issued_at <= now < challenge.expires_at
    if not (matches and well_formed and in_time and challenge.attempts_left > 0):
        raise VerificationFailed()
    return IdentityEvidence(method="email_code", identifiers=("email",), level="low", verified_at=now)


def _hash(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(code.encode("ascii"), salt=salt, n=2**14, r=8, p=1, dklen=32)


def _require_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
