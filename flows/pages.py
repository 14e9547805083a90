"""Links to the requester's pages on the portal (`dsar serve`), as the mails carry them."""

from __future__ import annotations

from datetime import timedelta

from exports.links import issue_page_token, page_url
from flows.runtime import Runtime
from flows.store import Request

# A page keeps working this long past the request's deadline: a late or delivered request is still followed.
AFTER_DEADLINE = timedelta(days=90)


def page_token(rt: Runtime, request: Request, kind: str) -> str:
    """A token for the request's `kind` page ("verify" or "status"), valid until 90 days after its deadline."""
    now = rt.clock()
    lifetime = max(request.deadline + AFTER_DEADLINE - now, timedelta(days=1))
    return issue_page_token(kind, request.id, rt.link_secret, now, lifetime)


def page_link(rt: Runtime, request: Request, kind: str) -> str:
    """The URL of the request's `kind` page on the portal, as a mail carries it."""
    return page_url(rt.config.delivery.public_url, kind, page_token(rt, request, kind))
