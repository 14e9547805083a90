"""Person names: found by what marks them, matched again in any case form.

A name is found where a header or a signature puts it, after a greeting, in
a structured name field, or where Voikko and the name lists say a capitalised
word is a first name or a surname. Every word of a person's name is remembered
by its base forms, so "Pekka Virtanen" seen once makes "Pekalle", "Virtaselle"
and "PEKKA" the same person later. The subject's own names and the names of
staff the controller keeps are never replaced; where a name shares a word
with the subject's ("Pekka Virtanen" beside the subject Aino Virtanen) the
whole name is someone else's, the shared word alone stays the subject's.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from redaction.analysis import WORD, Document, Token
from redaction.lexicon import Lexicon
from redaction.name_cues import (
    CLITICS,
    COLLEAGUE,
    COMPANY,
    COMPANY_FORMS,
    ENGLISH_AMBIGUOUS,
    ENGLISH_COMMON,
    INITIALS,
    KIN_JOINED,
    NAME_KEYS,
    NEXT_WORD,
    TITLE,
    adjacent,
    after_closing,
    after_greeting,
    sentence_start,
)

KIND = "name"

class _Kind(enum.Enum):
    NAME = "name"  # a known person's word, or a name nothing else
    COMMON_NAME = "common name"  # a name that is also an everyday English word
    UNKNOWN = "unknown"  # no lexicon knows it: a name only where the text marks one
    NEVER = "never"  # an ordinary word


def is_name_key(key: str) -> bool:
    """Whether a structured field of this name holds a person's name."""
    return bool(NAME_KEYS.match(key))


@dataclass(eq=False)
class Person:
    """One person by name. `label` is their placeholder, given at first use; None for the kept."""

    kept: bool = False
    label: str | None = None


