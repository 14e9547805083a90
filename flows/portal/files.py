"""One stored object as an HTTP response: the whole of it or one byte range, HEAD, bounded memory, slow readers dropped.

A response holds one 64 KiB chunk at a time and waits for the client to take
it (uvicorn pauses `send` while the socket buffer is full), so memory per
download is bounded whatever the number of clients; `streams` caps how many
stream at once (the others wait for a slot), and a client that stops reading
for `write_timeout` seconds is dropped rather than holding its slot forever.
Reads run in a worker thread, so a slow disk never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import re
from typing import BinaryIO

import anyio
import anyio.to_thread
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from exports.storage import Storage

CHUNK_SIZE = 64 * 1024
WRITE_TIMEOUT = 30.0  # seconds one chunk may wait for a client that has stopped reading
_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


class RangeNotSatisfiable(ValueError):
    """A well-formed single byte range that starts past the end of the object (answered with 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range `header` asks for, as (first, last) inclusive; None for the whole object.

    RFC 9110 14.1.2: `bytes=a-b`, `bytes=a-` and `bytes=-n`. Several ranges, another
    unit or anything malformed is ignored (the whole object is sent, as the RFC
    allows); a range that starts at or past the end raises RangeNotSatisfiable.
    """
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first:  # suffix: the last n bytes
        if not last:
            return None
        if int(last) == 0:
            raise RangeNotSatisfiable(header)
        return max(size - int(last), 0), size - 1
    if last and int(last) < int(first):
        return None  # invalid: ignore the header
    if int(first) >= size:
        raise RangeNotSatisfiable(header)
    return int(first), min(int(last), size - 1) if last else size - 1


def attachment(filename: str) -> str:
    """A Content-Disposition that saves as `filename`, reduced to characters no header or file system trips on."""
    safe = _UNSAFE_IN_NAME.sub("_", filename).lstrip(".") or "download"
    return f'attachment; filename="{safe}"'


class StoredObjectResponse(Response):
    """`key` from `storage` (`size` bytes, as the caller just checked): 200, 206 for one range, 416 past the end.

    `head` sends the headers only, and never opens the object. `streams`, one
    semaphore shared by every download of the app, caps concurrent streams.
    """

    media_type = "application/octet-stream"

    def __init__(
        self,
        storage: Storage,
        key: str,
        size: int,
        *,
        filename: str,
        head: bool,
        range_header: str | None,
        streams: anyio.Semaphore | None = None,
        write_timeout: float = WRITE_TIMEOUT,
    ) -> None:
        self.storage, self.key, self.head = storage, key, head
        self.streams, self.write_timeout = streams, write_timeout
        self.background = None
        headers = {
            "accept-ranges": "bytes",
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
            "content-disposition": attachment(filename),
        }
        try:
            span = byte_range(range_header, size)
        except RangeNotSatisfiable:
            self.status_code, self.first, self.length = 416, 0, 0
            headers["content-range"] = f"bytes */{size}"
        else:
            first, last = span or (0, size - 1)
            self.status_code, self.first, self.length = (206 if span else 200), first, last - first + 1
            if span:
                headers["content-range"] = f"bytes {first}-{last}/{size}"
        headers["content-length"] = str(self.length)
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.head or self.length == 0:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if self.streams is None:
            await self._stream(send)
            return
        async with self.streams:
            await self._stream(send)

    async def _stream(self, send: Send) -> None:
        body: BinaryIO = await anyio.to_thread.run_sync(self.storage.open, self.key)
        try:
            if self.first:
                await anyio.to_thread.run_sync(body.seek, self.first)
            if not await self._send(send, {"type": "http.response.start", "status": self.status_code,
                                           "headers": self.raw_headers}):
                return
            left = self.length
            while left > 0:
                chunk = await anyio.to_thread.run_sync(body.read, min(CHUNK_SIZE, left))
                if not chunk:
                    return  # the object shrank under us: end short, and the server closes the connection
                left -= len(chunk)
                if not await self._send(send, {"type": "http.response.body", "body": chunk, "more_body": left > 0}):
                    return
        finally:
            await anyio.to_thread.run_sync(body.close)

    async def _send(self, send: Send, message: Message) -> bool:
        """Send one message; False when the client took longer than `write_timeout` (the server then drops it)."""
        try:
            await asyncio.wait_for(send(message), self.write_timeout)
        except TimeoutError:
            return False
        return True
