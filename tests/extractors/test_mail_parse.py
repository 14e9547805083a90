"""read_message: every message comes back parsed or withheld with a reason, within its limits."""

import base64
import email
import email.policy
import hashlib
import io
from pathlib import Path

import pytest

from extractors.errors import SourceConfigError
from extractors.mail.limits import MIB, Limits, LimitSettings
from extractors.mail.parse import ParsedMessage, Withheld, parse_message, read_message
from extractors.settings import parse_settings

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "robustness"
CPYTHON = sorted(CORPUS.glob("cpython/msg_*.txt"))
ROBUSTNESS = sorted(p for p in CORPUS.rglob("*") if p.is_file() and not p.name.startswith(("LICENSE", "NOTICE")))

HEAD = b"From: Matti <matti@example.fi>\nTo: tuki@kauppa.fi\nSubject: Liite\nMessage-ID: <big@example.fi>\n"


DEFAULT = Limits()


def _read(raw: bytes, limits: Limits = DEFAULT, size: int | None = -1) -> ParsedMessage | Withheld:
    return read_message(io.BytesIO(raw), len(raw) if size == -1 else size, limits)


def _multipart(*parts: bytes) -> bytes:
    body = b"".join(b"--B\nContent-Type: text/plain\n\n" + p + b"\n" for p in parts)
    return HEAD + b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n' + body + b"--B--\n"


def test_all_of_cpythons_email_test_messages_are_vendored():
    assert len(CPYTHON) == 48  # Lib/test/test_email/data/msg_01.txt ... msg_47.txt (and msg_24's gap)


@pytest.mark.parametrize("path", ROBUSTNESS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_robustness_message_is_parsed_or_withheld(path):
    raw = path.read_bytes()
    result = _read(raw)
    assert result.sha256 == hashlib.sha256(raw).hexdigest()
    assert result.size == len(raw)
    if isinstance(result, ParsedMessage):
        assert result.data == parse_message(raw)
    else:
        assert result.reason in ("too_many_parts", "unparsed")


def test_attachment_sizes_and_hashes_are_those_of_the_decoded_bytes():
    checked = 0
    for path in ROBUSTNESS:
        result = _read(path.read_bytes())
        if not isinstance(result, ParsedMessage):
            continue
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        parts = [p for p in msg.walk() if not p.is_multipart() and p.get_content_type() != "message/rfc822"
                 and (p.get_content_disposition() == "attachment" or p.get_filename())]
        hashed = [a for a in result.data["attachments"] if a["sha256"] is not None]
        for part, entry in zip(parts, hashed, strict=True):
            decoded = part.get_payload(decode=True)
            assert isinstance(decoded, bytes)
            assert (entry["size"], entry["sha256"]) == (len(decoded), hashlib.sha256(decoded).hexdigest()), path
            checked += 1
    assert checked >= 30  # base64, quoted-printable and 8-bit parts


def test_a_message_over_the_size_limit_is_withheld_with_its_hash_and_message_id():
    raw = HEAD + b"\n" + b"x" * 3000 + b"\n"
    for size in (len(raw), None):  # known up front, or found out while streaming to the end
        result = _read(raw, Limits(max_message_bytes=2000), size=size)
        assert isinstance(result, Withheld)
        assert result.data == {"reason": "too_large", "sha256": hashlib.sha256(raw).hexdigest(),
                                 "bytes": len(raw), "message_id": "big@example.fi"}
        assert b"matti@example.fi" in result.header and b"xxx" not in result.header


def test_a_message_with_more_parts_than_allowed_is_withheld():
    raw = _multipart(b"one", b"two", b"three")
    assert isinstance(_read(raw, Limits(max_parts=4)), ParsedMessage)  # the message and its three parts
    result = _read(raw, Limits(max_parts=3))
    assert isinstance(result, Withheld) and result.reason == "too_many_parts"
    assert result.message_id == "big@example.fi"


def test_a_hundred_thousand_parts_are_not_all_built():
    # Not timed: the parser stops at the limit instead of building 100k entities (~1 GB).
    raw = _multipart(*[b"p"] * 100_000)
    result = _read(raw)
    assert isinstance(result, Withheld) and result.reason == "too_many_parts"
    assert result.size == len(raw)


def test_text_attachments_over_the_text_limit_are_withheld_not_decoded():
    text = b"tuote;hinta\n" * 1000
    raw = (HEAD + b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n--B\n\nbody\n--B\n'
           b'Content-Type: text/csv\nContent-Disposition: attachment; filename="rivit.csv"\n'
           b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(text) + b"--B--\n")
    (small,) = _read(raw, Limits(max_text_bytes=len(text))).data["attachments"]
    assert small["text"] == text.decode()
    (large,) = _read(raw, Limits(max_text_bytes=len(text) - 1)).data["attachments"]
    assert "text" not in large
    assert large == {"filename": "rivit.csv", "content_type": "text/csv", "size": len(text),
                     "sha256": hashlib.sha256(text).hexdigest(),
                     "withheld": "text too large to redact; kept for review"}


def test_a_message_is_read_from_a_slice_of_an_archive_file(tmp_path):
    first, second = _multipart(b"first"), HEAD.replace(b"big@", b"second@") + b"\nsecond body\n"
    archive = tmp_path / "archive"
    archive.write_bytes(first + second + b"trailing bytes of a third message")
    with archive.open("rb") as stream:
        stream.seek(len(first))
        result = read_message(stream, len(second), Limits())
    assert isinstance(result, ParsedMessage)
    assert result.data["message_id"] == "second@example.fi"
    assert result.data["body"] == "second body\n"
    assert result.sha256 == hashlib.sha256(second).hexdigest()


def test_a_big_html_only_mail_is_read_to_its_last_paragraph():
    # 5 MiB of HTML took hours with the regular expressions this replaced; bench/bench_parse.py times it.
    paragraphs = b"".join(b"<p>Kappale %d <b>lihavoitu</b> &amp; <a href='x'>linkki</a></p>\n" % i
                          for i in range(80_000))
    raw = HEAD + b"Content-Type: text/html; charset=utf-8\n\n<html><body>" + paragraphs + b"</body></html>\n"
    assert len(raw) > 5 * MIB
    body = _read(raw).data["body"]
    assert body.endswith("Kappale 79999 lihavoitu & linkki")
    assert body.count("\n\n") == 79_999


def test_limits_come_from_the_sources_settings():
    settings = parse_settings(LimitSettings, "mail", {"max_message_mib": 1.5, "max_parts": 20})
    assert settings.limits() == Limits(max_message_bytes=int(1.5 * MIB), max_parts=20, max_text_bytes=5 * MIB)
    assert parse_settings(LimitSettings, "mail", {}).limits() == Limits()
    with pytest.raises(SourceConfigError, match="max_parts"):
        parse_settings(LimitSettings, "mail", {"max_parts": 0})
