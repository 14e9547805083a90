"""A customer-service mail archive kept as an mbox file.

    path = "support.mbox"        # relative to the config's directory

A message belongs to the subject when one of their addresses (`Subject.emails`) is in From, To, Cc or
Reply-To. A message that cannot be parsed at all but names the subject's
address in its header block is never handed over: it comes back as a
`withheld` record (hash, size, Message-ID) for a privacy officer to review.
"""

from __future__ import annotations

import hashlib
import mailbox
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import Field

from extractors.errors import SourceUnavailable
from extractors.mail.parse import MESSAGES, address_pattern, header_block, parse_fields, raw_message_id
from extractors.records import WITHHELD, Record, Subject
from extractors.settings import SourceSettings, parse_settings


class MboxSettings(SourceSettings):
    path: str = Field(min_length=1)


class MboxSource:
    """Yields one `messages` record per message that names the subject."""

    def __init__(
        self, name: str, settings: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]
    ) -> None:
        self.name = name
        self.settings = parse_settings(MboxSettings, name, settings)
        self.path = base_dir / self.settings.path

    def records(self, subject: Subject) -> Iterator[Record]:
        if not self.path.is_file():
            raise SourceUnavailable(self.name, "mail archive not found")
        box = mailbox.mbox(self.path, create=False)
        seen: dict[str, int] = {}
        # An address cannot be encoded or folded inside a header (RFC 5322 addr-spec),
        # so a message without its bytes is not the subject's: skip parsing it.
        needles = [email.encode("utf-8") for email in subject.emails]
        try:
            for key in box.iterkeys():
                raw = box.get_bytes(key)
                lowered = raw.lower()
                if not any(needle in lowered for needle in needles):
                    continue
                try:
                    record = _record(self.name, raw, subject)
                except Exception:
                    # Never drop mail silently, never hand over what could not be checked:
                    # if the address is in its header, list it as withheld.
                    record = _withheld_record(self.name, raw, subject)
                if record is None:
                    continue
                # A copy of the same message keeps its own stable key.
                count = seen[record.key] = seen.get(record.key, 0) + 1
                if count > 1:
                    record = replace(record, key=f"{record.key}#{count}")
                yield record
        except OSError:
            raise SourceUnavailable(self.name, "mail archive could not be read") from None
        finally:
            box.close()


def _record(source: str, raw: bytes, subject: Subject) -> Record | None:
    data, addresses = parse_fields(raw)
    if not any(email in found for found in addresses.values() for email in subject.emails):
        return None
    message_id = data["message_id"]
    return Record(
        source=source,
        category=MESSAGES,
        key=message_id or hashlib.sha256(raw).hexdigest(),
        data=data,
        provided=any(email in addresses["from"] for email in subject.emails),
    )



def _withheld_record(source: str, raw: bytes, subject: Subject) -> Record | None:
    """A message that could not be parsed, if its header names the subject: listed, never delivered.

    Only the hash, the size and the Message-ID leave: its headers and body may
    be a stranger's, and nothing parsed them to tell.
    """
    header = header_block(raw)
    if not any(address_pattern(email).search(header) for email in subject.emails):
        return None
    digest = hashlib.sha256(raw).hexdigest()
    return Record(
        source=source,
        category=WITHHELD,
        key=digest,
        data={"reason": "unparsed", "sha256": digest, "bytes": len(raw),
              "message_id": raw_message_id(header)},
    )


