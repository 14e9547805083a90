"""Threads and body mentions hand over the subject's conversations and the mail naming them, and nothing
else: never another customer's reply to the same newsletter, never mail linked only through a reused
Message-ID, never a longer address that merely contains theirs; the same set with and without an index."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from extractors.mail import MailSource
from extractors.records import Subject
from flows.demo.company import generate_company
from tests.extractors.mail_archives import write_format

ANN = Subject("ann@example.com")


def mail(msgid: str, sender: str, to: str, body: str = "Hello.", refs: tuple[str, ...] = (),
         encoding: str | None = None) -> bytes:
    thread = f"In-Reply-To: <{refs[-1]}>\nReferences: {' '.join(f'<{ref}>' for ref in refs)}\n" if refs else ""
    text = body.encode()
    if encoding == "base64":
        text = base64.encodebytes(text)
    cte = f"Content-Transfer-Encoding: {encoding}\n" if encoding else ""
    return (f"From: {sender}\nTo: {to}\nSubject: Hi\nMessage-ID: <{msgid}>\n{thread}"
            f"Content-Type: text/plain; charset=utf-8\n{cte}\n").encode() + text + b"\n"


def write_mbox(path: Path, *messages: bytes) -> Path:
    with path.open("ab") as out:
        for raw in messages:
            out.write(b"From sender@example.invalid Tue Apr  2 11:15:00 2024\n" + raw + b"\n")
    return path


NEWSLETTER = [
    mail("campaign-42@co.com", "news@co.com", "list@co.com", "Our spring sale!"),
    mail("r1@example.com", "ann@example.com", "news@co.com", "Unsubscribe me.", refs=("campaign-42@co.com",)),
    mail("r2@other.org", "carl@other.org", "news@co.com", "Carl's complaint.", refs=("campaign-42@co.com",)),
    mail("r3@else.net", "dora@else.net", "news@co.com", "Dora's question.", refs=("campaign-42@co.com",)),
    # Staff discuss Ann's reply among themselves, and answer that: her conversation, without her address.
    mail("s1@co.com", "news@co.com", "support@co.com", "Please handle.", refs=("campaign-42@co.com", "r1@example.com")),
    mail("s2@co.com", "support@co.com", "news@co.com", "Done.", refs=("s1@co.com",)),
    # A reply to Dora's: her thread, not Ann's.
    mail("s3@co.com", "support@co.com", "dora@else.net", "Answered.", refs=("campaign-42@co.com", "r3@else.net")),
]
ANNS = ["campaign-42@co.com", "r1@example.com", "s1@co.com", "s2@co.com"]


def lookup(root: Path, path: str, subject: Subject, indexed: bool, **settings: object) -> list[str]:
    found = MailSource("support_mail", {"path": path, **settings}, root, {})
    if indexed:
        found.update_index()
    keys = sorted(record.key for record in found.records(subject))
    assert found.notes()["index"] == ("fresh" if indexed else "missing")
    return keys


@pytest.mark.parametrize("fmt", ["mbox", "mbox.gz", "maildir", "eml"])
@pytest.mark.parametrize("indexed", [False, True])
def test_threads_bring_what_the_subject_replied_to_and_the_replies_never_a_sibling(
        tmp_path: Path, fmt: str, indexed: bool) -> None:
    write_format(write_mbox(tmp_path / "all.mbox", *NEWSLETTER), tmp_path / "archive", fmt)
    assert lookup(tmp_path, "archive", ANN, indexed, threads=True) == ANNS
    assert lookup(tmp_path, "archive", ANN, indexed) == ["r1@example.com"]
    assert not list((tmp_path / "index").glob(".threads-*"))  # the scan's throwaway index is gone


def test_the_scan_says_it_read_every_message_even_when_following_threads(tmp_path: Path) -> None:
    write_mbox(tmp_path / "support.mbox", *NEWSLETTER)
    found = MailSource("support_mail", {"path": "support.mbox", "threads": True}, tmp_path, {})
    assert sorted(record.key for record in found.records(ANN)) == ANNS
    assert found.notes() == {"index": "missing", "scanned": len(NEWSLETTER)}


def test_a_tail_the_index_does_not_cover_follows_the_same_rule(tmp_path: Path) -> None:
    write_mbox(tmp_path / "support.mbox", *NEWSLETTER[:2])
    found = MailSource("support_mail", {"path": "support.mbox", "threads": True}, tmp_path, {})
    found.update_index()
    write_mbox(tmp_path / "support.mbox", *NEWSLETTER[2:])
    assert sorted(record.key for record in found.records(ANN)) == ANNS
    assert found.notes() == {"index": "stale", "scanned": len(NEWSLETTER) - 2}


@pytest.mark.parametrize("indexed", [False, True])
def test_a_reused_message_id_links_nothing(tmp_path: Path, indexed: bool) -> None:
    # A mailer that numbers every message <1@localhost>: Ann's mail and a stranger's share the id.
    write_mbox(tmp_path / "support.mbox",
               mail("1@localhost", "ann@example.com", "support@co.com", "My order."),
               mail("1@localhost", "carl@other.org", "dora@else.net", "Private."),
               mail("a@else.net", "dora@else.net", "carl@other.org", "Re: private.", refs=("1@localhost",)),
               mail("b@co.com", "support@co.com", "ann@example.com", "Your order.", refs=("1@localhost",)),
               mail("c@co.com", "support@co.com", "stock@co.com", "Re: your order.", refs=("b@co.com",)))
    # Ann's two messages and the reply to support's (a unique id), never Carl's or Dora's.
    assert lookup(tmp_path, "support.mbox", ANN, indexed, threads=True) == ["1@localhost", "b@co.com", "c@co.com"]


def test_threads_scan_and_index_agree_on_a_mixed_archive(tmp_path: Path) -> None:
    company = generate_company(tmp_path / "company", messages=400)
    write_format(company.mail_archive, tmp_path / "archive.mbox", "mbox")
    write_mbox(tmp_path / "archive.mbox", *NEWSLETTER)
    subject = Subject(company.subject_email)
    own = lookup(tmp_path, "archive.mbox", subject, False)
    scanned = lookup(tmp_path, "archive.mbox", subject, False, threads=True)
    assert scanned == lookup(tmp_path, "archive.mbox", subject, True, threads=True)
    assert set(own) <= set(scanned)
    assert lookup(tmp_path, "archive.mbox", ANN, True, threads=True) == ANNS


MENTIONS = [
    mail("own@example.com", "ann@example.com", "support@co.com", "My order."),
    mail("m1@x.org", "joe@x.org", "kim@y.org", "Ask joann@example.com about it."),
    mail("m2@x.org", "joe@x.org", "kim@y.org", "Ask ann@example.com.au about it."),
    mail("m3@x.org", "joe@x.org", "joann@example.com", "Nothing here."),
    mail("m4@x.org", "joe@x.org", "kim@y.org", "Please write to ann@example.com."),
    mail("m5@x.org", "joe@x.org", "kim@y.org", "Encoded: ANN@Example.com knows.", encoding="base64"),
    mail("m6@x.org", "joe@x.org", "kim@y.org", "Write to xann@example.com or ann@example.community."),
]


@pytest.mark.parametrize("indexed", [False, True])
def test_body_mentions_name_the_whole_address_with_or_without_an_index(tmp_path: Path, indexed: bool) -> None:
    write_mbox(tmp_path / "support.mbox", *MENTIONS)
    assert lookup(tmp_path, "support.mbox", ANN, indexed, body_mentions=True) == [
        "m4@x.org", "m5@x.org", "own@example.com"]
    assert lookup(tmp_path, "support.mbox", ANN, indexed) == ["own@example.com"]


def test_a_body_mention_is_not_the_subjects_own_mail(tmp_path: Path) -> None:
    write_mbox(tmp_path / "support.mbox", *MENTIONS)
    found = MailSource("support_mail", {"path": "support.mbox", "body_mentions": True}, tmp_path, {})
    provided = {record.key: record.provided for record in found.records(ANN)}
    assert provided == {"own@example.com": True, "m4@x.org": False, "m5@x.org": False}
