"""One RFC 5322 message read into a record's fields, whatever state it is in.

Archives hold broken mail: a header that cannot be parsed is skipped, an
unknown charset is decoded as UTF-8 with replacement characters, and nothing
in one message raises past `parse_message` except mail too broken to parse at all.
`read_message` never raises for what a message holds: a message over the
`Limits`, or too broken to parse, comes back `Withheld` with a reason.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from email.feedparser import BytesFeedParser
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import formataddr, getaddresses, parsedate_to_datetime
from typing import Any, BinaryIO, Literal

from extractors.mail import payload
from extractors.mail.html_text import html_to_text
from extractors.mail.limits import Limits
from identity.address import ascii_lower

# The category of mail records: the package also writes each as an .eml file.
MESSAGES = "messages"
# Where a message names the people it is between; the index covers the same headers.
ADDRESS_HEADERS = ("from", "to", "cc", "bcc", "reply-to", "sender")


READ_CHUNK = 1 << 16
# Enough for any real header block; what lies beyond is not searched for the subject's address.
MAX_HEADER_BLOCK = 1 << 20


@dataclass(frozen=True)
class ParsedMessage:
    data: dict[str, Any]  # the record's fields, as `parse_message` gives them
    addresses: dict[str, list[str]]  # lower-cased addresses per address header
    sha256: str  # of the message's bytes
    size: int


@dataclass(frozen=True)
class Withheld:
    """A message not parsed: only its hash, size and Message-ID may leave, never what it says."""

    reason: Literal["too_large", "too_many_parts", "unparsed"]
    sha256: str
    size: int
    header: bytes  # the header block (at most MAX_HEADER_BLOCK), to check whose mail it is; never written out

    @property
    def message_id(self) -> str | None:
        return raw_message_id(self.header)

    @property
    def data(self) -> dict[str, Any]:
        """The fields of its `withheld` record."""
        return {"reason": self.reason, "sha256": self.sha256, "bytes": self.size, "message_id": self.message_id}


def read_message(stream: BinaryIO, size: int | None, limits: Limits) -> ParsedMessage | Withheld:
    """One message read from `stream`: its `size` bytes (None: to the end), within `limits`.

    The bytes are hashed as they stream by and fed to the parser a slice at a time, so an archive needs
    no copy of the message in memory; a message over `limits.max_message_bytes` is hashed, never parsed.
    `stream` may be a file positioned at the message, or `io.BytesIO(raw)`; its OSError propagates.
    """
    sha = hashlib.sha256()
    head = HeaderBlock()
    reason: Literal["too_large", "too_many_parts", "unparsed"] | None = None
    if size is not None and size > limits.max_message_bytes:
        reason = "too_large"
    parser: BytesFeedParser | None = None if reason else _parser(limits)
    read = 0
    for chunk in _chunks(stream, size):
        read += len(chunk)
        sha.update(chunk)
        head.feed(chunk)
        if parser is None:
            continue
        if read > limits.max_message_bytes:
            reason, parser = "too_large", None
            continue
        try:
            parser.feed(chunk)
        except _TooManyParts:
            reason, parser = "too_many_parts", None
        except Exception:  # the parser's own bug on hostile input: nothing parsed can be trusted
            reason, parser = "unparsed", None
    if parser is not None:
        try:
            data, addresses = _fields(parser.close(), limits)
            return ParsedMessage(data, addresses, sha.hexdigest(), read)
        except _TooManyParts:
            reason = "too_many_parts"
        except Exception:
            reason = "unparsed"
    return Withheld(reason or "unparsed", sha.hexdigest(), read, head.block)


def parse_message(raw: bytes) -> dict[str, Any]:
    """The fields of one RFC 5322 message as a record's data; raises on mail too broken to parse.

    Address headers come as lists of "Name <addr>" strings, RFC 2047 decoded;
    `body` is the text (text/plain, else HTML made text); `attachments` lists
    every attached part.
    """
    return parse_fields(raw)[0]


def parse_fields(raw: bytes, limits: Limits | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The record data and the lower-cased addresses per address header; no limit on size or parts."""
    parser = BytesFeedParser(policy=email.policy.default)
    parser.feed(raw)
    return _fields(parser.close(), limits or Limits())


