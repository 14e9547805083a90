"""The file behind a download link: the link policy, a presigned redirect for S3, or the stored object streamed.

Every failure - a bad, expired or forged token, a refusal, a missing object -
gets the same neutral 404, so the server tells a stranger nothing. What counts
a download: a GET that starts at byte 0 spends one; a GET for a range starting
later resumes a download the link already counted, without spending another
(the link must still be live: unexpired, unrevoked, its request open), up to FREE_RESUMES_PER_HOUR; HEAD
never spends one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from posixpath import basename

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from exports.errors import InvalidLink
from exports.links import LinkClaims, check_secret, verify_link
from exports.storage import Storage
from flows.portal.files import WRITE_TIMEOUT, StoredObjectResponse, byte_range
from flows.portal.guard import RateLimit, keyed
from flows.portal.hardening import MAX_STREAMS

PRESIGNED_LIFETIME = timedelta(minutes=5)
# Free resumes of one link in an hour: plenty for a dropped connection on a bad line; past them a ranged GET
# counts a download like any other, so ranges are not copies without limit (a 1-byte GET, then `bytes=1-`).
FREE_RESUMES_PER_HOUR = 20
NO_STORE = {"cache-control": "no-store", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff"}

log = logging.getLogger("dsar.portal.download")


@dataclass(frozen=True)
class LinkPolicy:
    """How the store judges a verified link (flows/downloads.py with a runtime; anything in tests).

    `spend`: may it download now? If so one download is counted. `usable`: would
    `spend` say yes (HEAD). `resumable`: is it live and counted at least once.
    """

    spend: Callable[[LinkClaims], bool]
    usable: Callable[[LinkClaims], bool]
    resumable: Callable[[LinkClaims], bool]


def not_found() -> Response:
    return PlainTextResponse("not found\n", 404, headers=NO_STORE)


class FileRoute:
    """The `/download/{token}/file` endpoint (`respond`): GET and HEAD; one per app, holding the stream slots.

    `gone(request)` is the app's one answer to every refusal (a plain 404 by default).
    """

    def __init__(self, storage: Storage, secret: bytes, clock: Callable[[], datetime], policy: LinkPolicy,
                 *, gone: Callable[[Request], Response] | None = None, max_streams: int = MAX_STREAMS,
                 write_timeout: float = WRITE_TIMEOUT) -> None:
        check_secret(secret)  # fail at start-up, not at the first download
        self.storage, self.secret, self.clock, self.policy = storage, secret, clock, policy
        self.gone = gone or (lambda request: not_found())
        self.write_timeout = write_timeout
        self.streams = anyio.Semaphore(max_streams)
        self.resumes = RateLimit(FREE_RESUMES_PER_HOUR, 3600)  # in memory: a restart forgives a few

    async def respond(self, request: Request) -> Response:
        head = request.method == "HEAD"
        try:
            claims = verify_link(request.path_params["token"], self.secret, self.clock())
            size = await anyio.to_thread.run_sync(self.storage.size, claims.object_key)  # a missing one spends none
        except (InvalidLink, OSError, ValueError):
            return self.gone(request)
        # If-Range names a validator we never send, so it can never match: the whole file then (RFC 9110 13.1.5).
        range_header = None if "if-range" in request.headers else request.headers.get("range")
        try:
            admitted = await anyio.to_thread.run_sync(self._judge, claims, head, range_header, size)
        except Exception as exc:
            # The policy's store failed; its error text may quote the link id, so name the type only.
            log.warning("%s admit failed (%s)", request.method, type(exc).__name__)
            return PlainTextResponse("try again later\n", 503, headers=NO_STORE)
        if not admitted:
            return self.gone(request)
        url = await anyio.to_thread.run_sync(self.storage.presigned_url, claims.object_key, PRESIGNED_LIFETIME)
        if url is not None:  # S3: the download goes to its own short-lived URL
            return RedirectResponse(url, 302, headers=NO_STORE)
        return StoredObjectResponse(self.storage, claims.object_key, size, filename=basename(claims.object_key),
                                    head=head, range_header=range_header, streams=self.streams,
                                    write_timeout=self.write_timeout)

    def _judge(self, claims: LinkClaims, head: bool, range_header: str | None, size: int) -> bool:
        if head:
            return self.policy.usable(claims)
        try:
            span = byte_range(range_header, size)
        except ValueError:  # past the end: the 416 sends no byte, so it spends nothing, but only for a live link
            return self.policy.usable(claims) or self.policy.resumable(claims)
        if span is not None and span[0] > 0 and self.policy.resumable(claims) \
                and self.resumes.allow(keyed(self.secret, "resume", claims.jti)):
            return True
        return self.policy.spend(claims)
