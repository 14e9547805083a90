"""Errors raised while verifying who is asking.

    IdentityError
    ├── VerificationFailed    a code or token did not verify (opaque: wrong, expired or used up alike)
    ├── InvalidAddress        a requester's email address is refused (says why, never repeats it)
    ├── IdentityNotVerified   a step needs verified identity the request does not have
    ├── UnknownStaff          a manual check names a staff id the controller did not configure
    ├── AlreadyVerified       a request's identity is verified: a second code or token is not used
    ├── IssuerUnavailable     the identity provider's signing keys could not be fetched
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


class UnknownStaff(IdentityError):
    """A manual check by someone not on the controller's staff list: nothing is recorded."""

    def __init__(self, staff_id: str) -> None:
        # Not echoed: whatever was typed in its place (a name, a number) stays out of messages.
        super().__init__("unknown staff id: use one listed in [identity] staff_ids of the config")
        self.staff_id = staff_id


class AlreadyVerified(IdentityError):
    """`request_id` is verified already; a replayed code or token changes nothing."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"{request_id}: identity already verified; nothing more was used")
        self.request_id = request_id


class IssuerUnavailable(IdentityError):
    """The identity provider's keys (JWKS) could not be fetched or read; nobody's fault, try again later."""

    def __init__(self) -> None:
        super().__init__("the identity provider's signing keys could not be fetched; try again later")


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


class InvalidAddress(IdentityError):
    """A requester's address is not one plain, unambiguous address; `reason` names what to fix.

    The address itself is never part of the message: the CLI prints it and logs may keep it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"the email address is not accepted: {reason}")
        self.reason = reason
