"""MboxSource on mbox files written in tmp_path, broken mail included."""

import base64
import hashlib
from pathlib import Path

import pytest

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.mail import MboxSource
from extractors.records import Subject

SUBJECT = Subject("Matti@Example.fi")

PLAIN_FROM_SUBJECT = b"""\
From: =?utf-8?q?Matti_Meik=C3=A4l=C3=A4inen?= <MATTI@example.fi>
To: Asiakaspalvelu <tuki@kauppa.fi>
Subject: =?utf-8?q?Tilaus_my=C3=B6h=C3=A4ss=C3=A4?=
Date: Tue, 02 Apr 2024 11:15:00 +0300
Message-ID: <m1@example.fi>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hei, tilaukseni on my\xc3\xb6h\xc3\xa4ss\xc3\xa4.
"""

ONLY_IN_CC = b"""\
From: tuki@kauppa.fi
To: varasto@kauppa.fi
Cc: "Meikalainen, Matti" <matti@example.fi>
Subject: Re: Tilaus
Date: Wed, 03 Apr 2024 09:00:00 +0000
Message-ID: <m2@kauppa.fi>
Content-Type: text/html; charset=us-ascii

<html><body><p>Please ship order&nbsp;11.</p><script>x()</script></body></html>
"""

SOMEONE_ELSE = b"""\
From: teppo@example.fi
To: tuki@kauppa.fi
Subject: Teppo's question
Message-ID: <m3@example.fi>

Not about Matti.
"""

BAD_CHARSET = b"""\
From: tuki@kauppa.fi
To: matti@example.fi
Subject: Vastaus
Date: not a date at all
Message-ID: <m4@kauppa.fi>
Content-Type: text/plain; charset=x-no-such-charset

Kiitos \xe4\xf6 viestist\xe4.
"""

MALFORMED_MIME = b"""\
From: tuki@kauppa.fi
To: matti@example.fi, "unterminated <broken@
Reply-To: ===?bogus?=== <<>>
Subject: Broken
Content-Type: multipart/mixed

This multipart has no boundary at all.
"""

WITH_ATTACHMENT = b"""\
From: matti@example.fi
To: tuki@kauppa.fi
Subject: Kuitti
Message-ID: <m6@example.fi>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XYZ"

--XYZ
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Liitteen=E4 kuitti.
--XYZ
Content-Type: application/pdf; name="kuitti.pdf"
Content-Disposition: attachment; filename="kuitti.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcTl8uXr
--XYZ
Content-Type: text/csv; charset=utf-8; name="rivit.csv"
Content-Disposition: attachment; filename="rivit.csv"

tuote,hinta
Kahvi,4.90
--XYZ--
"""


def write_mbox(path: Path, *messages: bytes) -> Path:
    with path.open("wb") as out:
        for i, message in enumerate(messages):
            out.write(f"From sender@example.invalid Tue Apr  2 11:15:0{i} 2024\n".encode())
            # mbox quoting of body lines that start with "From "
            out.write(message.replace(b"\nFrom ", b"\n>From "))
            out.write(b"\n")
    return path


def read(tmp_path: Path, *messages: bytes) -> dict[str, dict]:
    write_mbox(tmp_path / "support.mbox", *messages)
    source = MboxSource("support_mail", {"path": "support.mbox"}, tmp_path, {})
    return {r.key: {"provided": r.provided, "category": r.category, **r.data} for r in source.records(SUBJECT)}


def test_plain_message_from_the_subject(tmp_path: Path) -> None:
    found = read(tmp_path, PLAIN_FROM_SUBJECT, SOMEONE_ELSE)
    assert list(found) == ["m1@example.fi"]
    m = found["m1@example.fi"]
    assert m["category"] == "messages" and m["provided"] is True
    assert m["from"] == ["Matti Meikäläinen <MATTI@example.fi>"]
    assert m["to"] == ["Asiakaspalvelu <tuki@kauppa.fi>"]
    assert m["subject"] == "Tilaus myöhässä"
    assert m["date"] == "2024-04-02T08:15:00Z"
    assert m["body"].strip() == "Hei, tilaukseni on myöhässä."
    assert m["attachments"] == []


def test_subject_only_in_cc_and_html_only_body(tmp_path: Path) -> None:
    m = read(tmp_path, ONLY_IN_CC)["m2@kauppa.fi"]
    assert m["provided"] is False
    assert m["cc"] == ['"Meikalainen, Matti" <matti@example.fi>']
    assert m["body"] == "Please ship order\xa011."


def test_latin1_declared_as_utf8_is_read_as_latin1(tmp_path: Path) -> None:
    raw = BAD_CHARSET.replace(b"x-no-such-charset", b"utf-8").replace(b"<m4@", b"<m9@")
    assert read(tmp_path, raw)["m9@kauppa.fi"]["body"] == "Kiitos äö viestistä.\n"


def test_bad_charset_and_bad_date_do_not_raise(tmp_path: Path) -> None:
    m = read(tmp_path, BAD_CHARSET)["m4@kauppa.fi"]
    assert m["date"] is None
    assert m["body"] == "Kiitos äö viestistä.\n"  # an unknown charset: UTF-8, else Windows-1252


