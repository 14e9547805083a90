"""Requests registered and verified through the outbox for a test, closed after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flows import stages
from flows.demo.run import verify_by_outbox


def verified_requests(default_email: str) -> Iterator[Callable[..., str]]:
    """For a fixture to `yield from`: registers and verifies a request of `default_email` (or `email`) and
    returns its id; afterwards closes every one still open."""
    made = []

    def register(rt, email: str | None = None) -> str:
        request = stages.register(rt, email or default_email, "en")
        assert request.duplicate_of is None
        verify_by_outbox(rt, request.id)
        made.append((rt, request.id))
        return request.id

    yield register
    for rt, request_id in made:
        if rt.store.get(request_id).is_open:
            rt.store.set_status(request_id, "closed", rt.clock())
