"""Running the portal under uvicorn: `run` for `dsar serve`, `serving` for tests and benches."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from flows.portal.hardening import access_log, server_config


def _config(app: ASGIApp, host: str, port: int, trusted_proxies: Sequence[str] = (), **limits: Any) -> uvicorn.Config:
    # Timeouts, bounded connections and an access log without paths: flows/portal/hardening.py. X-Forwarded-For
    # is believed from the configured proxies only (uvicorn's default trusts loopback, where anyone on the host
    # could claim any client address and so escape the rate limits).
    return server_config(app, host, port, log_level="warning", proxy_headers=bool(trusted_proxies),
                         forwarded_allow_ips=list(trusted_proxies) or None, **limits)


def listening(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0 picks a free one); OSError when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def run(app: ASGIApp, sock: socket.socket, trusted_proxies: Sequence[str] = ()) -> None:
    """Serve on `sock` (see `listening`) until interrupted, printing the access log (method, route name,
    status) to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    host, port = sock.getsockname()[:2]
    uvicorn.Server(_config(app, host, port, trusted_proxies)).run(sockets=[sock])


@contextmanager
def serving(app: ASGIApp, host: str = "127.0.0.1", port: int = 0, **limits: Any) -> Iterator[str]:
    """The app served by uvicorn in a thread while the block runs; its base URL (port 0 picks a free one).
    `limits`: server_config's head_timeout and max_connections (tests shorten them)."""
    sock = listening(host, port)
    server = uvicorn.Server(_config(app, host, sock.getsockname()[1], **limits))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
