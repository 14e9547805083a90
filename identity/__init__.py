"""Identity verification: methods that turn a claim into `IdentityEvidence`."""

from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import IdentityError, IdentityNotVerified, UnknownStaff, VerificationFailed
from identity.evidence import IdentityEvidence
from identity.knowledge import KnownFacts, check_knowledge, normalise
from identity.manual import manual_evidence

__all__ = [
    "CodeChallenge",
    "IdentityError",
    "IdentityEvidence",
    "IdentityNotVerified",
    "KnownFacts",
    "UnknownStaff",
    "VerificationFailed",
    "check_code",
    "check_knowledge",
    "issue_code",
    "manual_evidence",
    "normalise",
    "spend_attempt",
]