def test_malformed_mime_is_kept_with_a_content_hash_key(tmp_path: Path) -> None:
    found = read(tmp_path, MALFORMED_MIME, PLAIN_FROM_SUBJECT)
    assert len(found) == 2
    key = next(k for k in found if k != "m1@example.fi")
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    m = found[key]
    assert m["message_id"] is None
    assert "matti@example.fi" in m["to"]
    assert "no boundary" in m["body"]


def test_content_hash_is_of_the_raw_message(tmp_path: Path) -> None:
    (key,) = read(tmp_path, MALFORMED_MIME)
    assert key == hashlib.sha256(MALFORMED_MIME).hexdigest()


def test_text_attachments_carry_their_text_others_are_withheld(tmp_path: Path) -> None:
    m = read(tmp_path, WITH_ATTACHMENT)["m6@example.fi"]
    assert m["attachments"] == [
        {"filename": "kuitti.pdf", "content_type": "application/pdf", "size": 15,
         "sha256": hashlib.sha256(base64.b64decode("JVBERi0xLjQKJcTl8uXr")).hexdigest(),
         "withheld": "cannot be redacted safely; kept for review"},
        {"filename": "rivit.csv", "content_type": "text/csv", "size": 22,
         "sha256": hashlib.sha256(b"tuote,hinta\nKahvi,4.90").hexdigest(), "text": "tuote,hinta\nKahvi,4.90"},
    ]
    assert m["body"].strip() == "Liitteenä kuitti."
    assert "JVBER" not in str(m)


def test_duplicate_message_ids_get_distinct_keys(tmp_path: Path) -> None:
    assert list(read(tmp_path, PLAIN_FROM_SUBJECT, PLAIN_FROM_SUBJECT)) == ["m1@example.fi", "m1@example.fi#2"]


def test_missing_archive_is_unavailable(tmp_path: Path) -> None:
    source = MboxSource("support_mail", {"path": "nowhere.mbox"}, tmp_path, {})
    with pytest.raises(SourceUnavailable, match="mail archive not found"):
        list(source.records(SUBJECT))


@pytest.mark.parametrize(("settings", "key"), [({}, "path"), ({"path": "a", "folder": "b"}, "folder")])
def test_bad_settings_name_the_key(tmp_path: Path, settings, key) -> None:
    with pytest.raises(SourceConfigError) as caught:
        MboxSource("support_mail", settings, tmp_path, {})
    assert caught.value.key == key


# `charset*` with no value makes the email package raise IndexError while parsing.
UNPARSEABLE = b"""\
From: Matti <matti@example.fi>
To: tuki@kauppa.fi
Subject: Salainen aihe
Message-ID: <m7@example.fi>
Content-Type: text/plain; charset*

Secret body text.
"""


def test_unparseable_message_is_withheld_without_content(tmp_path: Path) -> None:
    digest = hashlib.sha256(UNPARSEABLE).hexdigest()
    assert read(tmp_path, UNPARSEABLE) == {digest: {
        "provided": False, "category": "withheld",
        "reason": "unparsed", "sha256": digest, "bytes": len(UNPARSEABLE), "message_id": "m7@example.fi",
    }}


def test_withheld_message_with_crlf_and_no_message_id(tmp_path: Path) -> None:
    raw = b"From: tuki@kauppa.fi\r\nTo: MATTI@example.fi\r\nContent-Type: text/plain; charset*\r\n\r\nHei.\r\n"
    (m,) = read(tmp_path, raw).values()
    assert m["category"] == "withheld" and m["message_id"] is None
    assert "Hei" not in str(m) and "tuki" not in str(m)


STRANGER = b"""\
From: Jim <jimbob@x.fi>
To: tuki@kauppa.fi
Subject: Jim's own business
Message-ID: <j1@x.fi>

Not about Bob.
"""


def read_as(tmp_path: Path, subject: Subject, *messages: bytes) -> list:
    write_mbox(tmp_path / "support.mbox", *messages)
    return list(MboxSource("support_mail", {"path": "support.mbox"}, tmp_path, {}).records(subject))


@pytest.mark.parametrize("raw", [
    STRANGER,
    STRANGER.replace(b"Message-ID", b"Content-Type: text/plain; charset*\nMessage-ID"),
    STRANGER.replace(b"<jimbob@x.fi>", b"<bob@x.fi.example>").replace(b"Message-ID", b"Content-Type: a; charset*\nM"),
    STRANGER.replace(b"To: tuki@kauppa.fi", b"To: tuki@kauppa.fi\nContent-Type: a; charset*")
            .replace(b"Not about Bob.", b"Cc'd bob@x.fi by hand."),
], ids=["parsed", "unparsed", "longer-domain", "only-in-body"])
def test_a_longer_address_or_the_body_is_not_the_subject(tmp_path: Path, raw: bytes) -> None:
    assert read_as(tmp_path, Subject("bob@x.fi"), raw) == []


@pytest.mark.parametrize("line", [b"To: tuki@kauppa.fi, Bob@X.fi", b"To: bob@x.fi.", b"Cc: <bob@x.fi>"])
def test_withheld_address_at_the_end_of_a_header_line_matches(tmp_path: Path, line: bytes) -> None:
    raw = STRANGER.replace(b"To: tuki@kauppa.fi", line + b"\nContent-Type: text/plain; charset*")
    (record,) = read_as(tmp_path, Subject("bob@x.fi"), raw)
    assert record.category == "withheld" and record.data["message_id"] == "j1@x.fi"
