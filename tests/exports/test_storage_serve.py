import http.client
import logging
import os
import re
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from exports.links import issue_link
from exports.serve import DEFAULT_HOST, make_server
from exports.storage import LocalStorage, StorageSettingError, storage_from_url

SECRET = b"k" * 32
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
KEY = "REQ-ABC/REQ-ABC.zip.age"


@pytest.fixture
def storage(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(200_000))
    store = LocalStorage(tmp_path / "store")
    store.put(src, KEY)
    return store


# --- storage -------------------------------------------------------------------------------------


def test_put_and_read_back(tmp_path, storage):
    data = (tmp_path / "src.bin").read_bytes()
    assert storage.exists(KEY) and storage.size(KEY) == len(data)
    with storage.open(KEY) as f:
        assert f.read() == data
    ref = storage.put(tmp_path / "src.bin", "REQ-ABC/copy.zip.age")
    assert ref == (tmp_path / "store" / "REQ-ABC" / "copy.zip.age").as_uri()
    assert not storage.exists("REQ-ABC/missing.age")
    assert sorted(p.name for p in (tmp_path / "store" / "REQ-ABC").iterdir()) == ["REQ-ABC.zip.age", "copy.zip.age"]


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../x", "REQ-A/../../x", "REQ-A/..", "a//b", ".hidden", "a/.b", "a\\b", "a/b/", "ä"]
)
def test_hostile_keys_rejected(storage, tmp_path, key):
    for call in (
        lambda: storage.put(tmp_path / "src.bin", key),
        lambda: storage.open(key),
        lambda: storage.exists(key),
        lambda: storage.size(key),
        lambda: storage.writer(key),
        lambda: storage.delete(key),
    ):
        with pytest.raises(ValueError):
            call()


def test_symlink_out_of_root_refused(storage, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "store" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError):
        storage.put(tmp_path / "src.bin", "link/x.age")


def test_failed_put_leaves_nothing(storage, tmp_path):
    with pytest.raises(FileNotFoundError):
        storage.put(tmp_path / "nope.bin", "REQ-ABC/new.age")
    assert sorted(p.name for p in (tmp_path / "store" / "REQ-ABC").iterdir()) == ["REQ-ABC.zip.age"]


def test_storage_from_url(tmp_path):
    local = storage_from_url("file://packages", tmp_path)
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "packages"
    absolute = storage_from_url(f"file://{tmp_path}/abs", tmp_path / "elsewhere")
    assert isinstance(absolute, LocalStorage) and absolute.root == tmp_path / "abs"
    with pytest.raises(StorageSettingError, match="'https'") as error:
        storage_from_url("https://example.com/x", tmp_path)
    assert error.value.setting == "url"
    with pytest.raises(StorageSettingError):
        storage_from_url("file://", tmp_path)


@pytest.mark.parametrize(
    ("url", "settings", "setting", "message"),
    [
        ("s3://bucket/prefix", {}, "kms_key_id", "s3:// storage needs kms_key_id: packages are stored with SSE-KMS"),
        ("file://packages", {"kms_key_id": "k"}, "kms_key_id", "kms_key_id applies to s3:// storage only"),
        ("file://packages", {"endpoint_url": "http://x"}, "endpoint_url", "applies to s3:// storage only"),
        ("s3://", {"kms_key_id": "k"}, "url", "s3://bucket or s3://bucket/prefix"),
        ("s3://bucket/../x", {"kms_key_id": "k"}, "url", "S3 prefix must be"),
        ("s3://bucket", {"kms_key_id": "k", "endpoint_url": "localhost:9000"}, "endpoint_url", "http"),
    ],
)
def test_a_wrong_storage_setting_names_itself(tmp_path, url, settings, setting, message):
    with pytest.raises(StorageSettingError, match=re.escape(message)) as error:
        storage_from_url(url, tmp_path, **settings)
    assert error.value.setting == setting


def test_an_s3_url_makes_s3_storage_without_touching_the_network(tmp_path):
    from exports.storage.s3 import S3Storage

    s3 = storage_from_url("s3://bucket/dsar/packages/", tmp_path, kms_key_id="alias/dsar")
    assert isinstance(s3, S3Storage)
    assert s3.ref(KEY) == f"s3://bucket/dsar/packages/{KEY}"


def test_writer_keys_delete_and_no_presigned_url(storage, tmp_path):
    with storage.writer("REQ-B/REQ-B.zip.age", {"request_id": "REQ-B"}) as out:
        out.write(b"sealed")
    with pytest.raises(RuntimeError), storage.writer("REQ-B/REQ-B.zip.age") as out:
        out.write(b"half")
        raise RuntimeError("stop")
    assert storage.path("REQ-B/REQ-B.zip.age").read_bytes() == b"sealed"
    assert list(storage.keys()) == [KEY, "REQ-B/REQ-B.zip.age"]  # no leftover temporary file
    assert list(storage.keys("REQ-B/")) == ["REQ-B/REQ-B.zip.age"]
    assert storage.presigned_url(KEY, timedelta(minutes=5)) is None
    storage.delete("REQ-B/REQ-B.zip.age")
    storage.delete("REQ-B/REQ-B.zip.age")  # already gone: fine
    assert list(storage.keys()) == [KEY]
    assert not (tmp_path / "store" / "REQ-B").exists(), "the emptied request directory was left behind"
    assert (tmp_path / "store").is_dir()


