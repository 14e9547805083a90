"""Redact one RFC 5322 message: what `dsar redact` prints and the evaluation scores.

The message is parsed by the mail source's own parser and redacted by the same
Redactor the flow uses, so what a privacy officer reviews here is what a
requester would get.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from extractors.mail import parse_message
from extractors.records import Record, Subject
from redaction.errors import UnreadableMessage
from redaction.policy import Policy
from redaction.redactor import Redactor

# Header fields written back, in order, with the record key each comes from.
_HEADERS = (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Reply-To", "reply_to"), ("Subject", "subject"),
            ("Date", "date"))


def redact_message(
    raw: bytes, subject: Subject, policy: Policy | None = None, own: Iterable[Mapping[str, Any]] = ()
) -> bytes:
    """The message with third parties replaced, as UTF-8 RFC 5322 bytes (headers and text body).

    `own` holds records that describe the subject (their customer row, say), as the flow has them from
    the sources: every value in them is the subject's and is kept.
    """
    try:
        data = parse_message(raw)
    except Exception:
        raise UnreadableMessage() from None
    record = Record("message", "messages", "message", data)
    records = [*(Record("subject", "own", str(i), r, about_subject=True) for i, r in enumerate(own)), record]
    redactor = Redactor(subject, policy or Policy())
    redactor.learn_all(lambda: records)
    return render_message(redactor.redact(record).data)


def render_message(data: Mapping[str, Any]) -> bytes:
    """A record of the mail source as a message: the headers it holds and its text body, UTF-8 throughout;
    an `X-Dsar-Attachments` header names the attachments.

    Written by hand rather than through `EmailMessage`: a placeholder is no address, and the header registry
    would both reject it and cost more than the redaction.
    """
    lines = []
    for header, key in _HEADERS:
        value = data.get(key)
        if isinstance(value, list):
            value = ", ".join(value)
        if value and key == "date":
            value = format_datetime(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))
        if value:
            lines.append(f"{header}: {_one_line(value)}")
    # Attachments are named, not printed: the body is the message's text alone. Their text is redacted
    # in the package; what redaction cannot read is withheld there for review.
    attached = [f"{a.get('filename') or '(no name)'} ({a.get('content_type')}, "
                f"{'redacted text' if 'text' in a else 'withheld'})" for a in data.get("attachments") or ()]
    if attached:
        lines.append(f"X-Dsar-Attachments: {_one_line('; '.join(attached))}")
    lines += ["MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
    body = (data.get("body") or "").replace("\r\n", "\n").replace("\r", "\n")
    body = body if not body or body.endswith("\n") else body + "\n"
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _one_line(value: str) -> str:
    return " ".join(value.split())
