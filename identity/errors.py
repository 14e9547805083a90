"""Errors raised while verifying who is asking.

    IdentityError
    ├── VerificationFailed    a code or token did not verify (opaque: wrong, expired or used up alike)
    ├── IdentityNotVerified   a step needs verified identity the request does not have
    ├── AlreadyVerified       a code arrived for a request whose identity is already verified
    ├── StrongerIdentityNeeded  the evidence's level is below what the policy needs to proceed
    ├── IdentityChanged       the email on record is not the one identity was verified for
    └── RecordRejected        a stored challenge or evidence failed its MAC: treated as absent

Misuse (naive datetimes, malformed stored challenges) raises ValueError.
Messages never carry personal data: at most a request id, which is not.
"""


class IdentityError(Exception):
    """Base class of identity verification errors."""


class VerificationFailed(IdentityError):
    """Verification failed. Deliberately says nothing about why (Art. 12(6): fail closed)."""

    def __init__(self) -> None:
        super().__init__("identity verification failed")


class IdentityNotVerified(IdentityError):
    """`request_id` has no identity evidence yet (or not enough)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"identity not verified for {request_id}")
        self.request_id = request_id


class AlreadyVerified(IdentityError):
    """A code (typically a replayed one) for a request whose identity is already verified: nothing to do."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"{request_id}: identity is already verified; no code is needed")
        self.request_id = request_id


class StrongerIdentityNeeded(IdentityError):
    """The evidence is below the policy's minimum level: ask for a stronger method, search nothing."""

    def __init__(self, request_id: str, level: str) -> None:
        super().__init__(f"{request_id}: stronger identification needed: {level}")
        self.request_id = request_id
        self.level = level


class IdentityChanged(IdentityError):
    """The email on record changed after identity was verified: nothing is delivered to it."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"{request_id}: the email on record changed after identity was verified; verify again")
        self.request_id = request_id


class RecordRejected(IdentityError):
    """A stored identity record did not verify (edited, or copied from another request)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"stored identity {kind} failed its integrity check")
        self.kind = kind