# --- serve ---------------------------------------------------------------------------------------


@pytest.fixture
def server(storage):
    clock = {"now": NOW}
    srv = make_server(DEFAULT_HOST, 0, storage, SECRET, admit=lambda claims: True, clock=lambda: clock["now"])
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    host, port = srv.server_address[:2]
    assert isinstance(host, str)
    yield f"http://{host}:{port}", clock
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - our own loopback server
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def test_download_over_loopback(server, tmp_path, caplog):
    base, _ = server
    url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(days=7), base)
    with caplog.at_level(logging.DEBUG, logger="dsar.exports.serve"):
        status, headers, body = get(url)
    assert status == 200
    assert body == (tmp_path / "src.bin").read_bytes()
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"] == 'attachment; filename="REQ-ABC.zip.age"'
    assert headers["Content-Length"] == str(len(body))
    assert headers["Cache-Control"] == "no-store"
    token = url.rsplit("/", 1)[1]
    logged = caplog.text
    assert "GET 200" in logged
    assert token not in logged and "REQ-ABC" not in logged and "/download" not in logged


def test_expired_token_is_404(server):
    base, clock = server
    url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base)
    clock["now"] = NOW + timedelta(hours=1, seconds=1)
    status, _, body = get(url)
    assert (status, body) == (404, b"not found\n")


def test_missing_object_and_bad_tokens_are_404(server):
    base, _ = server
    missing = issue_link("REQ-ABC", "REQ-ABC/gone.zip.age", SECRET, NOW, timedelta(hours=1), base)
    forged = issue_link("REQ-ABC", KEY, b"x" * 32, NOW, timedelta(hours=1), base)
    for url in [
        missing,
        forged,
        f"{base}/download/abc",
        f"{base}/download/",
        f"{base}/",
        f"{base}/etc/passwd",
        f"{base}/download/../../etc/passwd",
    ]:
        status, _, body = get(url)
        assert (status, body) == (404, b"not found\n"), url


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD", "PROPFIND"])
def test_other_methods_are_405(server, method, caplog):
    base, _ = server
    url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base)
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        with caplog.at_level(logging.DEBUG, logger="dsar.exports.serve"):
            conn.request(method, url.removeprefix(base))
            resp = conn.getresponse()
            resp.read()
        assert resp.status == 405
        assert resp.getheader("Allow") == "GET"
    finally:
        conn.close()
    assert url.rsplit("/", 1)[1] not in caplog.text


def test_short_secret_refused(storage):
    with pytest.raises(ValueError):
        make_server(DEFAULT_HOST, 0, storage, b"short", admit=lambda claims: True)


def _serve(storage, admit):
    srv = make_server(DEFAULT_HOST, 0, storage, SECRET, admit=admit, clock=lambda: NOW)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://{DEFAULT_HOST}:{srv.server_address[1]}"


def test_a_refused_download_is_the_same_404_and_a_failing_policy_is_503(storage, caplog):
    asked = []

    def refuse(claims):
        asked.append((claims.request_id, claims.object_key))
        return False

    def broken(claims):
        raise RuntimeError(f"database down while looking up {claims.jti}")

    for admit, expected in ((refuse, (404, b"not found\n")), (broken, (503, b"try again later\n"))):
        srv, base = _serve(storage, admit)
        try:
            url = issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base, jti="the-link-id")
            with caplog.at_level(logging.DEBUG, logger="dsar.exports.serve"):
                status, _, body = get(url)
            assert (status, body) == expected
        finally:
            srv.shutdown()
            srv.server_close()
    assert asked == [("REQ-ABC", KEY)]
    assert "admit failed (RuntimeError)" in caplog.text and "the-link-id" not in caplog.text


def test_a_missing_object_is_not_put_to_the_policy(storage):
    asked = []

    def admit(claims):
        asked.append(claims)
        return True

    srv, base = _serve(storage, admit)
    try:
        url = issue_link("REQ-ABC", "REQ-ABC/gone.zip.age", SECRET, NOW, timedelta(hours=1), base)
        assert get(url)[0] == 404
        assert asked == [], "a download was spent on an object that is not there"
    finally:
        srv.shutdown()
        srv.server_close()


class _NoUrlStorage(LocalStorage):
    def presigned_url(self, key, lifetime):
        return None  # a backend that cannot presign says so


def test_a_storage_that_answers_no_presigned_url_streams(storage, tmp_path):
    srv, base = _serve(_NoUrlStorage(storage.root), lambda claims: True)
    try:
        status, _, body = get(issue_link("REQ-ABC", KEY, SECRET, NOW, timedelta(hours=1), base))
        assert (status, body) == (200, (tmp_path / "src.bin").read_bytes())
    finally:
        srv.shutdown()
        srv.server_close()