class _TooManyParts(Exception):
    pass


def _parser(limits: Limits) -> BytesFeedParser:
    """A parser that gives up past `limits.max_parts` entities, before it has built them all."""
    count = 0

    def entity(policy: email.policy.Policy) -> Message:
        nonlocal count
        count += 1
        if count > limits.max_parts:
            raise _TooManyParts()
        return EmailMessage(policy=policy)

    parser: BytesFeedParser[Message] = BytesFeedParser(
        _factory=entity,  # type: ignore[arg-type]  # typeshed omits the `policy` keyword a factory is given
        policy=email.policy.default,
    )
    count = 0  # the parser called the factory once to see whether it takes a policy
    return parser


def _chunks(stream: BinaryIO, size: int | None) -> Iterator[bytes]:
    left = size
    while left is None or left > 0:
        chunk = stream.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


class HeaderBlock:
    """The header block of a message that streams by a slice at a time."""

    def __init__(self) -> None:
        self.block = b""
        self._done = False

    def feed(self, chunk: bytes) -> None:
        if self._done:
            return
        # Searched again from the start: a blank line may straddle two slices, and the block is small.
        whole = self.block + chunk
        self.block = header_block(whole)[:MAX_HEADER_BLOCK]
        self._done = len(self.block) < len(whole)


def _fields(msg: Message, limits: Limits) -> tuple[dict[str, Any], dict[str, list[str]]]:
    addresses = {name: _addresses(msg, name) for name in ADDRESS_HEADERS}
    message_id = _raw_header(msg, "message-id").strip().strip("<>").strip()
    data = {
        "message_id": message_id or None,
        "date": _date(_raw_header(msg, "date")),
        "from": [_format(pair) for pair in addresses["from"]],
        "to": [_format(pair) for pair in addresses["to"]],
        "cc": [_format(pair) for pair in addresses["cc"]],
        "reply_to": [_format(pair) for pair in addresses["reply-to"]],
        "subject": _decoded(_raw_header(msg, "subject")),
        "body": _body(msg),
        "attachments": _attachments(msg, limits),
    }
    return data, {name: [ascii_lower(addr) for _, addr in pairs] for name, pairs in addresses.items()}


def header_block(raw: bytes) -> bytes:
    """The bytes before the first blank line (LF or CRLF); all of it if there is none."""
    end = re.search(rb"(?:^|\n)\r?\n", raw)
    return raw if end is None else raw[: end.start()]


def address_pattern(address: str) -> re.Pattern[bytes]:
    """The address as a whole addr-spec: not part of a longer one (bob@x.fi in jimbob@x.fi, x.fi.evil)."""
    return re.compile(
        rb"(?<![A-Za-z0-9._%+-])" + re.escape(address.encode("utf-8")) + rb"(?![A-Za-z0-9-])(?!\.[A-Za-z0-9])",
        re.IGNORECASE,
    )


def raw_message_id(header: bytes) -> str | None:
    found = re.search(rb"(?im)^message-id:[ \t]*(?:\r?\n[ \t]+)?<?([^\s<>]+)>?", header)
    return found.group(1).decode("utf-8", errors="replace") if found else None


def _raw_header(msg: Message, name: str) -> str:
    """All values of a header as stored, unparsed (parsing is where broken mail raises)."""
    values = [_clean(value) for key, value in msg.raw_items() if key.lower() == name]
    return ", ".join(values) if name in ADDRESS_HEADERS else (values[0] if values else "")


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    value = _raw_header(msg, name)
    try:
        pairs = getaddresses([value]) if value else []
    except Exception:  # a header the parser chokes on is skipped, not fatal
        return []
    return [(_decoded(display), addr) for display, addr in pairs if "@" in addr]


