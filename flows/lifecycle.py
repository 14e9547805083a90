"""Steps of a request's life that the command line and the requester's portal share."""

from __future__ import annotations

from collections.abc import Sequence

from flows import identifiers, stages
from flows.runtime import Runtime
from flows.store import Request


def new_request(rt: Runtime, email: str, language: str, *, name: str | None = None, phone: str | None = None,
                right: str = "access", further: Sequence[tuple[str, str]] = ()) -> Request:
    """Register a request and send its one-time code, and one to each further (kind, identifier).

    Every further identifier is checked before anything is recorded. A request kept as a duplicate (its
    subject has a verified request in progress) gets no code: whoever typed the address has proved nothing.
    """
    for kind, raw in further:
        identifiers.normalised(rt, kind, raw)
    request = stages.register(rt, email, language, name=name, phone=phone, right=right)
    if request.duplicate_of:
        return request
    stages.send_code(rt, request.id)
    for kind, raw in further:
        identifiers.add_identifier(rt, request.id, kind, raw)
    return request
