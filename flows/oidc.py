"""An OIDC login for one request: the nonce it must carry, and the ID token that comes back.

The browser side (authorization code flow with PKCE) belongs to the requester
portal; the CLI (`dsar request oidc-start`, `dsar request verify --id-token`)
drives the same two functions for operators and tests.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from datetime import timedelta

from flows.knowledge_check import known_facts
from flows.runtime import Runtime
from flows.stages import open_request, record_evidence
from flows.store import Request
from identity.errors import AlreadyVerified, IdentityError, IdentityNotVerified, VerificationFailed
from identity.evidence import IdentityEvidence
from identity.knowledge import matched_kinds, normalise
from identity.oidc import OidcChallenge, issue_nonce, verify_id_token
from identity.policy import meets

_SALT_BYTES = 16


def start_login(rt: Runtime, request_id: str) -> str:
    """A nonce for the request's next login, stored as its challenge (any outstanding email code stops working)."""
    request = open_request(rt, request_id)
    oidc = rt.config.oidc()
    _refuse_unless_stronger(request, oidc.level)
    nonce, challenge = issue_nonce(rt.clock(), timedelta(minutes=oidc.nonce_ttl_minutes))
    rt.store.put_challenge(request_id, challenge.to_dict())
    rt.store.set_status(request_id, "awaiting_identity", rt.clock())
    rt.ledger.append_event(request_id, "dsar", "identity_login_started", {"method": "oidc"})
    return nonce


def submit_id_token(rt: Runtime, request_id: str, token: str) -> IdentityEvidence:
    """Verify the ID token of the request's login and record the evidence; VerificationFailed (opaque) if not.

    The token must vouch for the request's own email address. The login's
    nonce is spent before the token is looked at, whatever the outcome: a
    token verifies once, and two at the same moment cannot share a nonce. What
    the provider asserts about the person is kept only as salted hashes.
    """
    request = open_request(rt, request_id)
    settings = rt.config.oidc().settings()
    _refuse_unless_stronger(request, settings.level)
    stored = rt.store.get_challenge(request_id)
    if stored is None or stored.get("kind") != "oidc":
        raise IdentityNotVerified(request_id)
    challenge = OidcChallenge.from_dict(stored)
    try:
        if not rt.store.swap_challenge(request_id, stored, {"kind": "oidc_spent"}):
            raise VerificationFailed()  # another token took this nonce at the same moment
        rt.store.delete_challenge(request_id)
        identity = verify_id_token(token, settings, rt.oidc_keys, challenge, request.email, rt.clock())
        if "email" not in identity.evidence.identifiers:
            raise VerificationFailed()  # nothing ties the login to the address the data goes to
        on_record = _claims_on_record(rt, request.email, identity.claims)
    except IdentityError as exc:
        rt.ledger.append_event(request_id, "requester", "identity_failed",
                               {"method": "oidc", "error": type(exc).__name__})
        raise
    salt = secrets.token_bytes(_SALT_BYTES)
    record_evidence(rt, request_id, "requester", identity.evidence, {"claims": {
        "salt": base64.b64encode(salt).decode("ascii"), "sha256": identity.claim_digests(salt),
        "on_record": on_record}})
    return identity.evidence


def _refuse_unless_stronger(request: Request, level: str) -> None:
    """A login can raise a request's level (an email code is "low", and the policy may ask for more), never
    repeat or lower it."""
    if request.evidence and meets(request.evidence["level"], level):
        raise AlreadyVerified(request.id)


def _claims_on_record(rt: Runtime, email: str, claims: Mapping[str, str]) -> list[str]:
    """The facts the provider asserts that the customer record holds too, each checked; one that differs
    fails the login (the provider vouches for someone other than the customer this address belongs to).

    The birth date must be the record's. The name must hold every word of the record's name, in any order:
    strong identification gives all given names ("Aino Maria Mäkinen"), a shop keeps one ("Aino Mäkinen").
    Only with knowledge match configured (`[identity.knowledge]` names the customer source and its keys).
    """
    settings = rt.config.identity.knowledge
    if settings is None or not {"name", "birthdate"} & set(claims):
        return []
    known, matched = known_facts(rt, settings, email), list[str]()
    if "birthdate" in claims and known.get("birth_date"):
        matched += matched_kinds({"birth_date": claims["birthdate"]}, known)
    if "name" in claims and known.get("name"):
        words = set((normalise("name", claims["name"]) or "").split())
        if not any(set(name.split()) <= words for name in known["name"]):
            raise VerificationFailed()
        matched.append("name")
    return sorted(matched)
