"""The address index: incremental updates, a rewritten mbox, a stale index still exact, lookups that read
only the subject's messages, threads and body mentions."""

from __future__ import annotations

import gzip
import os
import shutil
import time
from pathlib import Path

import pytest

from extractors.mail import MailSource
from extractors.mail.archive import open_archive
from extractors.mail.files import LocalFiles
from extractors.mail.index import read_headers
from extractors.records import Subject
from flows.demo.company import DemoCompany, generate_company
from tests.extractors.mail_archives import CountingDirectoryFiles, CountingFiles, write_format

MATTI = Subject("matti@example.fi")


def mail(msgid: str, sender: str, to: str, body: str = "Hei.", reply_to: str | None = None) -> bytes:
    thread = f"In-Reply-To: <{reply_to}>\nReferences: <{reply_to}>\n" if reply_to else ""
    return (f"From: {sender}\nTo: {to}\nSubject: Asia\nMessage-ID: <{msgid}>\n{thread}"
            f"Content-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


def append_mbox(path: Path, *messages: bytes) -> None:
    with path.open("ab") as out:
        for raw in messages:
            out.write(b"From sender@example.invalid Tue Apr  2 11:15:00 2024\n" + raw + b"\n")


THREAD = [
    mail("t1@example.fi", "Matti <matti@example.fi>", "tuki@kauppa.fi"),
    mail("t2@kauppa.fi", "tuki@kauppa.fi", "varasto@kauppa.fi", "Tarkistatko tilauksen?", reply_to="t1@example.fi"),
    mail("t3@kauppa.fi", "varasto@kauppa.fi", "tuki@kauppa.fi", "Lähti eilen.", reply_to="t2@kauppa.fi"),
    mail("x1@example.fi", "teppo@example.fi", "tuki@kauppa.fi", "Matti (matti@example.fi) suositteli teitä."),
    mail("x2@example.fi", "liisa@example.fi", "tuki@kauppa.fi"),
]


def source(tmp_path: Path, **settings: object) -> MailSource:
    return MailSource("support_mail", {"path": "support.mbox", **settings}, tmp_path, {})


def ids(found: MailSource, subject: Subject = MATTI) -> list[str]:
    return [record.key for record in found.records(subject)]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> DemoCompany:
    return generate_company(tmp_path_factory.mktemp("company"), messages=300)


def test_mbox_update_reads_only_what_was_appended(tmp_path: Path) -> None:
    append_mbox(tmp_path / "support.mbox", *THREAD[:2])
    mbox = source(tmp_path)
    assert (mbox.update_index().parsed, mbox.update_index().parsed) == (2, 0)
    append_mbox(tmp_path / "support.mbox", *THREAD[2:])
    stats = mbox.update_index()
    assert (stats.parsed, stats.total, stats.rebuilt) == (3, 5, None)
    assert ids(mbox) == ["t1@example.fi"]
    assert ids(mbox, Subject("varasto@kauppa.fi")) == ["t2@kauppa.fi", "t3@kauppa.fi"]
    assert mbox.notes() == {"index": "fresh", "scanned": 0}


def test_a_rewritten_mbox_is_rebuilt_and_ignored_until_then(tmp_path: Path) -> None:
    append_mbox(tmp_path / "support.mbox", *THREAD)
    mbox = source(tmp_path)
    mbox.update_index()
    (tmp_path / "support.mbox").unlink()
    append_mbox(tmp_path / "support.mbox", THREAD[4], THREAD[0], mail("n@example.fi", "matti@example.fi", "a@b.fi"))
    assert ids(mbox) == ["t1@example.fi", "n@example.fi"]  # exact: the index no longer matches, so a full scan
    assert mbox.notes() == {"index": "rewritten", "scanned": 3}
    stats = mbox.update_index()
    assert (stats.rebuilt, stats.parsed, stats.total) == ("rewritten", 3, 3)
    assert ids(mbox) == ["t1@example.fi", "n@example.fi"]
    assert mbox.notes() == {"index": "fresh", "scanned": 0}


def test_a_stale_index_is_used_for_what_it_covers_and_the_tail_is_scanned(tmp_path: Path) -> None:
    append_mbox(tmp_path / "support.mbox", *THREAD)
    mbox = source(tmp_path)
    mbox.update_index()
    append_mbox(tmp_path / "support.mbox", mail("late@example.fi", "tuki@kauppa.fi", "MATTI@example.fi"),
                mail("other@example.fi", "a@b.fi", "c@d.fi"))
    assert ids(mbox) == ["t1@example.fi", "late@example.fi"]
    assert mbox.notes() == {"index": "stale", "scanned": 2}


@pytest.mark.parametrize("fmt", ["maildir", "eml"])
def test_file_archives_update_by_name_and_version(company: DemoCompany, tmp_path: Path, fmt: str) -> None:
    root = write_format(company.mail_archive, tmp_path / "archive", fmt)
    files = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    expected = ids(files, Subject(company.subject_email))
    readme = fmt == "eml"  # a file in a tree that is not mail is indexed too: its first lines may name someone
    assert files.update_index().parsed == 300 + readme
    assert files.update_index().parsed == 0
    names = sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new", "0", "1", "2", "3"))
    if fmt == "maildir":  # reading a message renames it: new/ -> cur/ with flags, the message unchanged
        fresh = next(p for p in names if p.parent.name == "new")
        fresh.rename(root / "cur" / (fresh.name + ":2,S"))
    deleted = names[-1] if names[-1].exists() else names[-2]
    gone = read_headers(deleted.read_bytes()).message_id
    deleted.unlink()
    (names[0].parent / "zz-new.eml").write_bytes(mail("new@example.fi", company.subject_email, "tuki@kauppa.fi"))
    expected = [key for key in expected if key != gone] + ["new@example.fi"]
    assert sorted(ids(files, Subject(company.subject_email))) == sorted(expected)
    assert files.notes()["index"] == "stale"
    stats = files.update_index()
    assert (stats.parsed, stats.removed, stats.total) == (1, 1, 300 + readme)
    assert sorted(ids(files, Subject(company.subject_email))) == sorted(expected)
    assert files.notes() == {"index": "fresh", "scanned": 0}


@pytest.fixture(scope="module")
def bigger(tmp_path_factory: pytest.TempPathFactory) -> DemoCompany:
    return generate_company(tmp_path_factory.mktemp("bigger"), messages=4000)


# .gz is left out: zran reads compressed blocks from the seek point before each message, so on an archive this
# small it reads more than the file; bench/bench_mail.py measures it at size.
@pytest.mark.parametrize("fmt", ["mbox", "maildir", "eml"])
def test_a_lookup_reads_only_the_subjects_messages(bigger: DemoCompany, tmp_path: Path, fmt: str) -> None:
    root = write_format(bigger.mail_archive, tmp_path / "archive", fmt)
    files = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    files.update_index()
    counting = CountingFiles(LocalFiles("support_mail", root))
    files.archive = lambda: open_archive(counting)  # type: ignore[method-assign]
    found = list(files.records(Subject(bigger.subject_email)))
    assert found and files.notes()["scanned"] == 0
    if fmt in ("maildir", "eml"):
        sniffed = 1 if fmt == "eml" else 0  # a tree's first file tells it is mail
        assert len(counting.opened) == len(found) + sniffed  # one open per message found, none for the rest
    else:
        # The format's sniff and the fingerprint (64 KiB each), then the messages.
        whole, fixed = root.stat().st_size, 3 * 64 << 10
        assert counting.bytes_read - fixed < whole / 4, (counting.bytes_read, whole)


def aged(root: Path) -> Path:
    """`root` as an archive last changed an hour ago: its directories' mtimes are no longer racy."""
    hour_ago = time.time_ns() - 3600 * 10**9
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        os.utime(folder, ns=(hour_ago, hour_ago))
    return root


def counted(root: Path, monkeypatch: pytest.MonkeyPatch) -> CountingDirectoryFiles:
    """Every later lookup of "support_mail" goes through one counting wrapper of the local archive."""
    counting = CountingDirectoryFiles(LocalFiles("support_mail", root))
    monkeypatch.setattr("extractors.mail.source.open_files", lambda *_: counting)
    return counting


def scanned(tmp_path: Path, subject: Subject) -> list[str]:
    """What a scan without an index finds: the exact set."""
    scan = MailSource("support_mail", {"path": "archive", "index": "no-index.sqlite"}, tmp_path, {})
    found = sorted(ids(scan, subject))
    assert scan.notes()["index"] == "missing"
    return found


def mine(root: Path, folder: str, email: str) -> list[Path]:
    return sorted(p for p in (root / folder).iterdir() if email.encode() in p.read_bytes().lower())


@pytest.mark.parametrize("fmt", ["maildir", "eml"])
def test_an_unchanged_directory_archive_is_looked_up_with_a_stat_per_directory(
        company: DemoCompany, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = aged(write_format(company.mail_archive, tmp_path / "archive", fmt))
    subject = Subject(company.subject_email)
    expected = scanned(tmp_path, subject)
    files = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    files.update_index()
    counting = counted(root, monkeypatch)
    assert sorted(ids(files, subject)) == expected and expected
    assert files.notes() == {"index": "fresh", "scanned": 0}
    # No file listed, no folder listed, not even to tell the format: only the subject's files stat'ed and read.
    assert (counting.listed, counting.dirs_listed) == (0, [])
    assert sorted(counting.stated) == sorted(counting.opened) and len(counting.opened) == len(expected)


def test_a_maildir_whose_server_rewrote_a_file_at_its_top_lists_only_its_top(
        company: DemoCompany, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = aged(write_format(company.mail_archive, tmp_path / "archive", "maildir"))
    (root / "dovecot-uidlist").write_bytes(b"3 V1 N1\n")
    aged(root)
    subject = Subject(company.subject_email)
    expected = scanned(tmp_path, subject)
    files = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    files.update_index()
    (root / "dovecot-uidlist.tmp").write_bytes(b"3 V1 N2\n")  # Dovecot's rewrite: write, then rename over
    (root / "dovecot-uidlist.tmp").rename(root / "dovecot-uidlist")
    counting = counted(root, monkeypatch)
    assert sorted(ids(files, subject)) == expected and expected
    assert files.notes() == {"index": "fresh", "scanned": 0}  # its top changed; no message did
    assert set(counting.dirs_listed) == {""}  # the top (is it still a Maildir? what is new there?), no mail folder


def test_a_maildir_that_gains_mail_at_its_top_is_read_as_a_tree(
        company: DemoCompany, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = aged(write_format(company.mail_archive, tmp_path / "archive", "maildir"))
    files = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    files.update_index()
    email = company.subject_email
    (root / "saved.eml").write_bytes(mail("saved@example.fi", "tuki@kauppa.fi", email))
    expected = scanned(tmp_path, Subject(email))
    assert "saved@example.fi" in expected
    assert sorted(ids(files, Subject(email))) == expected


def test_maildir_changes_since_the_index_are_read_from_the_changed_folders_only(
        company: DemoCompany, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = aged(write_format(company.mail_archive, tmp_path / "archive", "maildir"))
    email = company.subject_email
    files = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    files.update_index()
    read = mine(root, "new", email)[0]  # the client reads it: new/ -> cur/ with a flag
    read.rename(root / "cur" / (read.name + ":2,S"))
    deleted = mine(root, "cur", email)[0]
    gone = read_headers(deleted.read_bytes()).message_id
    deleted.unlink()
    (root / "new" / "1800000000.M1P1.host").write_bytes(mail("delivered@example.fi", "tuki@kauppa.fi", email))
    (root / ".Sent" / "cur").mkdir(parents=True)  # a Maildir++ folder made since: its parent changed
    (root / ".Sent" / "cur" / "1800000001.M2P1.host:2,S").write_bytes(mail("sent@kauppa.fi", "tuki@kauppa.fi", email))
    expected = scanned(tmp_path, Subject(email))
    assert "delivered@example.fi" in expected and "sent@kauppa.fi" in expected and gone not in expected
    counting = counted(root, monkeypatch)
    assert sorted(ids(files, Subject(email))) == expected
    assert files.notes() == {"index": "stale", "scanned": 3}  # the delivery, the renamed one, the new folder's
    assert counting.listed <= 1  # the format's sniff stops at the first file
    # Its top changed, so the format is told again from the folders' names (mail outside cur/ and new/ would
    # make it a tree); the lookup then lists what changed. Names only: no stat per file.
    assert set(counting.dirs_listed) <= {"", ".Sent", ".Sent/cur", "cur", "new", "tmp"}
    assert len(counting.stated) < len(expected) + 5  # the subject's files and the new ones, not the archive's


def test_a_file_gone_from_an_unchanged_folder_falls_back_to_listing_every_file(
        company: DemoCompany, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = aged(write_format(company.mail_archive, tmp_path / "archive", "eml"))
    email = company.subject_email
    files = MailSource("support_mail", {"path": "archive"}, tmp_path, {})
    files.update_index()
    deleted = mine(root, "1", email)[0]
    gone = read_headers(deleted.read_bytes()).message_id
    folder = deleted.parent.stat()
    deleted.unlink()
    # Its folder's mtime set back, as a restore from a backup may: the folder looks unchanged.
    os.utime(deleted.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    expected = scanned(tmp_path, Subject(email))
    assert gone not in expected
    counting = counted(root, monkeypatch)
    assert sorted(ids(files, Subject(email))) == expected
    assert files.notes()["index"] == "stale"
    assert counting.listed == 300  # every file (299 left and the README): the index trusted no further


def test_threads_bring_the_whole_conversation(tmp_path: Path) -> None:
    append_mbox(tmp_path / "support.mbox", *THREAD)
    plain, threads = source(tmp_path), source(tmp_path, threads=True)
    assert ids(plain) == ["t1@example.fi"]
    assert ids(threads) == ["t1@example.fi", "t2@kauppa.fi", "t3@kauppa.fi"]  # without an index: two passes
    plain.update_index()
    assert ids(plain) == ["t1@example.fi"]
    assert ids(threads) == ["t1@example.fi", "t2@kauppa.fi", "t3@kauppa.fi"]
    append_mbox(tmp_path / "support.mbox", mail("t4@kauppa.fi", "tuki@kauppa.fi", "x@y.fi", reply_to="t3@kauppa.fi"))
    assert ids(threads) == ["t1@example.fi", "t2@kauppa.fi", "t3@kauppa.fi", "t4@kauppa.fi"]  # from the tail


def test_body_mentions_are_a_second_pass_when_configured(tmp_path: Path) -> None:
    append_mbox(tmp_path / "support.mbox", *THREAD)
    source(tmp_path).update_index()
    assert ids(source(tmp_path)) == ["t1@example.fi"]
    assert ids(source(tmp_path, body_mentions=True)) == ["t1@example.fi", "x1@example.fi"]


def test_headers_give_every_address_form_and_the_thread_ids() -> None:
    raw = (b"From: \"Meik\xc3\xa4l\xc3\xa4inen, Matti\" <Matti@Example.FI>\r\nTo: liisa @ example.fi,\r\n"
           b" =?utf-8?q?J=C3=BCrgen?= <j\xc3\xbcrgen@b\xc3\xbccher.de>\r\nSender: a@(comment)b.fi\r\n"
           b"Message-ID: <m1@x>\r\nReferences: <r1@x>\r\n <r2@x>\r\n\r\nbody@mention.fi\r\n")
    headers = read_headers(raw)
    assert {"matti@example.fi", "liisa@example.fi", "jürgen@bücher.de", "a@b.fi"} <= headers.addresses
    assert "body@mention.fi" not in headers.addresses
    assert (headers.message_id, headers.refs) == ("m1@x", ("r1@x", "r2@x"))


def test_an_unparseable_message_naming_the_subject_is_withheld_through_the_index(tmp_path: Path) -> None:
    broken = mail("b1@example.fi", "tuki@kauppa.fi", "Matti@Example.fi").replace(
        b"Content-Type: text/plain; charset=utf-8", b"Content-Type: text/plain; charset*")
    append_mbox(tmp_path / "support.mbox", broken, THREAD[4])
    mbox = source(tmp_path)
    before = [(r.category, r.key) for r in mbox.records(MATTI)]
    mbox.update_index()
    assert [(r.category, r.key) for r in mbox.records(MATTI)] == before
    assert before[0][0] == "withheld"


def test_the_gz_seek_index_is_kept_beside_the_address_index(company: DemoCompany, tmp_path: Path) -> None:
    write_format(company.mail_archive, tmp_path / "support.mbox.gz", "mbox.gz")
    gz = MailSource("support_mail", {"path": "support.mbox.gz", "index": "idx/mail.sqlite"}, tmp_path, {})
    gz.update_index()
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == [
        "mail.sqlite", "mail.sqlite.gzidx", "mail.sqlite.lock"]
    shutil.copyfile(company.mail_archive, tmp_path / "plain.mbox")
    plain = MailSource("support_mail", {"path": "plain.mbox"}, tmp_path, {})
    assert ids(gz, Subject(company.subject_email)) == ids(plain, Subject(company.subject_email))


def test_a_gz_archive_that_grows_by_another_member_is_updated(tmp_path: Path) -> None:
    def mbox_bytes(*messages: bytes) -> bytes:
        return b"".join(b"From sender@example.invalid Tue Apr  2 11:15:00 2024\n" + raw + b"\n" for raw in messages)

    (tmp_path / "support.mbox.gz").write_bytes(gzip.compress(mbox_bytes(*THREAD)))
    gz = MailSource("support_mail", {"path": "support.mbox.gz"}, tmp_path, {})
    assert gz.update_index().parsed == 5
    with (tmp_path / "support.mbox.gz").open("ab") as out:  # `gzip >>` appends a member
        out.write(gzip.compress(mbox_bytes(mail("late@example.fi", "a@b.fi", "matti@example.fi"), THREAD[4])))
    assert ids(gz) == ["t1@example.fi", "late@example.fi"]
    assert gz.notes() == {"index": "stale", "scanned": 2}
    stats = gz.update_index()
    assert (stats.parsed, stats.total, stats.rebuilt) == (2, 7, None)
    assert ids(gz) == ["t1@example.fi", "late@example.fi"]
    assert gz.notes() == {"index": "fresh", "scanned": 0}