class Names:
    """The people a package knows by name; `new_label` numbers placeholders in order of first use."""

    def __init__(self, lexicon: Lexicon, new_label: Callable[[], str]) -> None:
        self._lexicon = lexicon
        self._new_label = new_label
        self._owner: dict[str, Person] = {}
        # What every case form of a known name word starts with ("virta" for Virtaselle), by its first three
        # letters: a cheap filter before a word in lower case is looked up.
        self._stems: dict[str, set[str]] = {}
        self._kinds: dict[str, _Kind] = {}  # word -> what it can be, given the people known so far
        self._waiting: dict[str, list[str]] = {}  # base form -> words not (yet) names that have it
        self._kept_whole: set[frozenset[str]] = set()
        self._staff_words: set[str] = set()
        self._maybe_staff: dict[frozenset[str], Person] = {}
        self._titles: tuple[Document | None, frozenset[int]] = (None, frozenset())
        self.kept = Person(kept=True)

    def keep(self, name: str) -> None:
        """A name never replaced: the subject's, a kept staff member's. Wins over any earlier claim."""
        for base in self._bases_of(name):
            self._register(base, self.kept, replace=True)

    def keep_whole(self, name: str) -> None:
        """A name of staff: kept written whole; a word of it alone only where staff sign or a colleague
        names them ("Terveisin\nJukka", "kollegani Jukka"), and never once a stranger has that word too.
        """
        words = frozenset(self._bases_of(name, first_only=True))
        if len(words) > 1:
            self._kept_whole.add(words)
            self._staff_words.update(words)
        elif words:
            self.keep(name)

    def person(self, name: str | None = None) -> Person:
        """The person a display name or name field refers to: known by any of its words, else new."""
        if name is None:
            return Person()
        bases = self._bases_of(name)
        owners = {id(p): p for b in bases if (p := self._owner.get(b)) is not None}
        if owners and all(p.kept for p in owners.values()) and all(b in self._owner for b in bases):
            return self.kept
        third = [p for p in owners.values() if not p.kept]
        return third[0] if third else Person()

    def claim(self, name: str, person: Person) -> None:
        """Tie every word of `name` to `person`, except words already someone's."""
        if person.kept:
            self.keep(name)
            return
        for base in self._bases_of(name):
            self._register(base, person)

    def label(self, person: Person) -> str | None:
        if person.kept:
            return None
        if person.label is None:
            person.label = self._new_label()
        return person.label

    def scan(self, doc: Document, learning: bool = False) -> Iterator[tuple[int, int, Person]]:
        """Names in the text: (start, end, person), learning new people as they appear.

        While `learning`, names in lower case are skipped: only a name already known is found in lower case,
        and finding it again teaches nothing.
        """
        tokens = [Token(t.start, t.start + k.start(), t.text[:k.start()])
                  if "-" in t.text and (k := KIN_JOINED.search(t.text)) else t for t in doc.capitalised]
        stems = self._stems
        lower = [] if learning else [w for w in doc.words if w[0].islower() and w[:3] in stems
                                     and any(w.startswith(s) for s in stems[w[:3]])
                                     and self._kind_of(w) is _Kind.NAME]
        if lower:  # a known name written in lower case ("puhuin virtasen kanssa")
            tokens = sorted([*tokens, *doc.occurrences(lower)], key=lambda t: t.start)
        text = doc.text
        index = 0
        while index < len(tokens):
            if not self._candidate(doc, tokens[index]):
                index += 1
                continue
            group = [tokens[index]]
            while (index + len(group) < len(tokens)
                   and adjacent(text, group[-1], tokens[index + len(group)])
                   and (self._candidate(doc, tokens[index + len(group)], beside_name=True)
                        or self._surname_after(group[-1], tokens[index + len(group)]))):
                group.append(tokens[index + len(group)])
            index += len(group)
            # In a full name only the last word is inflected: "Annoin Warsamelle" opening a sentence is
            # "I gave" and a name.
            while len(group) > 1 and self._inflected(group[0]) and sentence_start(text, group[0].start):
                group = group[1:]
            if COMPANY.match(text, group[-1].end) or any(t.text in COMPANY_FORMS for t in group[1:]):
                continue  # "Mäki Oy", "Example Handel GmbH": a company's name
            person = self._resolve(doc, group)
            if person is not None:
                start = group[0].start
                if "." in text[max(0, start - 2):start]:  # "P. Virtanen": the initials are the name's too
                    initials = INITIALS.search(text, max(0, start - 12), start)
                    start = initials.start() if initials else start
                yield start, group[-1].end, person

    # -- internals ---------------------------------------------------------

    def _register(self, base: str, person: Person, replace: bool = False) -> None:
        if replace or base not in self._owner:
            self._owner[base] = person
            for word in self._waiting.pop(base, ()):  # words that were no name may be one now
                self._kinds.pop(word, None)
        stem = base[: max(3, len(base) - 3)]
        self._stems.setdefault(stem[:3], set()).add(stem)

    def _bases_of(self, name: str, first_only: bool = False) -> list[str]:
        """The base forms of a name's words, in the order they are written: which person a word is given
        to, and whose a name is, must not depend on the order of a set (the package is deterministic)."""
        bases: dict[str, None] = {}
        for match in WORD.finditer(name):
            word = match.group()
            if len(word) > 1:
                found = self._lexicon.bases(word[0].upper() + word[1:])
                bases.update(dict.fromkeys(found[:1] if first_only else found))
        return list(bases)

    def _known(self, word: str) -> Person | None:
        """The person a word names, by its base forms, or for a word Voikko does not know, by its stems
        ("Warsamelle", "Petrovalta" once Warsame and Petrova are known)."""
        info = self._lexicon.word(word)
        for base in (*info.bases, *info.stems):
            person = self._owner.get(base)
            if person is not None:
                return person
        return None

    def _candidate(self, doc: Document, token: Token, beside_name: bool = False) -> bool:
        kind = self._kind_of(token.text)
        if kind is _Kind.NAME:
            return True
        if kind is _Kind.NEVER:
            # Still a name after a title ("Mr. Brown", "rouva Kivi") or as a listed first name before a
            # surname that is nothing else ("Vilja Honkanen", "Antoine Girard").
            word = self._lexicon.word(token.text)
            return (token.text[0].isupper() and not token.text.isupper() and not word.place
                    and (token.start in self._titled(doc)
                         or ((word.listed_first or word.noun) and self._surname_follows(doc, token))))
        if kind is _Kind.COMMON_NAME:  # "Mark", "May", "Will": a name only beside another name
            return beside_name or self._name_follows(doc, token)
        # An unknown capitalised word is a name beside one ("Xiaoming Chen") or after a greeting ("Hei Xiaoming").
        return (beside_name or self._name_follows(doc, token)
                or after_greeting(doc.text, token.start) or after_closing(doc.text, token.start))

    def _inflected(self, token: Token) -> bool:
        """A word the lexicon knows only as a case form of a name ("Annoin": Anna), not a name as it stands."""
        info = self._lexicon.word(token.text)
        return info.known and info.name and not info.nominative and self._known(token.text) is None

    def _surname_after(self, first: Token, token: Token) -> bool:
        """A capitalised ordinary word right after a first name is a surname ("Toivo Kivi", "Satu Karhulle")."""
        word, before = token.text, self._lexicon.word(first.text)
        # The first name must be one for sure: Voikko's, or a listed name that is no ordinary word ("Asun" is).
        sure = before.given or (before.first and not before.common)
        return (sure and word[0].isupper() and not word.isupper() and word.lower() not in ENGLISH_COMMON
                and not self._lexicon.word(word).place)

    def _kind_of(self, word: str) -> _Kind:
        kind = self._kinds.get(word)
        if kind is None:
            kind = self._kinds[word] = self._kind(word)
            if kind is not _Kind.NAME:
                form = word[0] + word[1:].lower() if word.isupper() else word
                for base in self._lexicon.bases(form):
                    self._waiting.setdefault(base, []).append(word)
        return kind

    def _kind(self, word: str) -> _Kind:
        """What a word can be, whatever its place in a text (kept until the next person is learned)."""
        if len(word) < 2:
            return _Kind.NEVER
        head, mark, tail = word.rpartition("'")
        if mark and tail.lower() in CLITICS:  # "I'm", "don't": no name; "Smith's": Smith's kind
            return self._kind_of(head) if tail.lower() == "s" and len(head) > 1 else _Kind.NEVER
        if not word[0].isupper():
            # lower-case: only a name already known, and only if it is no ordinary word
            info = self._lexicon.word(word)
            known = self._known(word) is not None and not info.common and not info.english
            return _Kind.NAME if known else _Kind.NEVER
        shouted = word.isupper()
        if shouted:
            word = word[0] + word[1:].lower()
        if self._known(word) is not None:
            return _Kind.NAME
        info = self._lexicon.word(word)
        lower = word.lower()
        if info.name:
            return _Kind.COMMON_NAME if lower in ENGLISH_COMMON else _Kind.NAME
        if info.known or lower in ENGLISH_COMMON or (shouted and len(word) <= 4):  # "DHL", "EU": acronyms
            return _Kind.NEVER
        return _Kind.UNKNOWN

    def _titled(self, doc: Document) -> frozenset[int]:
        """Where words after a title or a word of kin start ("Mr. |Brown", "lapseni |Lumi"); once per text."""
        if self._titles[0] is not doc:
            self._titles = (doc, frozenset(m.end() for m in TITLE.finditer(doc.text)))
        return self._titles[1]

    def _surname_follows(self, doc: Document, token: Token) -> bool:
        match = NEXT_WORD.match(doc.text, token.end)
        if match is None or not match.group(1)[0].isupper():
            return False
        info = self._lexicon.word(match.group(1))
        return info.last and not info.common and not info.first

    def _name_follows(self, doc: Document, token: Token) -> bool:
        """A name, or a word no lexicon knows, follows: "Xiaoming Chen", "Babatunji Makinde"."""
        match = NEXT_WORD.match(doc.text, token.end)
        if match is None or not match.group(1)[0].isupper():
            return False
        kind = self._kind_of(match.group(1))
        return kind is _Kind.NAME or kind is _Kind.UNKNOWN

    def _resolve(self, doc: Document, group: list[Token]) -> Person | None:
        """Whose name the group of words is, or None if it is no name."""
        words = [t.text if not t.text.isupper() else t.text[0] + t.text[1:].lower() for t in group]
        if self._kept_whole and len(group) > 1:
            found = {b for w in words for b in self._lexicon.bases(w)}
            if any(whole <= found for whole in self._kept_whole):
                return self.kept
        infos = [self._lexicon.word(w) for w in words]
        owners = [self._known(w) for w in words]
        if (self._staff_words and all(p is None for p in owners)
                and all(not self._staff_words.isdisjoint(self._lexicon.bases(w)) for w in words)):
            if (after_closing(doc.text, group[0].start)
                    or COLLEAGUE.search(doc.text, max(0, group[0].start - 30), group[0].start)):
                return self.kept  # staff signing, or named by a colleague
            # Elsewhere it may be anyone: replaced, without making the word a stranger's.
            key = frozenset(b for w in words for b in self._lexicon.bases(w) if b in self._staff_words)
            return self._maybe_staff.setdefault(key, Person())
        titled = group[0].start in self._titled(doc)
        if not any(owners) and not titled:  # after a title ("Mr. Brown", "rouva Kivi") it is a name
            marked = after_greeting(doc.text, group[0].start) or after_closing(doc.text, group[0].start)
            if len(group) == 1:
                info, lower = infos[0], words[0].lower()
                ambiguous = info.common or lower in ENGLISH_AMBIGUOUS or lower in ENGLISH_COMMON or not info.name
                rescued = marked and not info.common and lower not in ENGLISH_COMMON
                doubtful = lower in ENGLISH_COMMON or not info.name or sentence_start(doc.text, group[0].start)
                if ambiguous and not rescued and doubtful:
                    return None
            elif not any(i.name for i in infos) and any(i.known for i in infos):
                return None  # "Hyvä Asiakas": no word of it is a name (two words no lexicon knows are one)
        third = [p for p in owners if p is not None and not p.kept]
        if not third and all(p is not None and p.kept for p in owners):
            return self.kept
        person = third[0] if third else Person()
        for word, owner in zip(words, owners, strict=True):
            if owner is None:
                for base in self._lexicon.bases(word):
                    self._register(base, person)
        return person
