"""The address index against what real archives and real operators do: unusual but valid addresses,
mail delivered while it is built, odd directory and file names, two updates at once, a damaged index."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from extractors.errors import SourceUnavailable
from extractors.mail import MailSource
from extractors.mail.index import read_headers
from extractors.records import Subject

FROM_LINE = b"From sender@example.invalid Tue Apr  2 11:15:00 2024\n"


def mail(msgid: str, sender: str, to: str, body: str = "Hei.") -> bytes:
    return (f"From: {sender}\nTo: {to}\nSubject: Asia\nMessage-ID: <{msgid}>\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


def append_mbox(path: Path, *messages: bytes) -> None:
    with path.open("ab") as out:
        for raw in messages:
            out.write(FROM_LINE + raw + b"\n")


def found(source: MailSource, email: str) -> list[tuple[str, object]]:
    return [(record.key, record.data.get("body")) for record in source.records(Subject(email))]


def keys(source: MailSource, email: str) -> list[str]:
    return [key for key, _ in found(source, email)]


ODD = ["o'brien@example.com", "a&b@example.com", "joe{x}@example.com", "x=y/z@example.com", "f!#$*?^`|~@example.com"]


@pytest.mark.parametrize("address", ODD)
def test_every_atext_local_part_is_found_through_the_index_as_by_a_scan(tmp_path: Path, address: str) -> None:
    append_mbox(tmp_path / "a.mbox", mail("1@x", address, "tuki@kauppa.fi"),
                mail("2@x", "tuki@kauppa.fi", f"=?utf-8?q?Joe?= <{address}>"),
                mail("3@x", "tuki@kauppa.fi", f"'brien@example.com', {address.split('@')[0][1:]}@example.com"))
    box = MailSource("m", {"path": "a.mbox"}, tmp_path, {})
    scanned = keys(box, address)
    box.update_index()
    assert keys(box, address) == scanned == ["1@x", "2@x"]
    assert box.notes() == {"index": "fresh", "scanned": 0}


def test_an_address_inside_quotes_or_after_an_equals_sign_is_still_indexed() -> None:
    headers = read_headers(b"Received: by mx; for 'ann@example.com'; x=bob@example.com\nFrom: a&b@example.com\n\n")
    assert {"ann@example.com", "bob@example.com", "a&b@example.com"} <= headers.addresses


def test_mail_delivered_while_the_index_is_built_is_found_once(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("extractors.mail.index.BATCH", 1)  # a progress call after the first message
    mbox = tmp_path / "a.mbox"
    append_mbox(mbox, *(mail(f"{no}@x", f"u{no}@example.com", "tuki@kauppa.fi") for no in range(3)))
    box = MailSource("m", {"path": "a.mbox"}, tmp_path, {})

    def deliver(count: int) -> None:
        if count == 1:
            append_mbox(mbox, mail("late@x", "ann@example.com", "tuki@kauppa.fi"))

    assert box.update_index(deliver).parsed == 3
    assert keys(box, "ann@example.com") == ["late@x"]  # not indexed and scanned again: no "late@x#2"
    assert box.notes() == {"index": "stale", "scanned": 1}
    assert box.update_index().parsed == 1
    assert keys(box, "ann@example.com") == ["late@x"]
    assert box.notes() == {"index": "fresh", "scanned": 0}


def test_a_delivery_in_progress_is_left_for_the_next_run(tmp_path: Path) -> None:
    mbox = tmp_path / "a.mbox"
    append_mbox(mbox, mail("1@x", "u@example.com", "tuki@kauppa.fi"))
    whole = FROM_LINE + mail("big@x", "ann@example.com", "tuki@kauppa.fi", "PART ONE\nPART TWO") + b"\n"
    cut = whole.index(b"PART TWO")
    with mbox.open("ab") as out:
        out.write(whole[:cut])
    box = MailSource("m", {"path": "a.mbox"}, tmp_path, {})
    assert box.update_index().parsed == 1
    with mbox.open("ab") as out:
        out.write(whole[cut:])
    assert found(box, "ann@example.com") == [("big@x", "PART ONE\nPART TWO\n")]
    assert box.notes() == {"index": "stale", "scanned": 1}
    assert box.update_index().parsed == 1
    assert found(box, "ann@example.com") == [("big@x", "PART ONE\nPART TWO\n")]
    assert box.notes() == {"index": "fresh", "scanned": 0}


@pytest.mark.parametrize("folder", ["co #1", "co?x", "co%41"])
def test_a_config_directory_with_uri_characters_holds_a_working_index(tmp_path: Path, folder: str) -> None:
    base = tmp_path / folder
    (base / "tree").mkdir(parents=True)
    (base / "tree" / "a.eml").write_bytes(mail("a@x", "ann@example.com", "tuki@kauppa.fi"))
    tree = MailSource("m", {"path": "tree"}, base, {})
    tree.update_index()
    (base / "tree" / "b.eml").write_bytes(mail("b@x", "ann@example.com", "tuki@kauppa.fi"))
    assert tree.update_index().parsed == 1
    assert keys(tree, "ann@example.com") == ["a@x", "b@x"]
    assert tree.notes() == {"index": "fresh", "scanned": 0}


def test_a_file_name_that_is_not_utf8_is_counted_and_still_read(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.eml").write_bytes(mail("a@x", "ann@example.com", "tuki@kauppa.fi"))
    (Path(os.fsdecode(os.fsencode(tmp_path / "tree") + b"/\xff.eml"))
     .write_bytes(mail("b@x", "ann@example.com", "tuki@kauppa.fi")))
    tree = MailSource("m", {"path": "tree"}, tmp_path, {})
    stats = tree.update_index()
    assert (stats.parsed, stats.unnamed, stats.total) == (1, 1, 1)
    assert keys(tree, "ann@example.com") == ["a@x", "b@x"]
    assert tree.update_index().unnamed == 1


def test_a_second_update_at_once_fails_clearly_and_the_first_finishes(tmp_path: Path) -> None:
    append_mbox(tmp_path / "a.mbox", mail("1@x", "ann@example.com", "tuki@kauppa.fi"))
    box = MailSource("m", {"path": "a.mbox"}, tmp_path, {})
    (tmp_path / "index").mkdir()
    with (tmp_path / "index" / "m.sqlite.lock").open("a") as held:  # what a running `dsar index mail` holds
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(SourceUnavailable, match="being updated by another process"):
            box.update_index()
        fcntl.flock(held, fcntl.LOCK_UN)
    assert not (tmp_path / "index" / "m.sqlite").exists()
    assert box.update_index().rebuilt == "new"
    assert keys(box, "ann@example.com") == ["1@x"]


def test_a_crashed_builds_part_files_are_cleared(tmp_path: Path) -> None:
    append_mbox(tmp_path / "a.mbox", mail("1@x", "ann@example.com", "tuki@kauppa.fi"))
    (tmp_path / "index").mkdir()
    for leftover in ("m.sqlite.999999.part", "m.sqlite.999999.part-wal", "m.sqlite.999999.part.gzidx.part"):
        (tmp_path / "index" / leftover).write_bytes(b"half")
    MailSource("m", {"path": "a.mbox"}, tmp_path, {}).update_index()
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == ["m.sqlite", "m.sqlite.lock"]


@pytest.mark.parametrize("damage", ["truncated", "not sqlite"])
def test_a_damaged_index_is_rebuilt(tmp_path: Path, damage: str) -> None:
    append_mbox(tmp_path / "a.mbox", *(mail(f"{no}@x", f"u{no}@example.com", "t@kauppa.fi", "x" * 300)
                                       for no in range(3000)), mail("A@x", "ann@example.com", "t@kauppa.fi"))
    box = MailSource("m", {"path": "a.mbox"}, tmp_path, {})
    box.update_index()
    index = tmp_path / "index" / "m.sqlite"
    data = index.read_bytes()
    index.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not an index" * 100)
    stats = box.update_index()
    assert (stats.rebuilt, stats.total) == ("format", 3001)
    assert keys(box, "ann@example.com") == ["A@x"]
    assert box.notes() == {"index": "fresh", "scanned": 0}


def test_maildir_flag_renames_are_followed_and_a_reused_unique_name_is_read_again(tmp_path: Path) -> None:
    box = tmp_path / "md"
    for folder in ("cur", "new", "tmp"):
        (box / folder).mkdir(parents=True)
    (box / "new" / "111.host").write_bytes(mail("1@x", "ann@example.com", "tuki@kauppa.fi"))
    maildir = MailSource("m", {"path": "md"}, tmp_path, {})
    maildir.update_index()
    os.rename(box / "new" / "111.host", box / "cur" / "111.host:2,S")
    assert maildir.update_index().parsed == 0  # a flag change: not read again
    assert keys(maildir, "ann@example.com") == ["1@x"]
    assert maildir.notes() == {"index": "fresh", "scanned": 0}
    # Another message under the same unique name and of the same size (restored from elsewhere).
    (box / "cur" / "111.host:2,S").unlink()
    (box / "new" / "111.host").write_bytes(mail("1@x", "cat@example.com", "tuki@kauppa.fi"))
    os.utime(box / "new" / "111.host", ns=(1, 1))
    assert maildir.update_index().parsed == 1
    assert (keys(maildir, "cat@example.com"), keys(maildir, "ann@example.com")) == (["1@x"], [])
    assert maildir.notes() == {"index": "fresh", "scanned": 0}


def _aged(root: Path) -> None:
    """Folder times an hour back, as on a live archive (a folder changed in the last seconds is listed anyway)."""
    past = os.stat(root).st_mtime - 3600
    for folder, _, _ in os.walk(root):
        os.utime(folder, (past, past))


def test_mail_behind_names_that_are_not_utf8_is_read_in_folders_that_did_not_change(tmp_path: Path) -> None:
    tree = os.fsencode(tmp_path / "tree")
    os.makedirs(tree + b"/ok")
    os.makedirs(tree + b"/\xff")
    for name, msgid in ((b"/ok/m.eml", "ok@x"), (b"/ok/\xfe.eml", "badname@x"), (b"/\xff/m.eml", "badfolder@x")):
        Path(os.fsdecode(tree + name)).write_bytes(mail(msgid, "ann@example.com", "tuki@kauppa.fi"))
    _aged(tmp_path / "tree")
    source = MailSource("m", {"path": "tree"}, tmp_path, {})
    assert source.update_index().unnamed == 2
    expected = ["badfolder@x", "badname@x", "ok@x"]
    assert sorted(keys(source, "ann@example.com")) == expected
    (tmp_path / "tree" / "z.eml").write_bytes(mail("z@x", "ann@example.com", "tuki@kauppa.fi"))  # the top changes
    assert sorted(keys(source, "ann@example.com")) == [*expected, "z@x"]


def test_a_crlf_mbox_indexed_twice_is_fresh(tmp_path: Path) -> None:
    with (tmp_path / "a.mbox").open("wb") as out:
        for msgid in ("1@x", "2@x"):
            out.write((FROM_LINE + mail(msgid, "ann@example.com", "tuki@kauppa.fi") + b"\n").replace(b"\n", b"\r\n"))
    box = MailSource("m", {"path": "a.mbox"}, tmp_path, {})
    assert box.update_index().parsed == 2
    assert keys(box, "ann@example.com") == ["1@x", "2@x"]
    assert box.notes() == {"index": "fresh", "scanned": 0}
