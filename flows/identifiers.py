"""Further identifiers a requester names (a work address, a phone number), each verified by its own code.

A request is registered for one address. The requester may name more (`dsar request new --also-email`,
`dsar request add-identifier`); each gets a one-time code by its own channel (mail, or `[sms]` for a phone)
under the same rules as the first (identity/email_code.py, `[identity] code_ttl_minutes` and `code_attempts`,
tries counted on the ledger). Only a verified one is searched for (`stages.requested_subject`), and only before
the search begins: a resumed run must search for the same. The ledger names an identifier by a hash prefix and
its kind, never its value.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from extractors.records import EMAIL, PHONE
from flows.errors import InvalidRequest
from flows.lapse import refuse_if_lapsed
from flows.runtime import Runtime
from flows.sms import make_sms_sender
from flows.stages import challenge_ref, open_request, record_code_failure, tries_allowed
from flows.store import Request, RequestIdentifier
from flows.texts import text
from identity.address import ascii_lower, canonical_address
from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import IdentityError, VerificationFailed
from redaction.phones import normalise_phone

KINDS = (EMAIL, PHONE)


def identifier_ref(rt: Runtime, kind: str, value: str) -> str:
    """How the ledger names an identifier: a keyed hash (the identity record key, as the knowledge check names
    its subject), so that nobody holding the ledger can confirm an address by hashing guesses."""
    message = f"dsar identifier\0{kind}\0{value}".encode()
    return hmac.new(rt.identity_record_key, message, hashlib.sha256).hexdigest()[:16]


def kind_of(raw: str) -> str:
    """An address has an `@`; anything else is read as a phone number."""
    return EMAIL if "@" in raw else PHONE


def normalised(rt: Runtime, kind: str, raw: str) -> str:
    """An address canonical and ASCII lower-cased (as `Subject.email`), a phone in E.164 in `[redaction] region`;
    InvalidRequest (a line naming what to fix, never the value) otherwise. A phone needs `[sms]` (ConfigError)."""
    if kind == EMAIL:
        return ascii_lower(canonical_address(raw, allow_smtputf8=rt.config.identity.allow_smtputf8))
    if kind != PHONE:
        raise ValueError(f"identifier kind must be one of {', '.join(KINDS)}")
    make_sms_sender(rt.config)  # no channel, no code: refuse before anything is recorded
    phone = normalise_phone(raw, rt.config.redaction.region)
    if phone is None:
        raise InvalidRequest(f"the phone number is not a possible number in region {rt.config.redaction.region}; "
                             "write it with its country code, such as +358 40 123 4567")
    return phone


def add_identifier(rt: Runtime, request_id: str, kind: str, raw: str) -> str:
    """Name a further identifier of the requester's and send it a code; returns the message's key."""
    value = normalised(rt, kind, raw)
    request = _before_search(rt, request_id)
    if kind == EMAIL and value == ascii_lower(request.email):
        raise InvalidRequest(f"{request_id}: that is the request's own address")
    if not rt.store.add_identifier(request_id, kind, value, rt.clock()):
        raise InvalidRequest(f"{request_id} names that {kind} already; `dsar request resend-code "
                             f"{request_id} --identifier ...` sends a new code")
    rt.ledger.append_event(request_id, "privacy_team", "identifier_added",
                           {"kind": kind, "identifier": identifier_ref(rt, kind, value)})
    return send_identifier_code(rt, request_id, kind, value)


def send_identifier_code(rt: Runtime, request_id: str, kind: str, value: str) -> str:
    """Issue a code for one named identifier and send it there (the old one stops working); the message's key."""
    request = _before_search(rt, request_id)
    named = _named(rt, request_id, kind, value)
    if named.verified_at is not None:
        raise InvalidRequest(f"{request_id}: that {kind} is verified already")
    identity = rt.config.identity
    code, challenge = issue_code(rt.clock(), timedelta(minutes=identity.code_ttl_minutes), identity.code_attempts)
    rt.store.put_identifier_challenge(request_id, kind, value, challenge.to_dict())
    ref = identifier_ref(rt, kind, value)
    # On the ledger before it is sent, as the request's own code: the ledger's count of tries lets it be checked.
    rt.ledger.append_event(request_id, "dsar", "identifier_code_sent", {
        "kind": kind, "identifier": ref, "challenge": challenge_ref(challenge), "attempts": challenge.attempts_left})
    key = f"{request_id}-{kind}-{ref}-code-{challenge.issued_at:%Y%m%dT%H%M%S%f}"
    words = {"request_id": request_id, "code": code, "minutes": identity.code_ttl_minutes}
    if kind == EMAIL:
        rt.mailer.send(key, value, text("identifier_code_subject", request.language),
                       text("identifier_code_body", request.language, **words))
    else:
        make_sms_sender(rt.config).send(key, value, text("identifier_code_sms", request.language, **words))
    return key


