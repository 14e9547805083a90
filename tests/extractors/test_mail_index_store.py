"""The address index kept in S3 next to its archive (moto's server over HTTP): fetched when changed, published whole."""

import sqlite3

import pytest

from extractors.errors import SourceUnavailable
from extractors.mail import index_store
from extractors.mail.index_store import cache_path, fetch, index_location, publish


@pytest.fixture
def environ(s3_bucket):
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-north-1",
            "AWS_ENDPOINT_URL": s3_bucket.endpoint_url}


def make_index(path, rows):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY, key TEXT)")
    db.executemany("INSERT INTO messages(key) VALUES (?)", [(r,) for r in rows])
    db.commit()
    db.close()


def rows(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return [r for (r,) in db.execute("SELECT key FROM messages ORDER BY id")]


def gets(client):
    """The HTTP status of every GetObject the client receives."""
    statuses: list[int] = []
    client.meta.events.register("after-call.s3.GetObject",
                                lambda http_response, **_: statuses.append(http_response.status_code))
    client.meta.events.register("after-call-error.s3.GetObject", lambda **_: statuses.append(-1))
    return statuses


def test_the_index_lives_beside_the_archive_never_under_its_prefix():
    assert index_location("s3://b/mail/support.mbox") == "s3://b/mail/support.mbox.dsar-index.sqlite"
    assert index_location("s3://b/maildir/") == "s3://b/maildir.dsar-index.sqlite"
    with pytest.raises(ValueError, match="whole bucket"):
        index_location("s3://b/")


def test_published_index_is_fetched_by_a_second_process_and_downloaded_again_only_when_it_changed(
        s3_bucket, environ, tmp_path):
    location = index_location(f"s3://{s3_bucket.name}/support.mbox")
    builder_cache, reader_cache = tmp_path / "builder", tmp_path / "reader"
    assert fetch(location, builder_cache, environ, source="support") is None  # nothing published yet

    built = cache_path(location, builder_cache)
    builder_cache.mkdir()
    make_index(built, ["a", "b"])
    publish(built, location, environ, source="support")

    client = s3_bucket.client  # this test's own client, to hook
    statuses = gets(client)
    copy = fetch(location, reader_cache, environ, source="support", client=client)
    assert copy is not None and copy.parent == reader_cache and rows(copy) == ["a", "b"]
    assert fetch(location, reader_cache, environ, source="support", client=client) == copy
    assert statuses == [200, 304]  # the second fetch asked whether it changed and downloaded nothing

    make_index(built, ["c"])  # the builder's next `dsar index mail`
    publish(built, location, environ, source="support")
    assert fetch(location, builder_cache, environ, source="support", client=client) == built  # its copy is current
    assert statuses[2:] == [304]
    assert rows(fetch(location, reader_cache, environ, source="support")) == ["a", "b", "c"]


def test_companions_travel_with_their_index_and_a_reader_between_two_uploads_fetches_again(
        s3_bucket, environ, tmp_path, monkeypatch):
    location = f"s3://{s3_bucket.name}/indexes/support.sqlite"
    built = tmp_path / "built.sqlite"
    make_index(built, ["a"])
    (tmp_path / "built.sqlite.gzidx").write_bytes(b"seek points v1")
    publish(built, location, environ, source="support", companions=[".gzidx"])

    # A second publish has put its companion up but not yet its index when the reader comes.
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key="indexes/support.sqlite.gzidx", Body=b"seek points v2")
    attempts = []
    real = index_store._fetch

    def then_the_index_lands(*args):
        attempts.append(1)
        if len(attempts) == 2:
            make_index(built, ["b"])
            (tmp_path / "built.sqlite.gzidx").write_bytes(b"seek points v2")
            publish(built, location, environ, source="support", companions=[".gzidx"])
        return real(*args)

    monkeypatch.setattr(index_store, "_fetch", then_the_index_lands)
    copy = fetch(location, tmp_path / "reader", environ, source="support", companions=[".gzidx"])
    assert len(attempts) == 2 and copy is not None
    assert rows(copy) == ["a", "b"] and (copy.parent / (copy.name + ".gzidx")).read_bytes() == b"seek points v2"
    assert sorted(p.name for p in copy.parent.iterdir() if p.name.endswith(".part")) == []


def test_a_version_without_a_companion_removes_the_stale_one(s3_bucket, environ, tmp_path):
    location = f"s3://{s3_bucket.name}/support.sqlite"
    built = tmp_path / "built.sqlite"
    make_index(built, ["a"])
    (tmp_path / "built.sqlite.gzidx").write_bytes(b"seek points")
    publish(built, location, environ, source="support", companions=[".gzidx"])
    copy = fetch(location, tmp_path / "reader", environ, source="support", companions=[".gzidx"])
    assert copy is not None and (copy.parent / (copy.name + ".gzidx")).exists()
    (tmp_path / "built.sqlite.gzidx").unlink()
    make_index(built, ["b"])
    publish(built, location, environ, source="support", companions=[".gzidx"])
    assert fetch(location, tmp_path / "reader", environ, source="support", companions=[".gzidx"]) == copy
    assert not (copy.parent / (copy.name + ".gzidx")).exists()


def test_an_index_with_changes_still_in_its_write_ahead_log_is_not_published(s3_bucket, environ, tmp_path):
    built = tmp_path / "built.sqlite"
    db = sqlite3.connect(built)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t(x)")
    db.commit()
    try:
        with pytest.raises(ValueError, match="close it before publishing"):
            publish(built, f"s3://{s3_bucket.name}/i.sqlite", environ, source="support")
    finally:
        db.close()


def test_a_missing_bucket_is_an_error_naming_the_index(s3_bucket, environ, tmp_path):
    with pytest.raises(SourceUnavailable, match=r"^source support: mail index not found in S3 \(bucket nope-x"):
        fetch("s3://nope-x/support.sqlite", tmp_path, environ, source="support")
