"""An mbox quotes body lines that begin "From " (">From "); the records carry the lines as they were written.

mboxrd (one ">" added to every `^>*From ` line) is undone exactly; mboxo (">" added to `^From ` only), which
Python's mailbox module writes, too. A single .eml file is not an mbox: its ">From " lines stay.
"""

from __future__ import annotations

import gzip
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from extractors.mail import MailSource
from extractors.records import Subject

MATTI = Subject("matti@example.fi")

BODY = "Hei,\nFrom now on we ship on Mondays.\nFrom: the warehouse\n >From stays, it is not at a line start.\n"


def _body(path: Path, tmp_path: Path, **settings: object) -> str:
    source = MailSource("support_mail", {"path": path.name, **settings}, tmp_path, {})
    (record,) = source.records(MATTI)
    return record.data["body"]


def test_python_mailbox_quoting_is_undone(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Matti <matti@example.fi>"
    message["To"] = "tuki@kauppa.fi"
    message["Subject"] = "Toimitukset"
    message["Message-ID"] = "<q1@example.fi>"
    message.set_content(BODY)
    box = mailbox.mbox(tmp_path / "support.mbox")
    box.add(message)
    box.add(message)  # a second message, so the first one's end is a "From " separator
    box.close()
    raw = (tmp_path / "support.mbox").read_bytes()
    assert b"\n>From now on" in raw and b"\nFrom now on" not in raw  # the file holds the quoting
    source = MailSource("support_mail", {"path": "support.mbox"}, tmp_path, {})
    bodies = [record.data["body"] for record in source.records(MATTI)]
    assert bodies == [BODY, BODY]


MBOXRD = b"""\
From matti@example.fi Tue Apr  2 11:15:00 2024
From: Matti <matti@example.fi>
To: tuki@kauppa.fi
Subject: Lainaus
Message-ID: <q2@example.fi>
Content-Type: text/plain; charset=utf-8

>From the first line.
>>From a line that began with one quote.
>>>From two quotes.
 >From indented: left alone.
>Fromage is not a From line.

From liisa@example.fi Tue Apr  2 11:16:00 2024
From: liisa@example.fi
To: tuki@kauppa.fi
Subject: Muuta
Message-ID: <q3@example.fi>

>From Liisa, not about Matti.

"""

UNQUOTED = ("From the first line.\n>From a line that began with one quote.\n>>From two quotes.\n"
            " >From indented: left alone.\n>Fromage is not a From line.\n")


@pytest.mark.parametrize("compressed", [False, True])
def test_hand_written_mboxrd_loses_one_quote_per_from_line(tmp_path: Path, compressed: bool) -> None:
    path = tmp_path / ("support.mbox.gz" if compressed else "support.mbox")
    path.write_bytes(gzip.compress(MBOXRD) if compressed else MBOXRD)
    assert _body(path, tmp_path) == UNQUOTED


def test_a_message_read_back_through_the_index_is_unquoted_too(tmp_path: Path) -> None:
    path = tmp_path / "support.mbox"
    path.write_bytes(MBOXRD)
    source = MailSource("support_mail", {"path": path.name}, tmp_path, {})
    assert source.update_index().parsed == 2
    (record,) = source.records(MATTI)
    assert record.data["body"] == UNQUOTED
    assert source.notes() == {"index": "fresh", "scanned": 0}  # read back at its offset, not scanned


def test_an_eml_file_keeps_its_from_lines(tmp_path: Path) -> None:
    single = MBOXRD.split(b"\n\nFrom liisa")[0].split(b"\n", 1)[1] + b"\n"  # the first message, no envelope
    path = tmp_path / "message.eml"
    path.write_bytes(single)
    assert _body(path, tmp_path).startswith(">From the first line.\n>>From a line")