def _clean(text: str) -> str:
    """Undo surrogate escapes left by 8-bit header bytes; assume UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _decoded(text: str) -> str:
    """Decode RFC 2047 encoded words; a broken one is kept as written."""
    try:
        return str(make_header(decode_header(text)))
    except Exception:
        return text


def _format(pair: tuple[str, str]) -> str:
    display, addr = pair
    if (display and not display.isascii()) or not addr.isascii():
        # formataddr would re-encode a name as =?utf-8?... and raises on a non-ASCII address
        if display and re.search(r'[,;:<>@()\[\]"]', display):  # "Mäkinen, Liisa" stays one name
            display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{display} <{addr}>" if display else addr
    return formataddr((display, addr))


def _date(value: str) -> str | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except Exception:  # unparseable dates are common in old archives
        return None
    if when.tzinfo is None:  # "-0000": zone unknown, taken as UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment" or bool(part.get_filename())
    except Exception:
        return False


def _text(part: Message) -> str:
    """The decoded text of a leaf part; never raises."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "utf-8").lower()
    declared = _decode(payload, charset)
    if declared is not None:
        return declared
    # Not what it says (or says nothing): UTF-8 if it is, else Windows-1252, which old Finnish mail used.
    # "Mäkinen" must not come out as "M\ufffdkinen", a name no one could find any more.
    return _decode(payload, "utf-8") or payload.decode("cp1252", errors="replace")


def _decode(payload: bytes, charset: str) -> str | None:
    """The text in `charset`, or None if it is not (a UTF-8 or ASCII claim that fails, an unknown codec)."""
    strict = charset in ("utf-8", "utf8", "us-ascii", "ascii")
    try:
        return payload.decode(charset, errors="strict" if strict else "replace")
    except (UnicodeDecodeError, LookupError, TypeError):
        return None


def _body(msg: Message) -> str:
    plain: str | None = None
    rich: str | None = None
    for part in msg.walk():
        if part.is_multipart() or _is_attachment(part):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = _text(part)
        elif kind == "text/html" and rich is None:
            rich = _text(part)
    if plain is not None:
        return plain
    if rich is not None:
        return html_to_text(rich)
    if not msg.is_multipart() and msg.get_content_maintype() == "multipart":
        # Malformed MIME (no boundary): the raw text is all there is.
        return _text(msg)
    return ""


# Attached parts whose text redaction can read; anything else is withheld for review.
TEXT_PARTS = ("text/plain", "text/html", "text/csv", "message/rfc822")


def _attachments(msg: Message, limits: Limits) -> list[dict[str, Any]]:
    found = []
    for part in msg.walk():
        if (part.is_multipart() and part.get_content_type() != "message/rfc822") or not _is_attachment(part):
            continue
        kind = part.get_content_type()
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        hashed = payload.digest(part)
        entry: dict[str, Any] = {
            "filename": _clean(filename) if filename else None,
            "content_type": kind,
            "size": hashed[0] if hashed else None,
            "sha256": hashed[1] if hashed else None,
        }
        if kind not in TEXT_PARTS:
            entry["withheld"] = "cannot be redacted safely; kept for review"
        elif hashed and hashed[0] > limits.max_text_bytes:
            entry["withheld"] = "text too large to redact; kept for review"
        else:
            entry["text"] = _attached_text(part)
        found.append(entry)
    return found


def _attached_text(part: Message) -> str:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            inner = inner[0]
        if isinstance(inner, Message):
            headers = "\n".join(f"{k}: {_decoded(_clean(str(v)))}" for k, v in inner.raw_items()
                                 if k.lower() in ("from", "to", "cc", "subject", "date"))
            return f"{headers}\n\n{_body(inner)}"
        return ""
    text = _text(part)
    return html_to_text(text) if part.get_content_type() == "text/html" else text
