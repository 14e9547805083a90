import os
import re
from datetime import timedelta

import pytest

from exports.storage import LocalStorage, StorageSettingError, storage_from_url

KEY = "REQ-ABC/REQ-ABC.zip.age"


@pytest.fixture
def storage(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(200_000))
    store = LocalStorage(tmp_path / "store")
    store.put(src, KEY)
    return store


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
