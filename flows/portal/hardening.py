"""What keeps the portal up under load and its logs clean: uvicorn settings, a request-head timeout, an access log.

uvicorn times out an idle kept-alive connection but not one that never
finishes its request: a slowloris holds it forever. `HeadTimeoutProtocol`
closes a connection whose request (head, and body if any: the portal's forms
are at most 8 KiB) is still incomplete `head_timeout` seconds after it began,
however slowly the bytes trickle in. uvicorn's own access log writes
the path, which holds the download or status token, so it is off; `AccessLog`
logs the method, the route's name and the status only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its head and body
KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open
MAX_CONNECTIONS = 1024  # beyond this uvicorn answers 503 (each holds at most ~16 KiB of head and 64 KiB of output)
MAX_STREAMS = 64  # concurrent file downloads; more wait for a slot

access_log = logging.getLogger("dsar.portal.access")
_INCOMPLETE = (h11.IDLE, h11.SEND_BODY)  # h11's states of a client still sending its request


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request is not all in `head_timeout` after it began."""

    head_timeout = HEAD_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn logs the path whenever "uvicorn.access" has a handler, and any later logging setup (dictConfig)
        # may give it one again: this protocol never writes it.
        self.access_log = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def data_received(self, data: bytes) -> None:
        # The first bytes of a later request on a kept-alive connection start its clock.
        if self._head_timer is None and self.conn.their_state is h11.IDLE:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)
        super().data_received(data)
        if self.conn.their_state not in _INCOMPLETE:  # the request is in
            self._cancel_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state in _INCOMPLETE and not self.transport.is_closing():
            self.transport.close()


def with_head_timeout(seconds: float) -> type[HeadTimeoutProtocol]:
    """The protocol class with another head timeout (tests use a short one)."""
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout": seconds})


def server_config(app: ASGIApp, host: str, port: int, *, head_timeout: float = HEAD_TIMEOUT,
                  max_connections: int = MAX_CONNECTIONS, **overrides: Any) -> uvicorn.Config:
    """uvicorn's Config for the portal: bounded connections, head and keep-alive timeouts, no access log."""
    settings: dict[str, Any] = {
        "http": with_head_timeout(head_timeout) if head_timeout != HEAD_TIMEOUT else HeadTimeoutProtocol,
        "limit_concurrency": max_connections,
        "timeout_keep_alive": KEEP_ALIVE,
        "backlog": 2048,
        "access_log": False,
        "log_config": None,  # leave logging to the application: uvicorn's config would add its access handler
        "server_header": False,
        "ws": "none",
        "lifespan": "off",
    }
    return uvicorn.Config(AccessLog(app), host=host, port=port, **(settings | overrides))


class AccessLog:
    """Logs each response as `METHOD route-name status`: never the path, query, token or client address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "name", None) or "-"
                access_log.info("%s %s %d", scope["method"], route, message["status"])
            await send(message)

        await self.app(scope, receive, logged)
