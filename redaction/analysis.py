"""One text, analysed once and shared by every detector (presidio's `nlp_artifacts` seam)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from typing import NamedTuple

from redaction.lexicon import Lexicon

# A word: letters, with inner hyphens or apostrophes ("Anna-Liisa", "O'Brien", "Smith'ille").
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# A word that starts with a capital: where names are looked for first. Scanned in C, not word by word.
# The class holds every capital letter of Latin (with its extensions), Greek and Cyrillic, and some small
# letters of the mixed ranges: those are told apart by `isupper` later.
CAPITALISED = re.compile(r"(?<![^\W_])(?<!['’])(?<!\w-)[A-ZÀ-ÖØ-ÞĀ-ɏḀ-ỿΆ-ΫЀ-Я][^\W\d_]*(?:['’-][^\W\d_]+)*")


class Token(NamedTuple):
    start: int
    end: int
    text: str


_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Characters that stand for a plain space, hyphen or apostrophe, one for one, so that a finding's offsets
# hold in the original: HTML mail writes "040&nbsp;123&nbsp;4567", word processors "O’Brien" and "2–3".
_PLAIN = str.maketrans({
    **dict.fromkeys("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d", "-"),
    **dict.fromkeys("\u2019\u2018\u02bc\u2032\u00b4", "'"),
})


class Document:
    """A text, its words and the lexicon that tells what they are; each view computed on first use.

    `text` is the text with unusual spaces, hyphens and apostrophes made plain, character for character:
    offsets into it are offsets into the original.
    """

    def __init__(self, text: str, lexicon: Lexicon) -> None:
        self.text = text.translate(_PLAIN)
        self.lexicon = lexicon

    @cached_property
    def capitalised(self) -> list[Token]:
        """The words that start with a capital letter, in order."""
        return [Token(m.start(), m.end(), m.group()) for m in CAPITALISED.finditer(self.text)
                if not self._in_address(m.start())]

    @cached_property
    def words(self) -> frozenset[str]:
        """Every distinct word of the text."""
        return frozenset(WORD.findall(self.text))

    def occurrences(self, words: Iterable[str]) -> list[Token]:
        """Where the given words stand in the text, in order."""
        wanted = set(words)
        return [Token(m.start(), m.end(), m.group()) for m in WORD.finditer(self.text)
                if m.group() in wanted and not self._in_address(m.start())]

    @cached_property
    def _addresses(self) -> list[tuple[int, int]]:
        """Where email addresses stand: their words are no words of the text (the address is one finding)."""
        if "@" not in self.text:
            return []
        return [m.span() for m in _ADDRESS.finditer(self.text)]

    def _in_address(self, position: int) -> bool:
        return any(start <= position < end for start, end in self._addresses)
