"""The download service under load, on loopback against the real uvicorn: 200 concurrent downloads of a ~1.5 MB
package while 500 clients hold half-sent request heads. Every download completes with the right bytes, the
stalled connections are closed by the server, and the process's memory stays flat."""

import asyncio
import hashlib
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from exports.links import issue_link
from exports.storage import LocalStorage
from flows.portal.download_file import FileRoute
from flows.portal.server import serving
from tests.portal.file_route import ALWAYS, file_app

SECRET = b"k" * 32
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
KEY = "REQ-LOAD/REQ-LOAD.zip.age"
SIZE = 1_500_000
DOWNLOADS = 200
STALLED = 500
HEAD_TIMEOUT = 3.0
TEST_BOUND = 90.0  # seconds for the whole run; it takes ~10 on two cores


def rss_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB$", status, re.MULTILINE)
    assert match
    return int(match.group(1)) * 1024


async def download(client: httpx.AsyncClient, url: str) -> str:
    digest = hashlib.sha256()
    async with client.stream("GET", url) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_raw():
            digest.update(chunk)
    return digest.hexdigest()


async def stall(port: int) -> bytes:
    """Send half a request head and wait; what the server sends before it closes (nothing, when it times us out)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /download/x/file HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), HEAD_TIMEOUT * 4)  # EOF: the server closed it
    finally:
        writer.close()


async def load(base: str, url: str) -> tuple[list[str], list[bytes]]:
    port = int(base.rsplit(":", 1)[1])
    stalled = [asyncio.create_task(stall(port)) for _ in range(STALLED)]
    await asyncio.sleep(0.5)  # the stalled connections are open before the downloads start
    limits = httpx.Limits(max_connections=DOWNLOADS, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        digests = await asyncio.gather(*(download(client, url) for _ in range(DOWNLOADS)))
    return digests, await asyncio.gather(*stalled)


def test_200_downloads_beside_500_stalled_connections(tmp_path):
    data = os.urandom(SIZE)
    (tmp_path / "package").write_bytes(data)
    storage = LocalStorage(tmp_path / "store")
    storage.put(tmp_path / "package", KEY)
    route = FileRoute(storage, SECRET, lambda: NOW, ALWAYS)
    with serving(file_app(route), head_timeout=HEAD_TIMEOUT) as base:
        url = issue_link("REQ-LOAD", KEY, SECRET, NOW, timedelta(hours=1), base) + "/file"
        asyncio.run(asyncio.wait_for(load(base, url), TEST_BOUND))  # warm up: threads, buffers, imports
        before = rss_bytes()
        digests, stalled = asyncio.run(asyncio.wait_for(load(base, url), TEST_BOUND))
        after = rss_bytes()
    assert digests == [hashlib.sha256(data).hexdigest()] * DOWNLOADS
    assert stalled == [b""] * STALLED, "a stalled connection got an answer instead of being closed"
    # Each download holds a 64 KiB chunk and uvicorn's 64 KiB write buffer; a server that buffered whole files
    # would grow by DOWNLOADS * SIZE (300 MB).
    growth = after - before
    assert growth < DOWNLOADS * SIZE // 10, f"RSS grew by {growth / 1e6:.0f} MB under load"


def test_a_request_trickled_a_byte_at_a_time_is_cut_off_fresh_kept_alive_or_in_its_body(tmp_path):
    storage = LocalStorage(tmp_path / "store")

    async def trickle(port: int, first: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(first)
            head = b"GET /download/x/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
            answered = b""
            for byte in head:  # one byte every 0.1 s: each byte arrives long before any idle timeout
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    answered += await asyncio.wait_for(reader.read(65536), 0.1)
                except TimeoutError:
                    continue
                if reader.at_eof():
                    return answered
            raise AssertionError("the server kept reading a head for 100 s")
        finally:
            writer.close()

    with serving(file_app(FileRoute(storage, SECRET, lambda: NOW, ALWAYS)), head_timeout=1.0) as base:
        port = int(base.rsplit(":", 1)[1])
        fresh = asyncio.run(asyncio.wait_for(trickle(port, b""), TEST_BOUND))
        kept = asyncio.run(asyncio.wait_for(
            trickle(port, b"GET /download/abc/file HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), TEST_BOUND))
        slow_body = asyncio.run(asyncio.wait_for(
            trickle(port, b"POST /download/abc/file HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n"),
            TEST_BOUND))
    assert fresh == b""
    assert slow_body.startswith(b"HTTP/1.1 405 "), "a body trickled a byte at a time held its connection"
    assert kept.startswith(b"HTTP/1.1 404 ") and kept.endswith(b"not found\n"), "the first request was not answered"
