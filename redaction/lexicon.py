"""What a word is: Finnish morphology from Voikko, person names from name lists.

Voikko (Debian `libvoikko1` + `voikko-fi`) reduces an inflected word to its base
forms and tells proper names (`etunimi`, `sukunimi`) from common words; it does
not know many foreign names, so the first and last names of Faker's person
providers (drawn from national statistics) fill in, with Finnish case endings
stripped so that "Johnsonille" is found as "Johnson". One `Lexicon` is shared by
every text of a package: each distinct word is analysed once.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from redaction.errors import RedactionError

# Locales whose names our first users' customers and contacts carry, in Latin script.
_NAME_LOCALES = ("fi_FI", "sv_SE", "et_EE", "en_GB", "en_US", "en_IE", "de_DE", "nl_NL", "fr_FR", "es_ES",
                 "it_IT", "tr_TR", "pl_PL", "cs_CZ", "da_DK", "no_NO", "pt_PT", "hu_HU", "lv_LV", "lt_LT")
# Finnish case endings (and the -i- that joins them to a consonant), longest first.
_ENDINGS = tuple(sorted({
    "lle", "lla", "llä", "lta", "ltä", "ssa", "ssä", "sta", "stä", "ksi", "na", "nä", "n", "a", "ä", "ta", "tä",
    "tta", "ttä", "in", "ine", "ineen", "ille", "illa", "illä", "ilta", "iltä", "issa", "issä", "ista", "istä",
    "iksi", "ina", "inä", "ia", "iä", "iin", "seen", "hin", "han", "hen", "hon", "lleen", "kin", "ko", "kö",
}, key=len, reverse=True))
_PROPER = frozenset({"etunimi", "sukunimi"})
_NOT_COMMON = _PROPER | {"paikannimi", "nimi"}


@dataclass(frozen=True)
class Word:
    """What the lexicon knows of one word.

    `bases`: lower-cased base forms (the word itself among them). `first` and
    `last`: it can be a first name or a surname. `common`: it can also be an
    ordinary word ("Tuuli", "Satu", "Laine"). `place`: a place name.
    """

    bases: tuple[str, ...]
    first: bool = False
    last: bool = False
    common: bool = False
    place: bool = False
    known: bool = False  # Voikko or a name list recognised it at all

    @property
    def name(self) -> bool:
        return self.first or self.last


class Lexicon:
    """Analyses words with Voikko and name lists; cached per instance."""

    def __init__(self) -> None:
        try:
            import libvoikko
            self._voikko = libvoikko.Voikko("fi")
        except (ImportError, OSError) as exc:
            raise RedactionError(
                "Voikko is needed to find names in Finnish text: apt-get install libvoikko1 voikko-fi"
            ) from exc
        self._firsts, self._lasts = name_lists()
        self._cache: dict[str, Word] = {}

    def word(self, token: str) -> Word:
        """The analysis of `token` (a word as written; case matters to Voikko)."""
        found = self._cache.get(token)
        if found is None:
            found = self._cache[token] = self._analyse(token)
        return found

    def bases(self, token: str) -> tuple[str, ...]:
        return self.word(token).bases

    def _analyse(self, token: str) -> Word:
        lower = token.lower()
        bases = {lower}
        first = last = common = place = False
        analyses = self._voikko.analyze(token)
        if not analyses and token[:1].islower():
            analyses = self._voikko.analyze(token[:1].upper() + token[1:])
        common_bases: set[str] = set()
        for analysis in analyses:
            kind = analysis.get("CLASS", "")
            base = analysis.get("BASEFORM", "").lower()
            if kind == "etunimi":
                first = True
            elif kind == "sukunimi":
                last = True
            elif kind == "paikannimi":
                place = True
            elif kind not in _NOT_COMMON:
                common = True
                common_bases.add(base)
            if base and (kind in _PROPER or kind == "paikannimi"):
                bases.add(base)
        if common and (first or last) and not _truly_common(lower, bases, common_bases, analyses):
            common = False
        for stem in self._stems(lower):
            if stem in self._firsts or stem in self._lasts:
                bases.add(stem)
        for base in tuple(bases):
            first = first or (base in self._firsts and not common)
            last = last or (base in self._lasts and not common)
        if place and not (first or last):
            # Mäkelä, Heikkilä: Voikko knows the village, the name lists the family.
            first, last = lower in self._firsts, lower in self._lasts
        return Word(tuple(sorted(bases, key=lambda b: (b != lower, b))), first, last, common, place,
                    known=bool(analyses) or first or last)

    @staticmethod
    def _stems(lower: str) -> list[str]:
        """The word with one Finnish case ending (or an apostrophe and what follows) taken off."""
        for mark in ("'", "’"):
            if mark in lower:
                return [lower.split(mark, 1)[0]]
        return [lower[: -len(e)] for e in _ENDINGS if lower.endswith(e) and len(lower) - len(e) >= 3]


def _truly_common(lower: str, bases: set[str], common_bases: set[str], analyses: list[dict[str, str]]) -> bool:
    """Whether a word that is a name is as likely an ordinary word.

    Not when the ordinary reading is a case form of another word ("Marjatta": marja, without berries) while
    the name is written in its own form, nor when it is only an adjective in -nen beside a surname in -nen
    ("Koskinen", "Järvinen").
    """
    names = bases - {lower} | ({lower} if any(a.get("BASEFORM", "").lower() == lower and a.get("CLASS") in _PROPER
                                             for a in analyses) else set())
    if lower in names and lower not in common_bases:
        return False
    adjectives = {a.get("CLASS") for a in analyses if a.get("CLASS") not in _NOT_COMMON}
    in_nen = all(b.endswith("nen") for b in common_bases) and any(b.endswith("nen") for b in names)
    return not (in_nen and adjectives <= {"laatusana", "nimisana_laatusana"})


@cache
def shared_lexicon() -> Lexicon:
    """The process's Lexicon: Voikko's handle and the name lists load once, the word cache grows across texts."""
    return Lexicon()


@cache
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """Lower-cased first names and surnames from Faker's person providers."""
    firsts: set[str] = set()
    lasts: set[str] = set()
    for locale in _NAME_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            firsts.update(_names(getattr(provider, attr, ())))
        lasts.update(_names(getattr(provider, "last_names", ())))
    return frozenset(firsts), frozenset(lasts)


def _names(values: object) -> set[str]:
    # Faker keeps some lists as {name: weight} mappings, some as tuples.
    names = values.keys() if isinstance(values, dict) else values
    return {n.lower() for n in names if isinstance(n, str) and " " not in n and len(n) > 1}  # type: ignore[attr-defined]
