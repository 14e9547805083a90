"""What a mail archive must never do: read a damaged .gz as if whole, ignore files it did not recognise,
or hold a huge message (or a huge file that is not mail) in memory."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractors.errors import SourceUnavailable
from extractors.mail import MailSource
from extractors.mail.archive import open_archive
from extractors.mail.files import LocalFiles
from extractors.records import Subject
from tests.extractors.mail_archives import messages_of

ANN = "ann@example.com"
ENVELOPE = b"From x@y Thu Jan  1 00:00:00 2024\n"


def mail(sender: str, msgid: str, body: bytes = b"hi\n") -> bytes:
    return f"From: {sender}\nTo: staff@company.example\nSubject: t\nMessage-ID: <{msgid}>\n\n".encode() + body


def records(tmp_path: Path, path: str, indexed: bool, **settings: object) -> tuple[list[tuple[str, str]], dict]:
    for old in tmp_path.glob("index/*"):
        old.unlink()
    source = MailSource("m", {"path": path, **settings}, tmp_path, {})
    if indexed:
        source.update_index()
    found = [(record.category, record.key) for record in source.records(Subject(ANN))]
    return found, dict(source.notes())


@pytest.mark.parametrize("cut", [30, 400], ids=["in-trailer-region", "in-deflate-data"])
def test_a_truncated_gz_is_an_error_never_a_shorter_archive(tmp_path: Path, cut: int) -> None:
    body = b"".join(f"line {i} {os.urandom(8).hex()}\n".encode() for i in range(300))
    text = b"".join(ENVELOPE + mail(f"u{i}@x.example", f"{i}@x", body) + b"\n" for i in range(5))
    whole = gzip.compress(text + ENVELOPE + mail(ANN, "last@x") + b"\n")
    (tmp_path / "a.mbox.gz").write_bytes(whole[:-cut])
    for indexed in (False, True):
        with pytest.raises(SourceUnavailable, match=r"^source m: mail archive could not be read \(truncated gzip\)$"):
            records(tmp_path, "a.mbox.gz", indexed)


def test_an_index_built_before_the_gz_was_cut_does_not_read_the_cut_file(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(ENVELOPE + mail(ANN, f"{i}@x", os.urandom(4000).hex().encode()) + b"\n"
                                   for i in range(4)))
    (tmp_path / "a.mbox.gz").write_bytes(whole)
    source = MailSource("m", {"path": "a.mbox.gz"}, tmp_path, {})
    source.update_index()
    assert len(list(source.records(Subject(ANN)))) == 4
    (tmp_path / "a.mbox.gz").write_bytes(whole[:-2000])
    with pytest.raises(SourceUnavailable, match=r"\(truncated gzip\)"):
        list(source.records(Subject(ANN)))


@pytest.mark.parametrize("indexed", [False, True], ids=["scan", "index"])
def test_a_tree_with_a_folder_named_new_reads_every_file(tmp_path: Path, indexed: bool) -> None:
    for name, sender in [("new/1.eml", ANN), ("closed/2.eml", ANN), ("cur/3.eml", "bob@x.example")]:
        (tmp_path / "tickets" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "tickets" / name).write_bytes(mail(sender, name))
    found, _ = records(tmp_path, "tickets", indexed)
    assert found == [("messages", "closed/2.eml"), ("messages", "new/1.eml")]
    # Deeper down, new/ and cur/ are just folder names: still a tree.
    (tmp_path / "deep" / "x" / "new").mkdir(parents=True)
    (tmp_path / "deep" / "x" / "new" / "1.eml").write_bytes(mail(ANN, "a"))
    (tmp_path / "deep" / "y").mkdir()
    (tmp_path / "deep" / "y" / "2.eml").write_bytes(mail(ANN, "b"))
    assert open_archive(LocalFiles("m", tmp_path / "deep")).kind == "eml-tree"
    assert records(tmp_path, "deep", indexed)[0] == [("messages", "a"), ("messages", "b")]


def test_a_maildir_with_its_server_files_and_plus_folders_is_still_a_maildir(tmp_path: Path) -> None:
    for name in ("cur/1:2,S", "new/2", ".Sent/cur/3:2,S"):
        (tmp_path / "md" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "md" / name).write_bytes(mail(ANN, name))
    (tmp_path / "md" / "dovecot-uidlist").write_bytes(b"3 V1 N4\n")
    archive = open_archive(LocalFiles("m", tmp_path / "md"))
    assert archive.kind == "maildir"
    assert sorted(stored.key for stored in archive.messages()) == [".Sent/3", "1", "2"]


@pytest.mark.parametrize("indexed", [False, True], ids=["scan", "index"])
def test_eml_files_with_an_envelope_line_a_bom_or_a_broken_header_are_not_lost(tmp_path: Path, indexed: bool) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.eml").write_bytes(ENVELOPE + mail(ANN, "a@x"))
    (tree / "b.eml").write_bytes(b"Subject: hi\nX-Broken header line\nFrom: ann@example.com\nMessage-ID: <b@x>\n\nb\n")
    (tree / "c.eml").write_bytes(b"\xef\xbb\xbf" + mail(ANN, "c@x"))
    (tree / "d.eml").write_bytes(mail("bob@x.example", "d@x"))
    (tree / "notes.txt").write_bytes(b"nothing to see\n")
    found, notes = records(tmp_path, "tree", indexed)
    broken = hashlib.sha256((tree / "b.eml").read_bytes()).hexdigest()
    assert found == [("messages", "a@x"), ("withheld", broken), ("messages", "c@x")]
    if not indexed:  # a scan reads every file: what was not mail and not the subject's is counted, not hidden
        assert notes["not_mail"] == 1


@pytest.mark.parametrize("indexed", [False, True], ids=["scan", "index"])
@pytest.mark.parametrize("fmt", ["mbox", "mbox.gz", "eml"])
def test_a_message_over_the_limit_is_withheld_with_its_hash_and_size(tmp_path: Path, fmt: str, indexed: bool) -> None:
    big = mail(ANN, "big@x", b"".join(b"%075d\n" % i for i in range(30 * (1 << 20) // 76)))
    small = mail(ANN, "small@x")
    if fmt == "eml":
        (tmp_path / "arch").mkdir()
        (tmp_path / "arch" / "1.eml").write_bytes(big)
        (tmp_path / "arch" / "2.eml").write_bytes(small)
    else:
        text = ENVELOPE + big + b"\n" + ENVELOPE + small + b"\n"
        (tmp_path / "arch").write_bytes(gzip.compress(text, 1) if fmt == "mbox.gz" else text)
    found, _ = records(tmp_path, "arch", indexed, max_message_mib=1)
    source = MailSource("m", {"path": "arch", "max_message_mib": 1}, tmp_path, {})
    withheld = next(record for record in source.records(Subject(ANN)) if record.category == "withheld")
    assert found == [("withheld", hashlib.sha256(big).hexdigest()), ("messages", "small@x")]
    assert withheld.data == {"reason": "too_large", "sha256": hashlib.sha256(big).hexdigest(), "bytes": len(big),
                             "message_id": "big@x"}


def test_split_with_tiny_reads_and_limit_agrees_with_pythons_mailbox(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.mail.archive as archive_module

    monkeypatch.setattr(archive_module, "CHUNK", 7)
    text = b"".join(f"From x {i}\nSubject: m{i}\n\n{'From line ' * i}body\n{chr(10) * (i % 3)}".encode()
                    for i in range(12)) + b"From x\nFrom y\n\n\nFrom z"
    (tmp_path / "box").write_bytes(text)
    archive = open_archive(LocalFiles("s", tmp_path / "box"), limit=40)
    theirs = messages_of(tmp_path / "box")
    ours = list(archive.messages())
    assert len(ours) == len(theirs)
    for stored, raw in zip(ours, theirs, strict=True):
        assert stored.location.length == len(raw)
        if len(raw) > 40:
            assert stored.withheld is not None
            assert (stored.withheld.sha256, stored.withheld.size) == (hashlib.sha256(raw).hexdigest(), len(raw))
            assert stored.raw == raw.split(b"\n\n")[0]  # only the header block is kept
        else:
            assert (stored.raw, stored.withheld) == (raw, None)
        assert text[stored.location.offset:stored.location.offset + len(raw)] == raw
    assert [s.withheld or s.raw for s in archive.read(s.location for s in ours)] == \
           [s.withheld or s.raw for s in ours]


_PEAK = """
import json, re, sys
from pathlib import Path
from extractors.mail import MailSource
from extractors.records import Subject
source = MailSource("m", {"path": sys.argv[2]}, Path(sys.argv[1]), {})
if sys.argv[3] == "index":
    source.update_index()
