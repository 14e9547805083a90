"""Mail archives in every format under s3:// (moto's server over HTTP) read as they are on disk, indexed in S3."""

import gzip
from pathlib import Path

import pytest

from extractors.errors import SourceConfigError
from extractors.mail import MailSource
from extractors.mail.index_store import INDEX_SUFFIX
from extractors.records import Subject

SUBJECT = Subject("matti@example.fi")
FORMATS = ["mbox", "mbox.gz", "maildir", "eml"]


@pytest.fixture
def environ(s3_bucket):
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-north-1",
            "AWS_ENDPOINT_URL": s3_bucket.endpoint_url}


def message(n: int) -> bytes:
    """Every third message is the subject's, in From, To or Cc in turn; the others are strangers'."""
    sender = "matti@example.fi" if n % 9 == 0 else f"asiakas{n}@example.com"
    to = "Matti <MATTI@example.fi>" if n % 9 == 3 else "tuki@kauppa.fi"
    cc = "\nCc: matti@example.fi" if n % 9 == 6 else ""
    body = "Hei!\n" + f"rivi {n}\n" * (n % 7) + ("From the start of a line\n" if n % 5 == 0 else "")
    return (f"From: {sender}\nTo: {to}{cc}\nSubject: Viesti {n}\nDate: Tue, 02 Apr 2024 11:15:00 +0300\n"
            f"Message-ID: <m{n}@kauppa.fi>\n\n{body}").encode()


def mbox(numbers) -> bytes:
    return b"".join(b"From sender@example.invalid Tue Apr  2 11:15:00 2024\n"
                    + message(n).replace(b"\nFrom ", b"\n>From ") + b"\n" for n in numbers)


def archive_files(kind: str, numbers) -> dict[str, bytes]:
    """The archive's files by '/'-separated name ("" for a single file)."""
    if kind == "mbox":
        return {"": mbox(numbers)}
    if kind == "mbox.gz":
        return {"": gzip.compress(mbox(numbers), mtime=0)}
    if kind == "maildir":
        return {f"{'cur' if n % 2 else 'new'}/1712045700.{n}.host{':2,S' if n % 2 else ''}": message(n)
                for n in numbers}
    return {f"{2024 + n % 3}/viesti-{n}.eml": message(n) for n in numbers}


def write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name if name else root
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def upload(s3_bucket, key: str, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=f"{key}/{name}" if name else key, Body=data)


def found(source: MailSource) -> list[str]:
    return sorted(record.key for record in source.records(SUBJECT))


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_in_s3_gives_the_messages_it_gives_on_disk_with_and_without_its_index(
        kind, s3_bucket, environ, tmp_path):
    files = archive_files(kind, range(60))
    write(tmp_path / "disk" / "archive", files)
    upload(s3_bucket, f"mail/{kind}", files)
    on_disk = MailSource("support", {"path": "archive"}, tmp_path / "disk", {})
    in_s3 = MailSource("support", {"path": f"s3://{s3_bucket.name}/mail/{kind}"}, tmp_path / "s3", environ)

    expected = sorted(f"m{n}@kauppa.fi" for n in range(0, 60, 3))
    assert found(on_disk) == expected
    assert found(in_s3) == expected and in_s3.notes()["index"] == "missing"

    stats = in_s3.update_index()
    assert stats.total == 60
    assert found(in_s3) == expected and in_s3.notes() == {"index": "fresh", "scanned": 0}
    # The index went up beside the archive, never under its prefix.
    listed = s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name, Prefix=f"mail/{kind}")["Contents"]
    assert f"mail/{kind}{INDEX_SUFFIX}" in {item["Key"] for item in listed}


def test_a_second_host_fetches_the_published_index_and_reads_only_what_it_names(s3_bucket, environ, tmp_path):
    upload(s3_bucket, "mail/support.mbox.gz", archive_files("mbox.gz", range(90)))
    location = {"path": f"s3://{s3_bucket.name}/mail/support.mbox.gz"}
    MailSource("support", location, tmp_path / "builder", environ).update_index()

    reader = MailSource("support", location, tmp_path / "reader", environ)  # a fresh cache directory
    assert found(reader) == sorted(f"m{n}@kauppa.fi" for n in range(0, 90, 3))
    assert reader.notes() == {"index": "fresh", "scanned": 0}
    # The .gz archive's seek points came with the index.
    assert Path(f"{reader.index_path}.gzidx").is_file()


def test_indexing_by_key_and_etag_adds_new_objects_rereads_changed_ones_and_drops_deleted_ones(
        s3_bucket, environ, tmp_path):
    files = archive_files("maildir", range(30))
    upload(s3_bucket, "maildir", files)
    source = MailSource("support", {"path": f"s3://{s3_bucket.name}/maildir"}, tmp_path, environ)
    first = source.update_index()
    assert (first.parsed, first.removed, first.total) == (30, 0, 30)
    assert source.update_index().parsed == 0  # nothing changed: nothing read

    numbers = {name: int(name.split(".")[1]) for name in files}
    changed, deleted = sorted(files)[:2]
    s3 = s3_bucket.client
    s3.put_object(Bucket=s3_bucket.name, Key="maildir/new/1712045800.99.host", Body=message(99))
    s3.put_object(Bucket=s3_bucket.name, Key=f"maildir/{changed}",
                  Body=message(numbers[changed]).replace(b"Viesti", b"Re: Viesti"))
    s3.delete_object(Bucket=s3_bucket.name, Key=f"maildir/{deleted}")
    # Another host picks the index up from S3 and brings it up to date.
    again = MailSource("support", {"path": f"s3://{s3_bucket.name}/maildir"}, tmp_path / "other", environ)
    second = again.update_index()
    assert (second.parsed, second.removed, second.total) == (2, 2, 30)  # a changed file: dropped, read again
    present = [n for name, n in numbers.items() if name != deleted] + [99]
    assert found(again) == sorted(f"m{n}@kauppa.fi" for n in present if n % 3 == 0)
    assert again.notes() == {"index": "fresh", "scanned": 0}


def test_a_whole_bucket_archive_needs_its_index_configured(s3_bucket, environ, tmp_path):
    with pytest.raises(SourceConfigError, match="index: an archive that is a whole bucket needs `index`"):
        MailSource("support", {"path": f"s3://{s3_bucket.name}"}, tmp_path, environ)
    local = MailSource("support", {"path": f"s3://{s3_bucket.name}", "index": "index/support.sqlite"}, tmp_path,
                       environ)
    assert local.s3_index is None and local.index_path == tmp_path / "index" / "support.sqlite"
