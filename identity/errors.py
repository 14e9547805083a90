"""Errors raised while verifying who is asking.

    IdentityError
    ├── VerificationFailed    a code or token did not verify (opaque: wrong, expired or used up alike)
    ├── InvalidAddress        a requester's email address is refused (says why, never repeats it)
    └── IdentityNotVerified   a step needs verified identity the request does not have

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


class InvalidAddress(IdentityError):
    """A requester's address is not one plain, unambiguous address; `reason` names what to fix.

    The address itself is never part of the message: the CLI prints it and logs may keep it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"the email address is not accepted: {reason}")
        self.reason = reason