found = [(r.category, r.data.get("bytes")) for r in source.records(Subject("ann@example.com"))]
# VmHWM, not getrusage: ru_maxrss keeps the high-water mark of the (large) pytest process across exec.
peak_kib = int(re.search(r"VmHWM:\\s*(\\d+)", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"found": found, "peak_mib": peak_kib / 1024}))
"""


@pytest.mark.parametrize("mode", ["scan", "index"])
def test_a_100_mb_message_or_junk_file_is_read_in_bounded_memory(tmp_path: Path, mode: str) -> None:
    """Peak RSS in a fresh process: the whole message held once would alone be 100 MiB (before: ~3x that)."""
    header = mail(ANN, "big@x", b"")
    line = b"A" * 76 + b"\n"
    count = 100 * (1 << 20) // len(line)
    with (tmp_path / "big.mbox").open("wb") as out:
        out.write(ENVELOPE + header)
        for _ in range(count // 1024):
            out.write(line * 1024)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.eml").write_bytes(mail(ANN, "a@x"))
    with (tmp_path / "tree" / "junk.bin").open("wb") as out:
        for _ in range(100):
            out.write(os.urandom(1 << 20))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    for path, expected in [("big.mbox", [["withheld", len(header) + count // 1024 * 1024 * len(line)]]),
                           ("tree", [["messages", None]])]:
        run = subprocess.run([sys.executable, "-c", _PEAK, str(tmp_path), path, mode],
                             capture_output=True, check=True, env=env)
        result = json.loads(run.stdout)
        assert result["found"] == expected
        assert result["peak_mib"] < 200, result
