"""Every archive format gives the set of messages today's full scan of the plain mbox gives, with and
without an address index; what is not a readable mail archive is an error, never 0 records."""

from __future__ import annotations

import gzip
import mailbox
from pathlib import Path

import pytest

from extractors.errors import SourceUnavailable
from extractors.mail import MailSource
from extractors.mail.archive import open_archive
from extractors.mail.files import LocalFiles
from extractors.mail.parse import parse_fields
from extractors.records import EMAIL, Identifier, Subject
from flows.demo.company import DemoCompany, generate_company
from tests.extractors.mail_archives import messages_of, write_format

FORMATS = ["mbox", "mbox.gz", "maildir", "eml"]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> DemoCompany:
    return generate_company(tmp_path_factory.mktemp("company"), messages=400)


def subjects(company: DemoCompany) -> list[Subject]:
    also = Identifier(EMAIL, company.third_party_email, "customers")
    return [Subject(company.subject_email), Subject(company.third_party_email),
            Subject(company.staff_address.upper()), Subject(company.subject_email, also=(also,))]


@pytest.fixture(scope="module")
def expected(company: DemoCompany) -> list[tuple[Subject, list[str]]]:
    """What the source found before this change, per subject: Python's mailbox split, parsed, From/To/Cc/Reply-To."""
    parsed = [parse_fields(raw) for raw in messages_of(company.mail_archive)]
    found = []
    for subject in subjects(company):
        ids = sorted(data["message_id"] for data, addresses in parsed
                     if any(email in listed for listed in addresses.values() for email in subject.emails))
        assert ids, "the fixture must give every subject some mail"
        found.append((subject, ids))
    return found


def keys(source: MailSource, subject: Subject) -> list[str]:
    return sorted(record.key for record in source.records(subject))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("indexed", [False, True], ids=["scan", "index"])
def test_every_format_finds_exactly_what_the_scan_of_the_mbox_finds(
        company: DemoCompany, expected: list[tuple[Subject, list[str]]], tmp_path: Path, fmt: str, indexed: bool
) -> None:
    write_format(company.mail_archive, tmp_path / "archive", fmt)
    source = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    if indexed:
        stats = source.update_index()
        # The tree's README is held too: a file that is not mail may still name someone in its first lines.
        assert (stats.kind, stats.total, stats.rebuilt) == (fmt.replace("eml", "eml-tree"), 400 + (fmt == "eml"), "new")
    for subject, ids in expected:
        assert keys(source, subject) == ids
    assert source.notes()["index"] == ("fresh" if indexed else "missing")
    assert source.notes()["scanned"] == (0 if indexed else 400 + (fmt == "eml"))
    assert source.notes().get("not_mail", 0) == (1 if fmt == "eml" and not indexed else 0)


def test_one_eml_file(company: DemoCompany, tmp_path: Path) -> None:
    raw = next(raw for raw in messages_of(company.mail_archive) if company.subject_email.encode() in raw.lower())
    (tmp_path / "one.eml").write_bytes(raw)
    source = MailSource("support_mail", {"path": "one.eml"}, tmp_path, {})
    (record,) = source.records(Subject(company.subject_email))
    assert record.data["message_id"] == parse_fields(raw)[0]["message_id"]
    source.update_index()
    assert [r.key for r in source.records(Subject(company.subject_email))] == [record.key]
    assert list(source.records(Subject("nobody@example.invalid"))) == []


