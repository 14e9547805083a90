"""A mail archive's files under s3://bucket/prefix, read through S3Files against moto's server over HTTP."""

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.mail.files import Entry, open_files
from extractors.mail.s3files import BUFFER_SIZE, S3Files


@pytest.fixture
def environ(s3_bucket):
    """What a config's environ would carry: credentials and the endpoint, as boto3 names them."""
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-north-1",
            "AWS_ENDPOINT_URL": s3_bucket.endpoint_url}


def put(s3_bucket, key: str, body: bytes) -> str:
    return s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=key, Body=body)["ETag"].strip('"')


@pytest.fixture
def count_gets():
    """Hooks a client: the Range header of every GetObject it sends from then on, until the test ends."""
    hooked = []

    def hook(client) -> list[str]:
        ranges: list[str] = []
        client.meta.events.register("before-call.s3.GetObject",
                                    lambda params, **_: ranges.append(params["headers"].get("Range", "")),
                                    unique_id="count-gets")
        hooked.append(client)
        return ranges

    yield hook
    for client in hooked:  # clients are shared between sources with the same settings
        client.meta.events.unregister("before-call.s3.GetObject", unique_id="count-gets")


def test_a_prefix_lists_every_object_under_it_sorted_relative_with_etags_skipping_directory_markers(
        s3_bucket, environ, tmp_path):
    keys = [f"mail/cur/{n:05d}.eml" for n in range(1005)] + ["mail/new/zz.eml", "mail/a b/ä.eml"]
    with ThreadPoolExecutor(8) as pool:  # boto3's connection pool holds 10
        etags = dict(zip(keys, pool.map(lambda k: put(s3_bucket, k, k.encode()), keys), strict=True))
    put(s3_bucket, "mail/cur/", b"")  # a "directory" made by a console
    put(s3_bucket, "mailbox-other/x.eml", b"not ours")
    put(s3_bucket, "mail.dsar-index.sqlite", b"not ours either")

    files = open_files("support", f"s3://{s3_bucket.name}/mail", tmp_path, environ)
    assert isinstance(files, S3Files) and not files.is_file
    pages: list[int] = []
    files.client.meta.events.register("after-call.s3.ListObjectsV2",
                                      lambda parsed, **_: pages.append(len(parsed.get("Contents", []))),
                                      unique_id="count-pages")
    files.page_size = 250
    try:
        entries = list(files.entries())
    finally:
        files.client.meta.events.unregister("after-call.s3.ListObjectsV2", unique_id="count-pages")

    expected = [Entry(k.removeprefix("mail/"), len(k.encode()), etags[k]) for k in sorted(keys)]
    assert entries == expected
    assert len(pages) == 5  # 1008 keys (with the marker) in pages of 250
    with files.open("a b/ä.eml") as f:
        assert f.read() == "mail/a b/ä.eml".encode()


def test_a_trailing_slash_names_the_same_prefix(s3_bucket, environ, tmp_path):
    put(s3_bucket, "maildir/cur/1:2,S", b"one")
    files = open_files("support", f"s3://{s3_bucket.name}/maildir/", tmp_path, environ)
    assert [e.name for e in files.entries()] == ["cur/1:2,S"]


def test_a_key_naming_one_object_is_that_file(s3_bucket, environ, tmp_path):
    body = os.urandom(5000)
    etag = put(s3_bucket, "archive/support.mbox", body)
    put(s3_bucket, "archive/support.mbox.dsar-index.sqlite", b"index")
    put(s3_bucket, "archive/support.mbox/stray", b"a key under it")

    files = open_files("support", f"s3://{s3_bucket.name}/archive/support.mbox", tmp_path, environ)
    assert files.is_file
    assert list(files.entries()) == [Entry("", 5000, etag)]
    with files.open("") as f:
        assert f.read() == body


def test_seeks_and_reads_across_buffer_boundaries_give_the_objects_bytes(s3_bucket, environ, tmp_path):
    body = os.urandom(3 * BUFFER_SIZE + 12345)
    put(s3_bucket, "big.mbox", body)
    files = S3Files("support", f"s3://{s3_bucket.name}/big.mbox", environ)
    with files.open("") as f:
        assert f.seekable()
        for offset, length in [(0, 10), (BUFFER_SIZE - 5, 10), (2 * BUFFER_SIZE - 1, BUFFER_SIZE + 2),
                               (len(body) - 7, 100), (17, 2 * BUFFER_SIZE)]:
            f.seek(offset)
            assert f.read(length) == body[offset:offset + length]
            assert f.tell() == min(offset + length, len(body))
        f.seek(-100, io.SEEK_END)
        assert f.read() == body[-100:]
        assert f.read(1) == b""
        f.seek(len(body) + 10)
        assert f.read(10) == b""
        newline = body.index(b"\n", BUFFER_SIZE)
        f.seek(BUFFER_SIZE - 2)
        assert f.readline() == body[BUFFER_SIZE - 2:newline + 1]


