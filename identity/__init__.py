"""Identity verification: methods that turn a claim into `IdentityEvidence`."""

from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import IdentityError, IdentityNotVerified, VerificationFailed
from identity.evidence import IdentityEvidence

__all__ = [
    "CodeChallenge",
    "IdentityError",
    "IdentityEvidence",
    "IdentityNotVerified",
    "VerificationFailed",
    "check_code",
    "issue_code",
    "spend_attempt",
]