@pytest.mark.parametrize("text", [
    b"From a@b Mon Jan  1 00:00:00 2024\nSubject: first\n\nbody\n\n",
    b"From a@b Mon Jan  1 00:00:00 2024\r\nSubject: crlf\r\n\r\nbody\r\n",
    b"From a@b x\nSubject: no final newline\n\nbody",
    b"From a@b x\nFrom c@d y\nSubject: empty one before\n\n>From quoted\nFrom e@f z\n",
    b"From a@b x\n\n\nFrom c@d y\nSubject: two blank lines before\n\nb\n\n\n",
], ids=["plain", "crlf", "no-newline", "empty-message", "blank-lines"])
def test_mbox_is_split_as_pythons_mailbox_splits_it(tmp_path: Path, text: bytes) -> None:
    (tmp_path / "box").write_bytes(text)
    archive = open_archive(LocalFiles("s", tmp_path / "box"))
    ours = [stored.raw for stored in archive.messages()]
    # Python's mailbox keeps the body's ">From " quoting; ours undoes it (tests/extractors/test_mail_from_quoting.py).
    assert ours == [raw.replace(b"\n>From ", b"\nFrom ") for raw in messages_of(tmp_path / "box")]
    assert [stored.raw for stored in archive.read(s.location for s in archive.messages())] == ours


def test_mbox_split_across_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.mail.archive as archive_module

    monkeypatch.setattr(archive_module, "CHUNK", 7)
    text = b"".join(f"From x {i}\nSubject: m{i}\n\n{'From line ' * i}body\n\n".encode() for i in range(6))
    (tmp_path / "box").write_bytes(text)
    assert [s.raw for s in open_archive(LocalFiles("s", tmp_path / "box")).messages()] == messages_of(tmp_path / "box")


def _garbage_gz(path: Path) -> None:
    with gzip.open(path, "wb") as out:
        out.write(b"\x00\x01 not mail at all\n" * 100)


@pytest.mark.parametrize(("make", "path"), [
    (lambda p: None, "missing.mbox"),
    (lambda p: p.write_bytes(b""), "empty.mbox"),
    (lambda p: p.write_bytes(b"\x1f\x8b\x08\x00garbage that is no deflate stream"), "broken.mbox.gz"),
    (_garbage_gz, "garbage.mbox.gz"),
    (lambda p: p.write_text("name,email\nMatti,matti@example.fi\n"), "customers.csv"),
    (lambda p: (p.mkdir(), (p / "notes.txt").write_text("hello\n"), (p / "a.csv").write_text("x,y\n")), "dir"),
    (lambda p: p.mkdir(), "empty-dir"),
], ids=["missing", "empty", "broken-gzip", "gzip-of-garbage", "csv", "dir-of-non-mail", "empty-dir"])
def test_what_is_not_a_readable_mail_archive_is_an_error(tmp_path: Path, make, path: str) -> None:
    make(tmp_path / path)
    source = MailSource("support_mail", {"path": path}, tmp_path, {})
    with pytest.raises(SourceUnavailable, match=r"^source support_mail: ") as caught:
        list(source.records(Subject("matti@example.fi")))
    assert "matti" not in str(caught.value)
    with pytest.raises(SourceUnavailable):
        source.update_index()


def test_a_file_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    # /proc/self/mem is a regular file that refuses reads at offset 0, even for root (CI runs as root).
    source = MailSource("support_mail", {"path": "/proc/self/mem"}, tmp_path, {})
    with pytest.raises(SourceUnavailable, match="source support_mail: mail archive could not be read"):
        list(source.records(Subject("matti@example.fi")))


def test_maildir_reads_cur_and_new_and_ignores_tmp(company: DemoCompany, tmp_path: Path) -> None:
    write_format(company.mail_archive, tmp_path / "md", "maildir")
    (tmp_path / "md" / "tmp" / "x").write_bytes(f"From: {company.subject_email}\nTo: a@b.fi\n\nhi\n".encode())
    archive = open_archive(LocalFiles("s", tmp_path / "md"))
    assert archive.kind == "maildir"
    names = [s.location.name for s in archive.messages()]
    assert len(names) == 400 and all(name.split("/")[0] in ("cur", "new") for name in names)


def test_mailbox_module_agrees_on_the_maildir_fixture(company: DemoCompany, tmp_path: Path) -> None:
    write_format(company.mail_archive, tmp_path / "md", "maildir")
    theirs = sorted(mailbox.Maildir(tmp_path / "md", create=False).iterkeys())
    ours = sorted(s.key for s in open_archive(LocalFiles("s", tmp_path / "md")).messages())
    assert ours == theirs
