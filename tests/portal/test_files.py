"""The download file route under the portal's uvicorn: whole files, byte ranges, HEAD, what counts a download."""

import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from exports.links import issue_link
from exports.storage import LocalStorage
from flows.portal.download_file import FileRoute, LinkPolicy
from flows.portal.files import RangeNotSatisfiable, attachment, byte_range
from flows.portal.server import serving
from tests.portal.file_route import file_app

SECRET = b"k" * 32
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
KEY = "REQ-ABC/REQ-ABC.zip.age"
SIZE = 300_000


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-99", (0, 99)), ("bytes=100-", (100, SIZE - 1)), ("bytes=-100", (SIZE - 100, SIZE - 1)),
    ("BYTES=5-5", (5, 5)), ("bytes=10-999999999", (10, SIZE - 1)), ("bytes=-999999999", (0, SIZE - 1)),
    (None, None), ("", None), ("bytes=0-1,5-6", None), ("bytes=5-1", None), ("items=0-1", None),
    ("bytes=-", None), ("bytes=a-b", None), ("bytes=+1-2", None), ("bytes 0-1", None),
])
def test_byte_range(header, expected):
    assert byte_range(header, SIZE) == expected


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 9}", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header):
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, SIZE)


def test_attachment_name_is_safe():
    assert attachment("REQ-ABC.zip.age") == 'attachment; filename="REQ-ABC.zip.age"'
    assert attachment('a"b\r\nc;d/ä.age') == 'attachment; filename="a_b__c_d__.age"'
    assert attachment("..") == 'attachment; filename="download"'


class Policy:
    """A link policy that records what it was asked; `left` downloads, resumable once one was spent."""

    def __init__(self, left: int = 3) -> None:
        self.left, self.spent, self.asked = left, 0, list[str]()

    def spend(self, claims) -> bool:
        self.asked.append("spend")
        if self.left == 0:
            return False
        self.left, self.spent = self.left - 1, self.spent + 1
        return True

    def usable(self, claims) -> bool:
        self.asked.append("usable")
        return self.left > 0

    def resumable(self, claims) -> bool:
        self.asked.append("resumable")
        return self.spent > 0

    def link_policy(self) -> LinkPolicy:
        return LinkPolicy(self.spend, self.usable, self.resumable)


@pytest.fixture(scope="module")
def data():
    return os.urandom(SIZE)


@pytest.fixture
def storage(tmp_path, data):
    (tmp_path / "src.bin").write_bytes(data)
    store = LocalStorage(tmp_path / "store")
    store.put(tmp_path / "src.bin", KEY)
    return store


@pytest.fixture
def served(storage):
    policy = Policy()
    with serving(file_app(FileRoute(storage, SECRET, lambda: NOW, policy.link_policy()))) as base:
        url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base, jti="the-link-id") + "/file"
        yield base, url, policy


def test_whole_file_with_its_headers_and_no_token_in_the_log(served, data, caplog):
    base, url, policy = served
    with caplog.at_level(logging.DEBUG):
        response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="REQ-ABC.zip.age"'
    assert "content-range" not in response.headers
    assert policy.spent == 1
    server_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("dsar", "uvicorn")))
    assert "GET file 200" in server_log
    token = url.removeprefix(f"{base}/download/").removesuffix("/file")
    for secret in (token, "the-link-id", "REQ-ABC", "/download", "127.0.0.1"):
        assert secret not in server_log


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-99", 0, 99), ("bytes=1000-", 1000, SIZE - 1), ("bytes=-4096", SIZE - 4096, SIZE - 1),
    ("bytes=299990-400000", 299_990, SIZE - 1),
])
def test_one_range(served, data, header, first, last):
    _, url, policy = served
    httpx.get(url, timeout=10)  # the download a resume continues
    response = httpx.get(url, headers={"Range": header}, timeout=10)
    assert response.status_code == 206
    assert response.content == data[first:last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert policy.spent == (2 if first == 0 else 1), "a resume spent a download, or a fresh start did not"


def test_a_resume_without_an_earlier_download_spends_one(served, data):
    _, url, policy = served
    response = httpx.get(url, headers={"Range": "bytes=1000-"}, timeout=10)
    assert (response.status_code, response.content) == (206, data[1000:])
    assert policy.spent == 1


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "bytes=9-1", "bytes=x", "lines=1-2"])
def test_several_ranges_or_garbage_send_the_whole_file(served, data, header):
    _, url, _ = served
    response = httpx.get(url, headers={"Range": header}, timeout=10)
    assert (response.status_code, response.content) == (200, data)


