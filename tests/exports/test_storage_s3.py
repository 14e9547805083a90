"""S3 storage against moto's server over HTTP: what a bucket owner would check with the AWS CLI.

moto enforces neither presigned-URL expiry, nor lifecycle rules, nor the state
of a KMS key (a disabled or deleted key still "encrypts"). Those are not
ours to test here: our signed link token and the expiry sweeper enforce a
package's lifetime; these tests check what we ask S3 for.
"""

import hashlib
import os
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from exports.errors import StorageError
from exports.storage import storage_from_url
from exports.storage.s3 import PART_SIZE, S3Storage

KEY = "REQ-ABC/REQ-ABC.zip.age"
TAGS = {"request_id": "REQ-ABC", "expires_at": "2026-12-08T12:00:00Z"}


@pytest.fixture
def storage(s3_bucket, tmp_path) -> S3Storage:
    made = storage_from_url(f"s3://{s3_bucket.name}/packages", tmp_path, kms_key_id=s3_bucket.kms_key_id,
                            endpoint_url=s3_bucket.endpoint_url, region="eu-north-1")
    assert isinstance(made, S3Storage)
    return made


def pending_uploads(s3_bucket) -> list:
    return s3_bucket.client.list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads", [])


def test_a_20_mib_object_streams_up_in_parts_encrypted_with_our_kms_key_and_tagged(storage, s3_bucket):
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    with storage.writer(KEY, TAGS) as out:
        for i in range(20):
            chunk = bytes([i]) + block[1:]
            digest.update(chunk)
            out.write(chunk)
    s3, full = s3_bucket.client, "packages/" + KEY

    head = s3.head_object(Bucket=s3_bucket.name, Key=full)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(s3_bucket.kms_key_id)
    assert head["ContentLength"] == 20 << 20
    parts = s3.head_object(Bucket=s3_bucket.name, Key=full, PartNumber=1)["PartsCount"]
    assert parts == -(-(20 << 20) // PART_SIZE) == 3
    tagging = s3.get_object_tagging(Bucket=s3_bucket.name, Key=full)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tagging} == TAGS

    with storage.open(KEY) as body:
        read = hashlib.sha256()
        while chunk := body.read(1 << 20):
            read.update(chunk)
    assert read.hexdigest() == digest.hexdigest()
    assert storage.exists(KEY) and storage.size(KEY) == 20 << 20
    assert not pending_uploads(s3_bucket)


def test_a_small_object_goes_up_in_one_put_encrypted_and_tagged(storage, s3_bucket, tmp_path):
    src = tmp_path / "small.age"
    src.write_bytes(b"age-encryption.org/v1\n" + os.urandom(1000))
    ref = storage.put(src, KEY, TAGS)
    assert ref == f"s3://{s3_bucket.name}/packages/{KEY}"
    full = "packages/" + KEY
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=full)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith(s3_bucket.kms_key_id)
    assert "PartsCount" not in s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=full, PartNumber=1)
    tagging = s3_bucket.client.get_object_tagging(Bucket=s3_bucket.name, Key=full)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tagging} == TAGS
    with storage.open(KEY) as body:
        assert body.read() == src.read_bytes()


def test_an_error_inside_the_writer_leaves_no_object_and_no_pending_upload(storage, s3_bucket):
    with pytest.raises(RuntimeError, match="encryption broke"), storage.writer(KEY, TAGS) as out:
        out.write(os.urandom(PART_SIZE + 1))  # the first part is already up
        assert pending_uploads(s3_bucket), "no multipart upload was started: the test would prove nothing"
        raise RuntimeError("encryption broke")
    assert not storage.exists(KEY)
    assert not pending_uploads(s3_bucket)
    assert "Contents" not in s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)


def test_a_failed_write_leaves_the_earlier_object_as_it_was(storage):
    with storage.writer(KEY) as out:
        out.write(b"first")
    with pytest.raises(RuntimeError), storage.writer(KEY) as out:
        out.write(b"second")
        raise RuntimeError("stop")
    with storage.open(KEY) as body:
        assert body.read() == b"first"


def test_keys_and_delete(storage, s3_bucket):
    for key in ("REQ-A/REQ-A.zip.age", "REQ-B/REQ-B.zip.age", "REQ-B/other.age"):
        with storage.writer(key) as out:
            out.write(key.encode())
    # Objects outside the storage's prefix are not its keys.
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key="elsewhere/REQ-C.zip.age", Body=b"x")
    assert list(storage.keys()) == ["REQ-A/REQ-A.zip.age", "REQ-B/REQ-B.zip.age", "REQ-B/other.age"]
    assert list(storage.keys("REQ-B/")) == ["REQ-B/REQ-B.zip.age", "REQ-B/other.age"]
    storage.delete("REQ-B/REQ-B.zip.age")
    storage.delete("REQ-B/REQ-B.zip.age")  # already gone: fine
    assert list(storage.keys()) == ["REQ-A/REQ-A.zip.age", "REQ-B/other.age"]
    with pytest.raises(FileNotFoundError):
        storage.open("REQ-B/REQ-B.zip.age")
    with pytest.raises(FileNotFoundError):
        storage.size("REQ-B/REQ-B.zip.age")


def test_a_presigned_url_downloads_the_object_as_an_attachment(storage):
    data = os.urandom(300_000)
    with storage.writer(KEY, TAGS) as out:
        out.write(data)
    url = storage.presigned_url(KEY, timedelta(minutes=5))
    assert urlsplit(url).query, "not a presigned URL"
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Content-Disposition"] == 'attachment; filename="REQ-ABC.zip.age"'
    with pytest.raises(ValueError):
        storage.presigned_url(KEY, timedelta(days=8))


def test_hostile_keys_never_reach_s3(storage):
    for key in ("../x", "/etc/passwd", "a//b", ".hidden"):
        for call in (storage.writer, storage.open, storage.exists, storage.delete, storage.ref):
            with pytest.raises(ValueError):
                call(key)


def test_a_missing_bucket_is_one_error_naming_bucket_and_code(s3_bucket, tmp_path):
    gone = S3Storage("no-such-bucket-dsar", kms_key_id=s3_bucket.kms_key_id, endpoint_url=s3_bucket.endpoint_url,
                     region="eu-north-1")
    with pytest.raises(StorageError, match=r"^storage s3://no-such-bucket-dsar: NoSuchBucket$"), \
            gone.writer(KEY) as out:
        out.write(b"x")