def submit_identifier_code(rt: Runtime, request_id: str, raw: str, code: str) -> RequestIdentifier:
    """Check the code typed for one named identifier; VerificationFailed (one opaque error) when it is wrong.

    A wrong code spends one of that identifier's tries and changes nothing else: the request and its other
    identifiers stay as they were.
    """
    kind = kind_of(raw)
    value = normalised(rt, kind, raw)
    _before_search(rt, request_id)
    named = _named(rt, request_id, kind, value)
    allowed = tries_allowed(rt, request_id)
    stored = rt.store.identifier_challenge(request_id, kind, value)
    if stored is None:
        if named.verified_at is not None:
            raise InvalidRequest(f"{request_id}: that {kind} is verified already")
        raise InvalidRequest(f"{request_id}: no code is outstanding for that {kind}; send one with "
                             f"`dsar request resend-code {request_id} --identifier ...`")
    challenge = CodeChallenge.from_dict(stored)
    ref = {"kind": kind, "identifier": identifier_ref(rt, kind, value), "challenge": challenge_ref(challenge)}
    if challenge.attempts_left > allowed.get(ref["challenge"], -1):  # an older copy put back
        rt.ledger.append_event(request_id, "dsar", "identity_record_rejected", {"record": "identifier_challenge"})
        raise VerificationFailed()
    spent = spend_attempt(challenge)  # stored before the check: a crash never grants a free try
    if not rt.store.swap_identifier_challenge(request_id, kind, value, stored, spent.to_dict()):
        raise VerificationFailed()
    try:
        check_code(challenge, code, rt.clock())
    except IdentityError:
        record_code_failure(rt, request_id, "identifier_failed", ref, challenge, spent)
        raise
    rt.store.verify_identifier(request_id, kind, value, rt.clock())
    rt.ledger.append_event(request_id, "requester", "identifier_verified",
                           {"kind": kind, "identifier": ref["identifier"]})
    return _named(rt, request_id, kind, value)


def resend_identifier_code(rt: Runtime, request_id: str, raw: str) -> str:
    """A new code for a named identifier; the message's key."""
    kind = kind_of(raw)
    return send_identifier_code(rt, request_id, kind, normalised(rt, kind, raw))


def _named(rt: Runtime, request_id: str, kind: str, value: str) -> RequestIdentifier:
    for named in rt.store.identifiers(request_id):
        if (named.kind, named.value) == (kind, value):
            return named
    raise InvalidRequest(f"{request_id} names no such {kind}; add it with `dsar request add-identifier`")


def _before_search(rt: Runtime, request_id: str) -> Request:
    """The open request, if no source has been searched for it yet: identifiers are fixed once searching began,
    so that a resumed run searches for the same (a later one is for a new request)."""
    request = open_request(rt, request_id)
    refuse_if_lapsed(rt, request)
    if any(rt.store.stage_done(request_id, f"extract:{spec.name}") for spec in rt.config.sources):
        raise InvalidRequest(f"{request_id}: its sources have been searched already; "
                             "identifiers can be added and verified only before that")
    # Running, a source may be being searched with no extract recorded yet: one verified now would be searched
    # by the later sources only.
    if request.status == "running":
        raise InvalidRequest(f"{request_id}: its sources are being searched; "
                             "identifiers can be added and verified only before that")
    return request
