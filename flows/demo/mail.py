"""The demo company's customer-service archive: threads rendered as raw RFC 5322 messages in an mbox."""

from __future__ import annotations

import base64
import mailbox
import os
import quopri
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path

from flows.demo import names as N

Addr = tuple[str, str]  # (display name, email as written in the header)
ROLE: Addr = (N.ROLE_NAME, N.ROLE_ADDRESS)
KINDS = ("plain", "qp", "b64", "attach", "malformed", "wrongcharset")


@dataclass
class Mail:
    date: datetime  # aware, UTC
    sender: Addr
    to: Sequence[Addr]
    cc: Sequence[Addr]
    subject: str
    body: str
    msgid: str = ""
    parents: list[str] = field(default_factory=list)  # References, oldest first
    kind: str = "plain"
    attachment: tuple[str, str] | None = None  # (filename, text)
    header_charset: str = "utf-8"


@dataclass
class Step:
    sender: Addr
    to: Sequence[Addr]
    cc: Sequence[Addr] = ()
    body: str = ""
    kind: str = "plain"
    attachment: tuple[str, str] | None = None
    quote: bool = True
    header_charset: str = "utf-8"


def helsinki(dt: datetime) -> datetime:
    """`dt` in Finnish local time (EET/EEST, EU rule: last Sunday of March/October at 01:00 UTC)."""

    def last_sunday(month: int) -> datetime:
        d = datetime(dt.year, month, 31, 1, tzinfo=UTC)
        return d - timedelta(days=(d.weekday() + 1) % 7)

    summer = last_sunday(3) <= dt.astimezone(UTC) < last_sunday(10)
    return dt.astimezone(timezone(timedelta(hours=3 if summer else 2)))


def thread(rng: random.Random, start: datetime, subject: str, lang: str, steps: Sequence[Step]) -> list[Mail]:
    """Messages of one thread: dates move forward, replies quote and reference their parent."""
    mails: list[Mail] = []
    t = start
    for i, s in enumerate(steps):
        body = s.body
        parents: list[str] = []
        if mails:
            prev = mails[-1]
            t = t + timedelta(minutes=rng.randint(25, 60 * 40))
            parents = [*prev.parents, prev.msgid][-8:]
            if s.quote:
                local = helsinki(prev.date).strftime("%d.%m.%Y %H.%M" if lang == "fi" else "%Y-%m-%d %H:%M")
                intro = N.QUOTE_INTRO[lang].format(date=local, name=prev.sender[0] or prev.sender[1])
                quoted = "\n".join(("> " + line).rstrip() for line in prev.body.splitlines())
                body = f"{body}\n\n{intro}\n{quoted}"
        domain = s.sender[1].rsplit("@", 1)[1].lower()
        msgid = f"<{t:%Y%m%d%H%M%S}.{rng.getrandbits(40):010x}@{domain}>"
        subj = subject if i == 0 else N.REPLY_PREFIX[lang] + subject
        mails.append(Mail(t, s.sender, s.to, s.cc, subj, body, msgid, parents, s.kind, s.attachment, s.header_charset))
    return mails


def general_thread(rng: random.Random, cust, others: Sequence, start: datetime) -> list[Mail]:
    """A customer-service thread between `cust` and staff, sometimes mentioning or copying a third party."""
    lang = cust.language
    topic = rng.choice(N.TOPICS)
    order = rng.choice(cust.orders) if cust.orders else None
    fields = {
        "order": order.number if order else rng.randint(10001, 14999),
        "product": rng.choice(N.PRODUCTS)[0],
        "days": rng.randint(2, 7),
    }
    subject = rng.choice(N.SUBJECTS[lang][topic]).format(**fields)
    email = cust.email if rng.random() > 0.06 else cust.email.title()
    me: Addr = (f"{cust.first_name} {cust.last_name}", email)
    staff: Addr = rng.choice(N.STAFF)
    cc_me: list[Addr] = []
    opening = rng.choice(N.OPENINGS[lang][topic]).format(**fields)
    extra = ""
    if rng.random() < 0.12:
        tp = rng.choice(others)
        while tp is cust:
            tp = rng.choice(others)
        fmt = rng.choice(phone_formats(tp.national))
        extra = "\n" + rng.choice(N.THIRD_PARTY_LINES[lang]).format(
            tp_name=f"{tp.first_name} {tp.last_name}", tp_phone=fmt, tp_email=tp.email
        )
        if rng.random() < 0.4:
            cc_me = [(f"{tp.first_name} {tp.last_name}", tp.email)]
    first = f"{N.CUSTOMER_GREETING[lang]}\n\n{cap(opening)}{extra}\n\n{N.CUSTOMER_SIGN_OFF[lang]}\n{me[0]}"
    steps = [Step(me, [ROLE], cc_me, first, quote=False)]
    n = rng.choices((1, 2, 3, 4, 5), weights=(10, 35, 30, 15, 10))[0]
    for i in range(1, n):
        if i % 2:
            reply = rng.choice(N.REPLIES[lang]).format(**fields)
            text = (
                f"{N.GREETING[lang].format(first=cust.first_name)}\n\n{cap(reply)}\n\n"
                f"{N.SIGN_OFF[lang]}\n{staff[0]}\nDemo Kauppa Oy"
            )
            steps.append(Step(staff, [me], [ROLE, *cc_me] if i == 1 else cc_me, text))
        else:
            steps.append(Step(me, [staff], cc_me, f"{rng.choice(N.FOLLOWUPS[lang])}\n\n{cust.first_name}"))
    return thread(rng, start, subject, lang, steps)


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def phone_formats(national: str) -> list[str]:
    """Ways people type a Finnish mobile number; `national` is the 9 digits after +358 (e.g. "401234567")."""
    p, r = national[:2], national[2:]
    return [
        f"0{p} {r[:3]} {r[3:]}",
        f"+358 {p} {r}",
        f"0{p}{r}",
        f"+358{p}{r}",
        f"0{p}-{r}",
        f"+358 {p} {r[:3]} {r[3:]}",
    ]


