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
CAPITALISED = re.compile(
    # The capital first, then what stood before it: `re` then skips ahead to capitals instead of testing
    # look-behinds at every position.
    r"[A-ZÀ-ÖØ-ÞĀ-ɏḀ-ỿΆ-ΫЀ-Я](?<![^\W_].)(?<!['’].)(?<!\w-.)[^\W\d_]*(?:['’-][^\W\d_]+)*"
)


class Token(NamedTuple):
    start: int
    end: int
    text: str


_ADDRESS = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Characters that stand for a plain space, hyphen or apostrophe, one for one, so that a finding's offsets
# hold in the original: HTML mail writes "040&nbsp;123&nbsp;4567", word processors "O’Brien" and "2–3".
_PLAIN = str.maketrans({
    **dict.fromkeys("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d", "-"),
    **dict.fromkeys("\u2019\u2018\u02bc\u2032\u00b4", "'"),
})

_UNPLAIN = re.compile("[" + "".join(chr(c) for c in _PLAIN) + "]")


class Document:
    """A text, its words and the lexicon that tells what they are; each view computed on first use.

    `text` is the text with unusual spaces, hyphens and apostrophes made plain, character for character:
    offsets into it are offsets into the original.
    """

    def __init__(self, text: str, lexicon: Lexicon) -> None:
        self.text = text.translate(_PLAIN) if _UNPLAIN.search(text) else text
        self.lexicon = lexicon

    @cached_property
    def capitalised(self) -> list[Token]:
        """The words that start with a capital letter, in order."""
        tokens = [Token(m.start(), m.end(), m.group()) for m in CAPITALISED.finditer(self.text)]
        return self._outside_addresses(tokens)

    @cached_property
    def words(self) -> frozenset[str]:
        """Every distinct word of the text."""
        return frozenset(WORD.findall(self.text))

    def occurrences(self, words: Iterable[str]) -> list[Token]:
        """Where the given words stand in the text, in order."""
        wanted = set(words)
        return self._outside_addresses(
            [Token(m.start(), m.end(), m.group()) for m in WORD.finditer(self.text) if m.group() in wanted])

    @cached_property
    def _addresses(self) -> list[tuple[int, int]]:
        """Where email addresses stand: their words are no words of the text (the address is one finding)."""
        if "@" not in self.text:
            return []
        return [m.span() for m in _ADDRESS.finditer(self.text)]

    def _outside_addresses(self, tokens: list[Token]) -> list[Token]:
        """The tokens, less those inside an email address (both in order: one walk)."""
        spans = self._addresses
        if not spans:
            return tokens
        kept, index = [], 0
        for token in tokens:
            while index < len(spans) and spans[index][1] <= token.start:
                index += 1
            if index == len(spans) or token.start < spans[index][0]:
                kept.append(token)
        return kept
