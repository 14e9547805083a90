"""Knowledge match for a request: the requester's stated facts against the customer source's record.

The known facts come from the source that `[identity.knowledge]` names, read
for the request's email address the way the extract stage reads it: the
subject's own rows (`about_subject`) give name, postal code, phone and birth
date; the configured order category gives order numbers. Nothing read here is
kept, logged or put on the ledger; the ledger gets the method, the level and
the kinds of facts that matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from extractors.records import Subject
from extractors.registry import make_source
from flows.config import Knowledge
from flows.errors import InvalidRequest
from flows.runtime import Runtime
from flows.stages import open_request, record_evidence
from identity.address import ascii_lower
from identity.errors import IdentityError
from identity.evidence import IdentityEvidence
from identity.knowledge import KINDS, KnownFacts, check_knowledge, normalise

METHOD = "knowledge"


def known_facts(rt: Runtime, settings: Knowledge, email: str) -> KnownFacts:
    """The normalised facts the knowledge source holds about the subject with `email`, per kind."""
    spec = next(s for s in rt.config.sources if s.name == settings.source)
    source = make_source(spec.name, spec.kind, spec.settings, rt.config.base_dir, rt.config.environ)
    orders = settings.order_number
    since = None
    if orders is not None and orders.date is not None and orders.within_days is not None:
        since = rt.clock() - timedelta(days=orders.within_days)
    own_keys = {"postal_code": settings.postal_code, "phone": settings.phone, "birth_date": settings.birth_date}
    facts: dict[str, set[str]] = {kind: set() for kind in KINDS}

    def add(kind: str, value: object) -> None:
        normal = normalise(kind, value)
        if normal is not None:
            facts[kind].add(normal)

    for record in source.records(Subject(email=email)):
        data = record.data
        if record.about_subject:
            if settings.name:
                add("name", " ".join(str(data[k]) for k in settings.name if data.get(k)))
            for kind, key in own_keys.items():
                if key is not None:
                    add(kind, data.get(key))
        elif orders is not None and record.category == orders.category and (
                since is None or (orders.date is not None and _on_or_after(data.get(orders.date), since))):
            add("order_number", data.get(orders.key))
    return {kind: frozenset(values) for kind, values in facts.items() if values}


def _on_or_after(value: object, since: datetime) -> bool:
    """Whether an ISO date or time is on or after `since`; an unreadable one is not (fail closed)."""
    if not isinstance(value, str):
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) >= since


def submit_knowledge(rt: Runtime, request_id: str, stated: Mapping[str, object]) -> IdentityEvidence:
    """Check the facts a requester stated; record the evidence, or spend a try and raise VerificationFailed.

    `stated` maps kinds (`identity.knowledge.KINDS`) to what the requester wrote. A try is
    spent before the check and only after the source was read: an unreachable source costs none.
    """
    settings = rt.config.identity.knowledge
    if settings is None:
        raise InvalidRequest("knowledge match is not configured: add an [identity.knowledge] section to the config")
    unknown = sorted(set(stated) - set(KINDS))
    if unknown or not stated:
        raise InvalidRequest(f"the answers must be a JSON object with some of the keys {', '.join(KINDS)}"
                             + (f" ({len(unknown)} unknown key(s))" if unknown else ""))
    request = open_request(rt, request_id)
    known = known_facts(rt, settings, request.email)
    left = _take_try(rt, settings, request_id, request.email)
    try:
        evidence = check_knowledge(stated, known, rt.clock(), tries_left=left)
    except IdentityError:
        rt.ledger.append_event(request_id, "requester", "identity_failed", {
            "method": METHOD, "attempts_left": max(left - 1, 0), "exhausted": left <= 0})
        raise
    record_evidence(rt, request_id, "requester", evidence)
    return evidence


def _take_try(rt: Runtime, settings: Knowledge, request_id: str, email: str) -> int:
    """Spend one of the subject's knowledge tries; how many were left before it (0: the method is locked).

    The tries are the subject's, over all their requests of `lockout_days`: a new request brings no new
    guesses. Each try is a ledger event (a keyed hash names the subject, never the address) written before
    the check, and the ledger's order decides: tries at the same moment, on any requests, are counted one
    after another, and editing the request store changes nothing the count reads.
    """
    now = rt.clock()
    subject = hmac.new(rt.identity_record_key, b"knowledge subject\0" + ascii_lower(email).encode("utf-8"),
                       hashlib.sha256).hexdigest()[:32]
    mine = rt.ledger.append_event(request_id, "requester", "identity_try", {"method": METHOD, "subject": subject},
                                  at=now)
    since = now - timedelta(days=settings.lockout_days)
    earlier = sum(1 for e in rt.ledger.events() if e.seq < mine.seq and e.action == "identity_try"
                  and e.detail.get("subject") == subject and e.at >= since)
    return max(settings.attempts - earlier, 0)