def _addr(a: Addr, charset: str) -> str:
    return formataddr(a, charset=charset)


def _header(text: str, charset: str, name: str) -> str:
    if text.isascii():
        return text
    return Header(text, charset, header_name=name).encode(linesep="\n")


def render(m: Mail, seq: int) -> bytes:
    """The message as mbox-ready bytes: a fixed From_ line, then headers and body."""
    cs = m.header_charset
    envelope = time.asctime(m.date.astimezone(UTC).timetuple())
    head = [
        f"From {m.sender[1]} {envelope}",
        f"From: {_addr(m.sender, cs)}",
        "To: " + ",\n ".join(_addr(a, cs) for a in m.to),
    ]
    if m.cc:
        head.append("Cc: " + ",\n ".join(_addr(a, cs) for a in m.cc))
    head += [
        f"Subject: {_header(m.subject, cs, 'Subject')}",
        f"Date: {format_datetime(helsinki(m.date))}",
        f"Message-ID: {m.msgid}",
    ]
    if m.parents:
        head += [f"In-Reply-To: {m.parents[-1]}", "References: " + "\n ".join(m.parents)]
    head.append("MIME-Version: 1.0")
    text = m.body.rstrip("\n") + "\n"
    utf8 = "Content-Type: text/plain; charset=utf-8\n"
    if m.kind == "plain":
        tail = (utf8 + "Content-Transfer-Encoding: 8bit\n\n").encode() + text.encode()
    elif m.kind == "qp":
        tail = (utf8 + "Content-Transfer-Encoding: quoted-printable\n\n").encode() + quopri.encodestring(text.encode())
    elif m.kind == "b64":
        tail = (utf8 + "Content-Transfer-Encoding: base64\n\n").encode() + base64.encodebytes(text.encode())
    elif m.kind == "wrongcharset":  # declares UTF-8 but the bytes are Latin-1
        tail = (utf8 + "Content-Transfer-Encoding: 8bit\n\n").encode() + text.encode("latin-1", "replace")
    elif m.kind == "attach":
        assert m.attachment is not None
        fname, content = m.attachment
        b = f"=_demo_part_{seq:05d}"
        tail = (
            (
                f'Content-Type: multipart/mixed; boundary="{b}"\n\nThis is a multi-part message in MIME format.\n'
                f"\n--{b}\n{utf8}Content-Transfer-Encoding: 8bit\n\n{text}\n--{b}\n"
                f'Content-Type: text/plain; charset=utf-8; name="{fname}"\n'
                f'Content-Disposition: attachment; filename="{fname}"\nContent-Transfer-Encoding: base64\n\n'
            ).encode()
            + base64.encodebytes(content.encode())
            + f"\n--{b}--\n".encode()
        )
    elif m.kind == "malformed":  # multipart without a boundary parameter
        tail = (
            f"Content-Type: multipart/mixed\n\n--demo-lost-boundary\n{utf8}\n{text}--demo-lost-boundary--\n"
        ).encode()
    else:
        raise ValueError(f"unknown message kind {m.kind!r}; expected one of {', '.join(KINDS)}")
    return "\n".join(head).encode("ascii") + b"\n" + tail


def write_mbox(mails: Sequence[Mail], path: Path) -> None:
    """Write `mails` in date order to `path` atomically (a temporary file renamed into place)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    box = mailbox.mbox(tmp, create=True)
    try:
        for seq, m in enumerate(sorted(mails, key=lambda m: (m.date, m.msgid))):
            box.add(render(m, seq))
        box.flush()
    finally:
        box.close()
    os.replace(tmp, path)
