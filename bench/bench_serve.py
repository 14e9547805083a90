"""Requests/s and p99 latency of the portal's pages, MB/s of its downloads, against `python -m http.server`.

    .venv/bin/python bench/bench_serve.py [--clients 50] [--requests 2000] [--downloads 200] [--size-mb 2] [--json]

Baseline: `python -m http.server` serving the same package from the same
directory, and for the pages a saved copy of each page as a static file: what
a bare file server does on this machine. Both servers run in their own
process, one at a time; the load comes from this process over loopback, one
connection per request (http.server speaks HTTP/1.0), so both pay the same
connection set-up. The pages are make_app on the demo company (the status page
of a request just asked); the downloads pass the link check and the stream
cap, with a policy that always says yes, so the request store is not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KEY = "REQ-BENCH/REQ-BENCH.zip.age"
SECRET = b"b" * 32


@dataclass
class Figures:
    requests_s: float
    p99_ms: float
    mb_s: float
    errors: int  # refused or reset connections, wrong status or short bodies: each counted, none retried


async def fetch(port: int, path: str) -> tuple[int, int]:
    """One GET on its own connection; (status, body bytes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        body = 0
        while chunk := await reader.read(1 << 18):
            body += len(chunk)
        assert length is None or int(length.group(1)) == body, "short body"
        return status, body
    finally:
        writer.close()


async def hammer(port: int, path: str, clients: int, total: int) -> tuple[float, list[float], int, int]:
    """`total` GETs of `path` from `clients` concurrent clients; (seconds, latencies of the good ones, bytes,
    errors)."""
    latencies: list[float] = []
    received = errors = 0
    left = total

    async def client() -> None:
        nonlocal left, received, errors
        while left > 0:
            left -= 1
            start = time.perf_counter()
            try:
                status, body = await fetch(port, path)
            except (OSError, AssertionError, asyncio.IncompleteReadError):
                errors += 1
                continue
            if status != 200:
                errors += 1
                continue
            latencies.append(time.perf_counter() - start)
            received += body

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start, latencies, received, errors


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def page(port: int, path: str) -> bytes:
    """The body of one page."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:40]
    return body


def measure(port: int, pages: dict[str, str], download: str, args: argparse.Namespace) -> dict[str, Figures]:
    out = {}
    for name, path in pages.items():
        asyncio.run(hammer(port, path, args.clients, args.clients))  # warm up
        seconds, latencies, _, errors = asyncio.run(hammer(port, path, args.clients, args.requests))
        out[name] = Figures(len(latencies) / seconds, p99(latencies), 0.0, errors)
    seconds, latencies, received, errors = asyncio.run(hammer(port, download, args.downloads, args.downloads))
    out["download"] = Figures(len(latencies) / seconds, p99(latencies), received / 1e6 / seconds, errors)
    return out


def started(command: list[str], ready: re.Pattern[str]) -> tuple[subprocess.Popen[str], re.Match[str]]:
    """Start a server process; wait for the line `ready` matches on its stdout."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if match := ready.search(line):
            return process, match
    raise SystemExit(f"{command[0]} exited before it was ready")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(10)


def serve_portal(root: Path) -> None:
    """Child mode: the portal (make_app on the demo company) under `dsar serve`'s uvicorn settings, plus the file
    route with a yes-policy at /bench/{token}/file; prints the port, the status page and the download paths."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    from exports.links import issue_link
    from exports.storage import LocalStorage
    from flows.demo.run import prepare_demo, write_demo_config
    from flows.lifecycle import new_request
    from flows.pages import page_token
    from flows.portal.app import make_app
    from flows.portal.download_file import FileRoute, LinkPolicy
    from flows.portal.hardening import server_config
    from flows.runtime import open_runtime

    company, _ = prepare_demo(root / "demo")
    rt = open_runtime(write_demo_config(company, "http://127.0.0.1:9/3.0"))
    status = f"/status/{page_token(rt, new_request(rt, 'bench@example.fi', 'en'), 'status')}"
    always = LinkPolicy(spend=lambda claims: True, usable=lambda claims: True, resumable=lambda claims: True)
    files = FileRoute(LocalStorage(root / "files"), SECRET, lambda: datetime.now(UTC), always)
    app = Starlette(routes=[Route("/bench/{token}/file", files.respond, methods=["GET", "HEAD"]),
                            Mount("/", make_app(rt, start=lambda request_id: None))])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # before "ready": the first client must not find the port closed
    port = sock.getsockname()[1]
    token = issue_link("REQ-BENCH", KEY, SECRET, datetime.now(UTC), timedelta(hours=1), "").rsplit("/", 1)[1]
    print(f"ready {port} {status} /bench/{token}/file", flush=True)
    uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="warning")).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients for the pages")
    parser.add_argument("--requests", type=int, default=2000, help="requests per page")
    parser.add_argument("--downloads", type=int, default=200, help="concurrent downloads")
    parser.add_argument("--size-mb", type=float, default=2.0, help="size of the package")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve_portal(args.serve)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        package = root / "files" / KEY
        package.parent.mkdir(parents=True)
        package.write_bytes(os.urandom(int(args.size_mb * 1e6)))
        ours, ready = started([sys.executable, __file__, "--serve", str(root)],
                              re.compile(r"^ready (\d+) (\S+) (\S+)"))
        try:
            port = int(ready.group(1))
            pages = {"ask page": "/", "status page": ready.group(2)}
            for name, path in pages.items():  # the baseline serves a copy of each page as a static file
                (root / "files" / f"{name.split()[0]}.html").write_bytes(asyncio.run(page(port, path)))
            portal = measure(port, pages, ready.group(3), args)
        finally:
            stop(ours)
        baseline, ready = started([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                                   "--directory", str(root / "files")], re.compile(r"port (\d+)"))
        try:
            static = {name: f"/{name.split()[0]}.html" for name in pages}
            bare = measure(int(ready.group(1)), static, f"/{KEY}", args)
        finally:
            stop(baseline)

    result = {
        "clients": args.clients, "requests": args.requests, "downloads": args.downloads, "size_mb": args.size_mb,
        "portal": {name: vars(f) for name, f in portal.items()},
        "http_server": {name: vars(f) for name, f in bare.items()},
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; one connection per request")
    for name in portal:
        ours_f, base_f = portal[name], bare[name]
        if name == "download":
            print(f"{args.downloads} concurrent downloads of {args.size_mb:g} MB: portal {ours_f.mb_s:7.1f} MB/s "
                  f"(p99 {ours_f.p99_ms:.0f} ms, {ours_f.errors} errors)   "
                  f"http.server {base_f.mb_s:7.1f} MB/s (p99 {base_f.p99_ms:.0f} ms, {base_f.errors} errors)")
        else:
            print(f"{name}: portal {ours_f.requests_s:7.0f} req/s p99 {ours_f.p99_ms:6.1f} ms {ours_f.errors} errors   "
                  f"http.server {base_f.requests_s:7.0f} req/s p99 {base_f.p99_ms:6.1f} ms {base_f.errors} errors")


if __name__ == "__main__":
    main()
