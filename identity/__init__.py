"""Identity verification: methods that turn a claim into `IdentityEvidence`."""

from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import (
    AlreadyVerified,
    IdentityError,
    IdentityNotVerified,
    IssuerUnavailable,
    VerificationFailed,
)
from identity.evidence import IdentityEvidence
from identity.oidc import (
    JwksCache,
    OidcChallenge,
    OidcIdentity,
    OidcSettings,
    claim_digest,
    issue_nonce,
    same_address,
    verify_id_token,
)

__all__ = [
    "AlreadyVerified",
    "CodeChallenge",
    "IdentityError",
    "IdentityEvidence",
    "IdentityNotVerified",
    "IssuerUnavailable",
    "JwksCache",
    "OidcChallenge",
    "OidcIdentity",
    "OidcSettings",
    "VerificationFailed",
    "check_code",
    "claim_digest",
    "issue_code",
    "issue_nonce",
    "same_address",
    "spend_attempt",
    "verify_id_token",
]
