"""Identity verification: methods that turn a claim into `IdentityEvidence`."""

from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import (
    AlreadyVerified,
    IdentityChanged,
    IdentityError,
    IdentityNotVerified,
    RecordRejected,
    StrongerIdentityNeeded,
    VerificationFailed,
)
from identity.evidence import IdentityEvidence
from identity.policy import Policy, allowed_sources, may_deliver_elsewhere, meets, stronger_needed
from identity.sealing import derive_key, email_digest, seal, unseal

__all__ = [
    "AlreadyVerified",
    "CodeChallenge",
    "IdentityChanged",
    "IdentityError",
    "IdentityEvidence",
    "IdentityNotVerified",
    "Policy",
    "RecordRejected",
    "StrongerIdentityNeeded",
    "VerificationFailed",
    "allowed_sources",
    "check_code",
    "derive_key",
    "email_digest",
    "issue_code",
    "may_deliver_elsewhere",
    "meets",
    "seal",
    "spend_attempt",
    "stronger_needed",
    "unseal",
]