def test_if_range_sends_the_whole_file(served, data):
    _, url, _ = served
    response = httpx.get(url, headers={"Range": "bytes=5-", "If-Range": '"some-etag"'}, timeout=10)
    assert (response.status_code, response.content) == (200, data)


def test_a_range_past_the_end_is_416(served):
    _, url, policy = served
    response = httpx.get(url, headers={"Range": f"bytes={SIZE}-"}, timeout=10)
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.content == b"" and policy.spent == 0


def test_head_sends_headers_only_and_spends_nothing(served):
    _, url, policy = served
    for _ in range(5):
        response = httpx.head(url, timeout=10)
        assert response.status_code == 200 and response.content == b""
        assert response.headers["content-length"] == str(SIZE)
        assert response.headers["accept-ranges"] == "bytes"
    assert policy.spent == 0 and set(policy.asked) == {"usable"}
    policy.left = 0
    assert httpx.head(url, timeout=10).status_code == 404


def test_refusals_and_bad_tokens_are_the_same_404(served, storage):
    base, url, policy = served
    missing = issue_link("REQ-ABC", "REQ-ABC/gone.zip.age", SECRET, NOW, timedelta(hours=1), base) + "/file"
    forged = issue_link("REQ-ABC", KEY, b"x" * 32, NOW, timedelta(hours=1), base) + "/file"
    expired = issue_link("REQ-ABC", KEY, SECRET, NOW - timedelta(hours=2), timedelta(hours=1), base) + "/file"
    for bad in [missing, forged, expired, f"{base}/download/abc/file", f"{base}/download/{'a' * 5000}/file"]:
        response = httpx.get(bad, timeout=10)
        assert (response.status_code, response.content) == (404, b"not found\n"), bad
        assert response.headers["cache-control"] == "no-store"
    assert policy.asked == [], "a bad token or a missing object reached the policy"
    policy.left = 0
    assert (httpx.get(url, timeout=10).status_code, httpx.get(url, timeout=10).content) == (404, b"not found\n")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PROPFIND"])
def test_other_methods_are_405(served, method):
    _, url, policy = served
    response = httpx.request(method, url, timeout=10)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert policy.asked == []


def test_a_failing_policy_is_503_naming_no_link(storage, caplog):
    def broken(claims):
        raise RuntimeError(f"database down while looking up {claims.jti}")

    route = FileRoute(storage, SECRET, lambda: NOW, LinkPolicy(broken, broken, broken))
    with serving(file_app(route)) as base, caplog.at_level(logging.DEBUG):
        url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base, jti="the-link-id") + "/file"
        response = httpx.get(url, timeout=10)
    assert (response.status_code, response.content) == (503, b"try again later\n")
    assert "admit failed (RuntimeError)" in caplog.text and "the-link-id" not in caplog.text


def test_a_short_secret_is_refused_at_start(storage):
    with pytest.raises(ValueError):
        FileRoute(storage, b"short", lambda: NOW, Policy().link_policy())


class _PresigningStorage(LocalStorage):
    def presigned_url(self, key, lifetime):
        return f"https://bucket.example/{key}?expires={int(lifetime.total_seconds())}"


def test_a_storage_that_presigns_gets_a_302(storage):
    policy = Policy()
    route = FileRoute(_PresigningStorage(storage.root), SECRET, lambda: NOW, policy.link_policy())
    with serving(file_app(route)) as base:
        url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base) + "/file"
        response = httpx.get(url, timeout=10)
    assert response.status_code == 302
    assert response.headers["location"] == f"https://bucket.example/{KEY}?expires=300"
    assert response.headers["cache-control"] == "no-store" and policy.spent == 1


def test_a_client_that_stops_reading_is_dropped(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(32 << 20))  # far more than the socket buffers on both sides hold
    storage = LocalStorage(tmp_path / "store")
    storage.put(big, KEY)
    write_timeout = 1.0
    route = FileRoute(storage, SECRET, lambda: NOW, Policy().link_policy(), write_timeout=write_timeout)
    with serving(file_app(route)) as base:
        url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base) + "/file"
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(f"GET {url.removeprefix(base)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            time.sleep(write_timeout * 3)  # stop reading
            received = 0
            while chunk := sock.recv(1 << 20):  # the server closed: the rest comes, then EOF
                received += len(chunk)
    assert 0 < received < 32 << 20, "the stalled client was not dropped"
