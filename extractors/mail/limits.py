"""How much of one message the mail source reads; set per source in config.

    max_message_mib = 25     # a larger message is withheld (`too_large`), never parsed
    max_parts = 100          # MIME entities, the message itself and nested ones included (`too_many_parts`)
    max_text_mib = 5         # an attached text part redaction would read, decoded; larger ones are withheld

A withheld message is listed with its sha256, size and Message-ID for a
privacy officer to review; a withheld attachment is named in its message.
The defaults keep one message's memory well under 256 MiB.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from extractors.settings import SourceSettings

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 25 * MIB
    max_parts: int = 100
    max_text_bytes: int = 5 * MIB


class LimitSettings(SourceSettings):
    """The config keys of `Limits`, for a mail source's settings model to inherit."""

    max_message_mib: float = Field(default=Limits.max_message_bytes / MIB, gt=0)
    """A larger message is withheld (`too_large`), never parsed."""
    max_parts: int = Field(default=Limits.max_parts, ge=1)
    """MIME entities per message, the message itself and nested ones included; more are withheld."""
    max_text_mib: float = Field(default=Limits.max_text_bytes / MIB, gt=0)
    """An attached text part redaction would read, decoded; a larger one is withheld."""

    def limits(self) -> Limits:
        return Limits(max_message_bytes=int(self.max_message_mib * MIB), max_parts=self.max_parts,
                      max_text_bytes=int(self.max_text_mib * MIB))
