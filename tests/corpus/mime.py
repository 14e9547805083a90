"""Write a drafted message as RFC 5322 bytes in one of several MIME shapes, and find its pieces again.

The offsets of the labels are into the fields as `extractors.mail.parse_message`
gives them ("Name <addr>" entries joined by ", ", the decoded Subject, the
text/plain body or the HTML made text), so a scorer needs only the .eml file.
"""

from __future__ import annotations

import email.policy
import html
import random
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime

from extractors.mail import parse_message
from tests.corpus.compose import Piece, Text

SHAPES = ("plain", "plain", "plain", "qp", "qp", "base64", "latin1", "html", "alternative", "alternative",
          "attachments", "attachments")
ADDRESS_FIELDS = (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Reply-To", "reply_to"))


@dataclass
class Address:
    display: Piece | str | None
    addr: Piece
    style: str  # "plain", "encoded", "bare", "angle"


@dataclass
class Draft:
    lang: str
    headers: dict[str, list[Address]]
    subject: Text
    body: Text
    date: datetime
    message_id: str
    shape: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (content type, filename, data)


def _display_raw(display: str, style: str, charset: str) -> str:
    if style == "encoded" or (style == "plain" and not display.isascii() and charset != "utf-8"):
        return Header(display, charset).encode(maxlinelen=998)
    if re.search(r'[,.;:"()<>@\[\]]', display):
        return '"' + display.replace('"', '\\"') + '"'
    return display


def _address_raw(address: Address, charset: str) -> str:
    if address.display is None:
        return f"<{address.addr.text}>" if address.style == "angle" else address.addr.text
    display = address.display if isinstance(address.display, str) else address.display.text
    return f"{_display_raw(display, address.style, charset)} <{address.addr.text}>"


def address_text(address: Address) -> Text:
    text = Text()
    if address.display is None:
        text.add(address.addr)
        return text
    text.add(address.display)
    text.add(" <")
    text.add(address.addr)
    text.add(">")
    return text


def _html(body: str) -> str:
    paragraphs = body.split("\n\n")
    inner = "\n".join("<p>" + "<br>".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
                      for p in paragraphs)
    return f'<html><head><style>p {{ margin: 0 0 1em 0; }}</style></head><body>\n{inner}\n</body></html>\n'


def _png(rng: random.Random) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = bytes(rng.randrange(256) for _ in range(3))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" + pixels)) + chunk(b"IEND", b""))


def attachment(rng: random.Random, lang: str, order: str) -> tuple[str, str, bytes]:
    kind = rng.choice(("text/plain", "text/csv", "application/pdf", "image/png"))
    if kind == "text/csv":
        rows = "tuote;kpl;hinta\n" if lang == "fi" else "product;qty;price\n"
        rows += "".join(f"{rng.choice(('A', 'B', 'C'))}-{rng.randrange(1000)};{rng.randint(1, 4)};"
                        f"{rng.randint(5, 99)},90\n" for _ in range(rng.randint(1, 5)))
        return kind, f"tilaus-{order}.csv", rows.encode()
    if kind == "text/plain":
        return kind, "kuitti.txt" if lang == "fi" else "receipt.txt", f"Order {order}\nTotal 49,90\n".encode()
    if kind == "image/png":
        return kind, "kuva.png" if lang == "fi" else "photo.png", _png(rng)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return kind, f"lasku-{order}.pdf" if lang == "fi" else f"invoice-{order}.pdf", pdf


def render(draft: Draft) -> bytes:
    body = str(draft.body)
    shape = draft.shape
    charset = "utf-8"
    if shape == "latin1":
        try:
            body.encode("iso-8859-1")
            str(draft.subject).encode("iso-8859-1")
            charset = "iso-8859-1"
        except UnicodeEncodeError:
            shape = "qp"
    msg = EmailMessage()
    if shape == "html":
        msg.set_content(_html(body), subtype="html", charset="utf-8", cte="quoted-printable")
    elif shape == "alternative":
        msg.set_content(body, charset="utf-8", cte="quoted-printable")
        msg.add_alternative(_html(body), subtype="html", charset="utf-8", cte="quoted-printable")
    else:
        cte = {"plain": "8bit", "qp": "quoted-printable", "base64": "base64", "attachments": "8bit"}.get(shape)
        if shape == "latin1":
            cte = "8bit" if len(body) % 2 else "quoted-printable"
        msg.set_content(body, charset=charset, cte=cte)
    for kind, filename, data in draft.attachments:
        maintype, subtype = kind.split("/")
        if maintype == "text":
            msg.add_attachment(data.decode(), subtype=subtype, charset="utf-8", filename=filename)
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    # Fixed boundaries: the same draft always gives the same bytes.
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_{draft.message_id.split('@')[0]}.{i}")
    lines = []
    for header, key in ADDRESS_FIELDS:
        if draft.headers.get(key):
            lines.append(f"{header}: " + ", ".join(_address_raw(a, charset) for a in draft.headers[key]))
    subject = str(draft.subject)
    if not subject.isascii() and len(subject) % 3 != 0:
        subject = Header(subject, charset).encode(maxlinelen=998)
    lines.append(f"Subject: {subject}")
    lines.append(f"Date: {format_datetime(draft.date)}")
    lines.append(f"Message-ID: <{draft.message_id}>")
    head = "\n".join(lines).encode(charset if charset != "iso-8859-1" else "utf-8")
    return head + b"\n" + msg.as_bytes(policy=email.policy.default.clone(linesep="\n"))


def _occurrences(text: str, needle: str, start: int, end: int | None = None) -> list[int]:
    left = r"(?<!\w)" if needle[:1].isalnum() else ""
    right = r"(?!\w)" if needle[-1:].isalnum() else ""
    pattern = re.compile(left + re.escape(needle) + right)
    stop = len(text) if end is None else end
    found: list[int] = []
    pos = start
    while True:
        match = pattern.search(text, pos)
        if match is None or match.start() + len(needle) > stop:
            return found
        found.append(match.start())
        pos = match.start() + 1


def locate(composed: Text, parsed: str) -> list[tuple[Piece, int, int]]:
    """Each piece of `composed` with its offsets in `parsed`, the same text after a trip through a mail parser.

    Walks both texts in order: a piece that is the k-th occurrence of its text
    since the previous piece in the composed text is the k-th one in the parsed
    text too.
    """
    out = []
    c_text, c_cursor, p_cursor, offset = "", 0, 0, 0
    c_text = str(composed)
    for item in composed.items:
        if isinstance(item, str):
            offset += len(item)
            continue
        k = len(_occurrences(c_text, item.text, c_cursor, offset))
        hits = _occurrences(parsed, item.text, p_cursor)
        if len(hits) <= k:
            raise AssertionError(f"piece {item.kind} not found after the parser's trip")
        start = hits[k]
        out.append((item, start, start + len(item.text)))
        offset += len(item.text)
        c_cursor, p_cursor = offset, start + len(item.text)
    return out


def fields_of(raw: bytes) -> dict[str, str]:
    """The canonical text of each labelled field of a message."""
    data = parse_message(raw)
    return {"from": ", ".join(data["from"]), "to": ", ".join(data["to"]), "cc": ", ".join(data["cc"]),
            "reply_to": ", ".join(data["reply_to"]), "subject": data["subject"] or "", "body": data["body"] or ""}


def composed_fields(draft: Draft) -> dict[str, Text]:
    out: dict[str, Text] = {}
    for _, key in ADDRESS_FIELDS:
        text = Text()
        for i, address in enumerate(draft.headers.get(key, [])):
            if i:
                text.add(", ")
            text.extend(address_text(address))
        out[key] = text
    out["subject"] = draft.subject
    out["body"] = draft.body
    return out
