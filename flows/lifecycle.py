"""Steps of a request's life that the command line and the requester's portal share."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from exports.package.values import show_moment
from flows import identifiers, stages
from flows.deadlines import EXTENSION_MONTHS
from flows.errors import InvalidRequest, RequestClosed
from flows.lapse import refuse_if_lapsed
from flows.pages import page_link
from flows.runtime import Runtime
from flows.store import Extension, Request
from flows.texts import text
from identity.address import canonical_address
from identity.evidence import known_staff


def new_request(rt: Runtime, email: str, language: str, *, name: str | None = None, phone: str | None = None,
                right: str = "access", further: Sequence[tuple[str, str]] = (), channel: str = "cli") -> Request:
    """Register a request and send its one-time code, and one to each further (kind, identifier).

    Every further identifier is checked before anything is recorded. A request kept as a duplicate (its
    subject has a verified request in progress) gets no code: whoever typed the address has proved nothing.
    """
    for kind, raw in further:
        identifiers.normalised(rt, kind, raw)
    request = stages.register(rt, email, language, name=name, phone=phone, right=right, channel=channel)
    if request.duplicate_of:
        return request
    stages.send_code(rt, request.id)
    for kind, raw in further:
        identifiers.add_identifier(rt, request.id, kind, raw)
    return request


def extend_deadline(rt: Runtime, request_id: str, months: int, reason: str, staff_id: str) -> Request:
    """Extend an open request's deadline once (GDPR Art. 12(3)) and tell the requester why; the request as it is now.

    Only before the original due date ends where the controller is. The new date is `months` + 1 from receipt,
    moved to a working day. The ledger gets the months, both dates, the reason's sha256 and `staff_id` (UnknownStaff
    unless in `[identity] staff_ids` while that lists any); the reason itself stays in the store (staff type it,
    and it may name people). Asked again with the same months and reason,
    the notice goes out if it had not (a mail that failed), and nothing else changes.
    """
    known_staff(staff_id, rt.config.identity.staff_ids)
    reason = reason.strip()
    if months not in EXTENSION_MONTHS:
        raise InvalidRequest(f"an extension is by 1 or 2 months (GDPR Art. 12(3)), not {months}")
    if not reason:
        raise InvalidRequest("give the reason for the extension: the requester is told it")
    request, calendar, now = rt.store.get(request_id), rt.store.calendar, rt.clock()
    done = rt.store.extension(request_id)
    if done is not None and (done.months, done.reason) != (months, reason):
        raise InvalidRequest(f"{request_id} was already extended to {calendar.local_date(request.deadline)}; "
                             f"GDPR Art. 12(3) allows one extension")
    if done is None:
        if not request.is_open:
            raise RequestClosed(request_id, request.status, "only an open request's deadline can be extended")
        if now > request.due_at:
            raise InvalidRequest(f"{request_id} was due on {calendar.local_date(request.due_at)}: an extension must "
                                 f"be made, and told, before the original due date")
        refuse_if_lapsed(rt, request)  # nobody proved who asked in time: it is over, not to be extended
        extended_to = calendar.due_at(request.received_at, 1 + months)
        rt.ledger.append_event(request_id, "privacy_team", "extended", {
            "months": months, "original_due": calendar.local_date(request.due_at).isoformat(),
            "new_due": calendar.local_date(extended_to).isoformat(),
            "reason_sha256": hashlib.sha256(reason.encode("utf-8")).hexdigest(), "by": staff_id,
        }, at=now, alongside=lambda conn: rt.store.extend(request_id, Extension(now, months, reason), extended_to,
                                                          conn=conn))
        request = rt.store.get(request_id)
    to = canonical_address(request.email, allow_smtputf8=rt.config.identity.allow_smtputf8)
    rt.mailer.send(f"{request_id}-extended", to, text("extension_subject", request.language, request_id=request_id),
                   text("extension_body", request.language, request_id=request_id, reason=reason,
                        by=text(f"extension_by_{months}", request.language),
                        due=show_moment(calendar.local_date(request.deadline), False, request.language),
                        status_url=page_link(rt, request, "status")))
    return request