def test_a_lookup_reading_a_few_messages_by_offset_fetches_a_few_small_ranges(s3_bucket, environ, count_gets):
    body = os.urandom(8 * 1024 * 1024)
    put(s3_bucket, "big.mbox", body)
    files = S3Files("support", f"s3://{s3_bucket.name}/big.mbox", environ)
    ranges = count_gets(files.client)
    slices = [(100, 3000), (2_000_000, 50_000), (5_000_000, 400_000), (8 * 1024 * 1024 - 2000, 2000)]
    with files.open("") as f:
        for offset, length in slices:
            f.seek(offset)
            assert f.read(length) == body[offset:offset + length]
    # One GET per message; a message longer than the buffer takes a second for its tail.
    assert len(ranges) == len(slices) + sum(length > BUFFER_SIZE for _, length in slices)
    fetched = sum(int(b) - int(a) + 1 for a, b in (r.removeprefix("bytes=").split("-") for r in ranges))
    assert fetched <= 2 * 1024 * 1024  # a quarter of the object, never all of it


def test_reading_an_object_from_start_to_end_takes_few_gets(s3_bucket, environ, count_gets):
    body = os.urandom(20 * 1024 * 1024)
    put(s3_bucket, "big.mbox", body)
    files = S3Files("support", f"s3://{s3_bucket.name}/big.mbox", environ)
    ranges = count_gets(files.client)
    digest = hashlib.sha256()
    with files.open("") as f:
        while chunk := f.read(8192):
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(body).digest()
    # Ranges double while reads go on in order: 256 KiB, 512 KiB, ... rather than 80 buffers' worth.
    assert len(ranges) <= 8


def test_a_stream_refuses_to_mix_two_versions_of_an_object(s3_bucket, environ, tmp_path):
    put(s3_bucket, "box.mbox", os.urandom(2 * BUFFER_SIZE))
    files = S3Files("support", f"s3://{s3_bucket.name}/box.mbox", environ)
    with files.open("") as f:
        f.read(10)
        put(s3_bucket, "box.mbox", os.urandom(2 * BUFFER_SIZE))
        f.seek(BUFFER_SIZE + 1)
        with pytest.raises(SourceUnavailable, match="changed in S3 while being read"):
            f.read(10)


def test_a_missing_bucket_is_an_error_naming_the_source_and_bucket(s3_bucket, environ, tmp_path):
    with pytest.raises(SourceUnavailable, match=r"^source support: mail archive not found in S3 "
                                                r"\(bucket no-such-bucket-x: NoSuchBucket\)$"):
        open_files("support", "s3://no-such-bucket-x/mail", tmp_path, environ)


def test_a_prefix_with_no_objects_is_an_error_that_never_prints_the_key(s3_bucket, environ, tmp_path):
    put(s3_bucket, "mail/", b"")  # only a directory marker
    put(s3_bucket, "mailbox/a.eml", b"another prefix")
    for prefix in ("Matti Meikäläinen", "mail"):
        with pytest.raises(SourceUnavailable, match="mail archive not found in S3") as raised:
            list(open_files("support", f"s3://{s3_bucket.name}/{prefix}", tmp_path, environ).entries())
        assert "Matti" not in str(raised.value) and f"{s3_bucket.name}: no objects" in str(raised.value)


def test_an_unreachable_endpoint_is_an_error(s3_bucket, environ, tmp_path):
    from tests.support import free_port

    environ = {**environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(SourceUnavailable, match=r"S3 endpoint unreachable \(bucket b\)"):
        open_files("support", "s3://b/mail", tmp_path, environ)


def test_credentials_come_from_the_sources_environ(s3_bucket, environ, tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    put(s3_bucket, "one.eml", b"x")
    assert open_files("support", f"s3://{s3_bucket.name}/one.eml", tmp_path, environ).is_file
    without = {k: v for k, v in environ.items() if not k.startswith("AWS_ACCESS") and not k.startswith("AWS_SECRET")}
    with pytest.raises(SourceUnavailable, match="no AWS credentials"):
        open_files("support", f"s3://{s3_bucket.name}/one.eml", tmp_path, without)


@pytest.mark.parametrize("location", ["s3://", "s3:///key", "s3://bucket/key?versionId=1"])
def test_a_malformed_location_names_the_setting(location, tmp_path):
    with pytest.raises(SourceConfigError, match="path: an S3 location reads s3://bucket/prefix"):
        open_files("support", location, tmp_path, {})
