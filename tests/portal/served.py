"""The portal's hardened uvicorn in a thread on loopback, for tests and the bench."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from flows.portal.download_file import FileRoute
from flows.portal.hardening import server_config


def file_app(route: FileRoute) -> Starlette:
    return Starlette(routes=[
        Route("/download/{token}/file", route.respond, methods=["GET", "HEAD"], name="download_file"),
    ])


@contextmanager
def serving(app: Any, **settings: Any) -> Iterator[str]:
    """Run `app` under the portal's uvicorn settings on a free loopback port; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(server_config(app, "127.0.0.1", sock.getsockname()[1], **settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
