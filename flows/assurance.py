"""The identity evidence a request holds, checked at every step that reads or sends personal data."""

from __future__ import annotations

from flows.store import Request
from identity.errors import IdentityChanged, IdentityNotVerified
from identity.evidence import IdentityEvidence
from identity.sealing import email_digest


def evidence_of(request: Request) -> IdentityEvidence:
    """The request's evidence, if it still holds: verified for this request and for the email on record now.

    The store has already checked its MAC (an edited or copied record reads as
    none). Raises IdentityNotVerified without evidence, and IdentityChanged when
    the email on record is not the one the evidence was verified for.
    """
    stored = request.evidence
    if stored is None:
        raise IdentityNotVerified(request.id)
    if stored.get("request_id") != request.id or stored.get("email_sha256") != email_digest(request.email):
        raise IdentityChanged(request.id)
    try:
        return IdentityEvidence.from_dict(stored)
    except ValueError:
        raise IdentityNotVerified(request.id) from None
