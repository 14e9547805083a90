"""A small download server for stored packages (`dsar serve`).

Only `GET /download/<token>` is answered. A token that verifies is put to the
caller's `admit` policy (downloads left, revocation, the request's state),
which spends one download when it says yes. Every failure - a bad, expired or
forged token, a refusal, a missing object - gets the same neutral 404, so the
server tells a stranger nothing. A storage that can presign (S3) gets a 302
to a URL that lives `PRESIGNED_LIFETIME`; any other is streamed. Logs carry
the method and status only: the token in the path is a credential, and object
keys name requests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from posixpath import basename

from exports.errors import InvalidLink
from exports.links import LinkClaims, check_secret, verify_link
from exports.storage import Storage

DEFAULT_HOST = "127.0.0.1"
CHUNK_SIZE = 64 * 1024
PRESIGNED_LIFETIME = timedelta(minutes=5)
_DOWNLOAD = re.compile(r"^/download/([A-Za-z0-9_.-]{1,4096})$")

log = logging.getLogger("dsar.exports.serve")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _DownloadHandler(BaseHTTPRequestHandler):
    server_version = "dsar"
    sys_version = ""
    storage: Storage
    secret: bytes
    clock: Callable[[], datetime]
    admit: Callable[[LinkClaims], bool]

    def do_GET(self) -> None:
        match = _DOWNLOAD.match(self.path)
        if match is None:
            return self._plain(404, b"not found\n")
        try:
            claims = verify_link(match.group(1), self.secret, self.clock())
            size = self.storage.size(claims.object_key)  # a missing object spends no download
        except (InvalidLink, OSError, ValueError):
            return self._plain(404, b"not found\n")
        try:
            admitted = self.admit(claims)
        except Exception as exc:
            # The policy's store failed; its error text may quote the link id, so name the type only.
            log.warning("GET admit failed (%s)", type(exc).__name__)
            return self._plain(503, b"try again later\n")
        if not admitted:
            return self._plain(404, b"not found\n")
        # A storage that presigns (S3) hands the download to its own URL; one that cannot, or answers None, streams.
        presign = getattr(self.storage, "presigned_url", None)
        url = presign(claims.object_key, PRESIGNED_LIFETIME) if presign else None
        if url is not None:
            self.send_response(302)
            self.send_header("Location", url)
            self.send_header("Content-Length", "0")
            self._common_headers()
            self.end_headers()
            return
        try:
            body = self.storage.open(claims.object_key)
        except (OSError, ValueError):  # deleted since the size check: rare, and the download is spent
            return self._plain(404, b"not found\n")
        with body:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            # Object keys are restricted to [A-Za-z0-9._-], so the name needs no escaping.
            self.send_header("Content-Disposition", f'attachment; filename="{basename(claims.object_key)}"')
            self.send_header("Content-Length", str(size))
            self._common_headers()
            self.end_headers()
            try:
                while chunk := body.read(CHUNK_SIZE):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def _method_not_allowed(self) -> None:
        self._plain(405, b"method not allowed\n", {"Allow": "GET"})

    def __getattr__(self, name: str):
        # Any other method (POST, HEAD, PROPFIND, ...) gets 405 rather than http.server's 501.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _common_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")

    def _plain(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self._common_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # Logging: method and status only, never the request line, path or token.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s", self.command or "-", int(code) if str(code).isdigit() else code)

    def log_error(self, format: str, *args: object) -> None:
        log.info("%s error", getattr(self, "command", None) or "-")

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s", getattr(self, "command", None) or "-")


def make_server(
    host: str,
    port: int,
    storage: Storage,
    secret: bytes,
    *,
    admit: Callable[[LinkClaims], bool],
    clock: Callable[[], datetime] = _utc_now,
) -> ThreadingHTTPServer:
    """A threaded HTTP server serving downloads from `storage`; call serve_forever() on it.

    `admit(claims)` is asked once per download whose token verified: True
    lets it through (and is the caller's moment to count it), False gets a
    404. It is called from several threads at once.

    Pass `DEFAULT_HOST` (127.0.0.1) unless a reverse proxy on another host
    needs to reach it; `port` 0 picks a free port (see server.server_address).
    """
    check_secret(secret)  # fail at start-up, not at the first download
    handler = type(
        "DownloadHandler",
        (_DownloadHandler,),
        {"storage": storage, "secret": secret, "clock": staticmethod(clock), "admit": staticmethod(admit)},
    )
    return ThreadingHTTPServer((host, port), handler)
