"""Detectors: small classes, mostly data, that find personal data in a text.

Each detector has a `kind` and a `find(doc)` that yields `Finding`s, with the
value normalised so that two spellings of the same thing compare equal. A new
detector with a fixed shape is a `PatternDetector` subclass: a pattern and a
`validate` that returns the normalised value or None to reject the match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from redaction.analysis import Document


@dataclass(frozen=True)
class Finding:
    """One piece of personal data at text[start:end].

    `name` is a display name that the text ties to the value (the "Matti
    Virtanen" in "Matti Virtanen <matti@x.fi>"); the span then covers it too.
    """

    start: int
    end: int
    kind: str
    value_normalised: str
    name: str | None = None


class Detector(Protocol):
    kind: ClassVar[str]

    def find(self, doc: Document) -> Iterator[Finding]: ...


_AFTER_ANCHOR = 256  # a domain name is at most 253 characters


class PatternDetector:
    """A detector defined by one compiled regex and a validator.

    If every match holds something rare and cheap to find (the "@" of an address), `anchor`
    finds that, and `pattern` is only tried from `reach` characters before it.
    """

    kind: ClassVar[str]
    pattern: ClassVar[re.Pattern[str]]
    anchor: ClassVar[re.Pattern[str] | None] = None
    reach: ClassVar[int] = 80

    def validate(self, match: re.Match[str]) -> str | None:
        """The normalised value of a match, or None to reject it."""
        return match.group(0)

    def find(self, doc: Document) -> Iterator[Finding]:
        for match in self._matches(doc.text):
            value = self.validate(match)
            if value is not None:
                yield Finding(match.start(), match.end(), self.kind, value)

    def _matches(self, text: str) -> Iterator[re.Match[str]]:
        """`pattern.finditer(text)`, but only looking around the anchors if there is one."""
        if self.anchor is None:
            yield from self.pattern.finditer(text)
            return
        end = 0
        for hit in self.anchor.finditer(text):
            if hit.start() < end:
                continue
            match = self.pattern.search(text, max(end, hit.start() - self.reach), hit.end() + _AFTER_ANCHOR)
            # One that starts after the anchor may be cut short by the window: it is found from its own anchor.
            if match is not None and match.start() <= hit.start():
                yield match
                end = match.end()


_NAME_WORD = r"[^\W\d_][\w.'’-]*"
# A display name right before "<addr>": quoted ("Virtanen, Matti") or up to
# three bare words on the same line. Searched in a short window only.
_NAME_BEFORE = re.compile(
    rf"""(?:"(?P<quoted>[^"\r\n]{{1,100}})"|(?<!\w)(?P<bare>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}))[ \t]*\Z"""
)
_NAME_WINDOW = 120
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"


class EmailDetector(PatternDetector):
    """Email addresses, lower-cased; "Name <addr>" is one finding with the name."""

    kind = "email"
    pattern = re.compile(
        r"(?<![\w.!#$%&'*+/=?^`{|}~-])" + _LOCAL +
        r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?!\w)"
    )
    anchor = re.compile("@")

    def validate(self, match: re.Match[str]) -> str | None:
        return match.group(0).lower()

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        if "@" not in text:
            return
        for finding in super().find(doc):
            start, end = finding.start, finding.end
            if start == 0 or text[start - 1] != "<" or text[end:end + 1] != ">":
                yield finding
                continue
            lt = start - 1
            window_start = max(0, lt - _NAME_WINDOW)
            before = _NAME_BEFORE.search(text, window_start, lt)
            name, name_start = None, lt
            if before is not None:
                name, name_start = _display_name(before)
            yield Finding(name_start, end + 1, self.kind, finding.value_normalised, name)


def _display_name(match: re.Match[str]) -> tuple[str | None, int]:
    """The display name and where it starts; bare names start at a capital."""
    if match.group("quoted") is not None:
        name = match.group("quoted").strip()
        return (name or None), match.start()
    words = list(re.finditer(r"\S+", match.group("bare")))
    while words and not words[0].group(0)[0].isupper():
        words.pop(0)
    if not words:
        return None, match.end()
    base = match.start("bare")
    name = match.group("bare")[words[0].start():].strip()
    return name, base + words[0].start()


_AT = r"(?:\s*[(\[{<]\s*(?i:at|ät|a)\s*[)\]}>]\s*|\s+(?i:at|ät)\s+|\s*@\s*)"
_DOT = r"(?:\s*[(\[{<]\s*(?i:dot|piste|p)\s*[)\]}>]\s*|\s+(?i:dot|piste)\s+|\.)"


# A written-out domain ends in a real top-level domain: a country's two letters or a common generic one.
# Without that, "or at anna.smith(at)gmail.com" would be the address "or@anna.smith".
_TLD = (
    r"[A-Za-z]{2}|(?i:com|net|org|info|biz|edu|gov|mil|int|name|pro|mobi|asia|tel|travel|jobs|coop|aero|museum|"
    r"app|dev|xyz|online|site|shop|store|tech|cloud|email|live|blog|news|club|art)"
)


class ObfuscatedEmailDetector(PatternDetector):
    """Addresses written to fool harvesters: `name at domain dot fi`, `name(at)domain.fi`, `name [at] x [dot] fi`."""

    kind = "email"
    pattern = re.compile(
        rf"(?<![\w.@-])(?P<local>[A-Za-z0-9._%+-]+){_AT}(?P<domain>[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*){_DOT}"
        rf"(?P<tld>{_TLD})(?![\w@])"
    )
    anchor = re.compile(r"[(\[{<]\s*(?i:at|ät|a)\s*[)\]}>]|\s(?i:at|ät)\s|@")

    def validate(self, match: re.Match[str]) -> str | None:
        written = match.group(0)
        if EmailDetector.pattern.fullmatch(written):
            return None  # a plain address: EmailDetector's
        domain = re.split(_DOT, match.group("domain"))
        if domain[0].lower() == "www":
            return None  # "visit us at www.example.com": a website
        return f"{match.group('local')}@{'.'.join(domain)}.{match.group('tld')}".lower()
