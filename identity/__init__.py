"""Identity verification: methods that turn a claim into `IdentityEvidence`."""

from identity.address import ascii_lower, canonical_address
from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import IdentityError, IdentityNotVerified, InvalidAddress, VerificationFailed
from identity.evidence import IdentityEvidence

__all__ = [
    "CodeChallenge",
    "IdentityError",
    "IdentityEvidence",
    "IdentityNotVerified",
    "InvalidAddress",
    "VerificationFailed",
    "ascii_lower",
    "canonical_address",
    "check_code",
    "issue_code",
    "spend_attempt",
]
