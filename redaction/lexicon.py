"""What a word is: Finnish morphology from Voikko, person names from name lists, English words from a dictionary.

Voikko (Debian `libvoikko1` + `voikko-fi`) reduces an inflected word to its base
forms and tells proper names (`etunimi`, `sukunimi`) from common words; it does
not know many foreign names, so the first and last names of Faker's person
providers in Latin script (drawn from national statistics, some 60 countries)
fill in, with Finnish case endings stripped so that "Johnsonille" is found as
"Johnson". Debian's English word list (`wamerican`) tells which words are also
ordinary English ("Rose", "Will", "Order"). One `Lexicon` is shared by every text
of a package: each distinct word is analysed once.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from redaction.errors import RedactionError

# Faker's person providers whose names are written in Latin script (tests/redaction/test_lexicon.py checks
# the list against the installed Faker): importing only these keeps start-up short.
NAME_LOCALES = (
    "cs_CZ", "da_DK", "de_AT", "de_CH", "de_DE", "de_LI", "de_LU", "en", "en_GB", "en_IE", "en_IN", "en_KE",
    "en_NG", "en_NZ", "en_PK", "en_TH", "en_US", "es", "es_AR", "es_CA", "es_CL", "es_CO", "es_ES", "es_MX",
    "et_EE", "fi_FI", "fr_BE", "fr_CA", "fr_CH", "fr_DZ", "fr_FR", "fr_QC", "ga_IE", "ha_NG", "hr_HR", "hu_HU",
    "id_ID", "ig_NG", "is_IS", "it_IT", "lt_LT", "lv_LV", "nl_BE", "nl_NL", "no_NO", "pl_PL", "pt_BR", "pt_PT",
    "ro_RO", "sk_SK", "sl_SI", "sv_SE", "sw", "tr_TR", "tw_GH", "uz_UZ", "vi_VN", "yo_NG", "zu_ZA",
)
# Words analysed and kept per process: some 60 MB at most (about 300 bytes a word).
CACHE_WORDS = 200_000
# Lower-case entries are ordinary English words; capitalised ones are names and places, not used.
ENGLISH_WORDS = Path("/usr/share/dict/american-english")
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
    given: bool = False  # Voikko itself knows it as a first name
    english: bool = False  # an ordinary English word as well ("will", "rose")
    stems: tuple[str, ...] = ()  # what it may be without a case ending (matched against known people only)
    nominative: bool = False  # a name as it stands ("Anna"), not a case form of one ("Annoin": Anna)
    compound: bool = False  # Voikko reads it as a compound word ("Pellon|pää", "Kuusi|tie")
    listed_first: bool = False  # a first name in the lists, even if also an ordinary word ("Armas", "Vilja")
    noun: bool = False  # Voikko reads it as a noun as it stands ("Lumi", "Aamu"): a first name before a surname

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
        self._english = english_words()
        self._proper = english_proper()
        self._cache: dict[str, Word] = {}

    def word(self, token: str) -> Word:
        """The analysis of `token` (a word as written; case matters to Voikko)."""
        found = self._cache.get(token)
        if found is None:
            if len(self._cache) >= CACHE_WORDS:  # a long-lived worker meets ever new words: stay bounded
                self._cache.clear()
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
        stems = tuple(self._stems(lower))
        for stem in () if analyses else stems:
            if stem in self._firsts or stem in self._lasts:
                bases.add(stem)
        for base in tuple(bases):
            # Another country's list does not make a Finnish word a name ("Olen", "Oma", "Lahdesta").
            first = first or (base in self._firsts and not common)
            last = last or (base in self._lasts and not common)
        if lower in self._english and not (first or last):
            # An ordinary English word that no list knows as a name ("Order", "Shipped"): known, and no name.
            # (English words that are also names, "Will", "Rose", are weighed in names.py.)
            common = True
        elif not analyses and lower in self._proper and not (first or last):
            place = True  # "English", "Bristol", "Paris": a proper noun, but no person's
        if place and not (first or last):
            # Mäkelä, Heikkilä: Voikko knows the village, the name lists the family.
            first, last = lower in self._firsts, lower in self._lasts
        given = any(a.get("CLASS") == "etunimi" for a in analyses)
        nominative = lower in self._firsts or lower in self._lasts or any(
            a.get("CLASS") in _PROPER and a.get("BASEFORM", "").lower() == lower for a in analyses)
        return Word(tuple(sorted(bases, key=lambda b: (b != lower, b))), first, last, common, place,
                    known=bool(analyses) or first or last or common, given=given,
                    english=lower in self._english, stems=stems, nominative=nominative,
                    compound=any(a.get("STRUCTURE", "").count("=") > 1 for a in analyses),
                    listed_first=lower in self._firsts,
                    noun=any(a.get("CLASS") == "nimisana" and a.get("SIJAMUOTO") == "nimento" for a in analyses))

    @staticmethod
    def _stems(lower: str) -> list[str]:
        """What the word may be with one Finnish case ending taken off: "johnsonille" -> "johnson",
        "smith'ille" -> "smith", "tammelle" -> "tamme", "tamm" (the -e- that joins an ending to a consonant)."""
        head, mark, tail = lower.rpartition("'")
        if mark and (tail in _ENDINGS or tail == "s") and len(head) >= 2:
            return [head]
        stems = [lower[: -len(e)] for e in _ENDINGS if lower.endswith(e) and len(lower) - len(e) >= 3]
        return stems + [s[:-1] for s in stems if s[-1] in "ei" and len(s) > 3]


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
    """Lower-cased first names and surnames of Faker's person providers written in Latin script."""
    firsts: set[str] = set()
    lasts: set[str] = set()
    for locale in NAME_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            firsts.update(n for n in _names(getattr(provider, attr, ())) if _latin(n))
        lasts.update(n for n in _names(getattr(provider, "last_names", ())) if _latin(n))
    return frozenset(firsts), frozenset(lasts)


@cache
def english_words() -> frozenset[str]:
    """Ordinary English words (the lower-case entries of Debian's word list); empty if it is not installed."""
    return _word_list()[0]


@cache
def english_proper() -> frozenset[str]:
    """Lower-cased capitalised entries of Debian's word list: places, languages, peoples, firms, and names."""
    return _word_list()[1]


@cache
def _word_list() -> tuple[frozenset[str], frozenset[str]]:
    try:
        lines = ENGLISH_WORDS.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset(), frozenset()
    words = [w for w in lines if "'" not in w]
    return (frozenset(w for w in words if w[:1].islower()),
            frozenset(w.lower() for w in words if w[:1].isupper()))


def _latin(name: str) -> bool:
    return all(c < "\u0250" or "\u1e00" <= c <= "\u1eff" for c in name)


def _names(values: object) -> set[str]:
    # Faker keeps some lists as {name: weight} mappings, some as tuples, a few behind properties.
    if isinstance(values, dict):
        values = values.keys()
    if not isinstance(values, tuple | list | set | frozenset | type({}.keys())):
        return set()
    return {n.lower() for n in values if isinstance(n, str) and " " not in n and len(n) > 1}
