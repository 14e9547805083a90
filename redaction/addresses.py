"""Street addresses: Finnish (`Kuusitie 4 B 11, 00100 Helsinki`, inflected too) and English (`12 Oak Lane`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from redaction.analysis import Document
from redaction.detectors import Finding

# The last part of a Finnish (and Finland-Swedish) street name: as Voikko gives its base form, and as
# written for words Voikko does not know (inflected: "-kadulla", "-tiellä"). A street name is a compound
# ("Kuusitie", "Kotimäki"; "Tie 5", "Lahti 2026" and "Rannalla 3 tuntia" are no addresses), bulevardi
# and esplanadi aside.
_ENDINGS = (
    r"katu|tie|kuja|polku|väylä|ranta|puisto|tori|kaari|rinne|mäki|piha|raitti|tanhua|aukio|penger|"
    r"bulevardi|esplanadi|valli|linja|kaarre|vainio|niitty|kallio|harju|laakso|lehto|portti|kulma|kenttä|"
    r"mutka|ketju|laita|tanner|pelto|ahde|kaivo|saari|niemi|lahti|hovi|kartano|kylä|kumpu|karhu|sola|"
    r"gatan|vägen|gränd|stigen|torget|allén|kajen|backen|stranden|parken"
)
_ENDINGS_WRITTEN = (
    r"katu|kadu\w+|tie|tie(?:llä|lle|ltä|n|tä|hen)|kuja\w*|polku|polu\w+|väylä\w*|ranta|ranna\w+|"
    r"puisto\w*|tori\w*|kaari|kaare\w+|rinne|rintee\w+|mäki|mäe\w+|piha\w*|raitti|raiti\w+|aukio\w*|"
    r"gatan|vägen|gränd|stigen|torget|allén|kajen"
)


def _ending(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"(?i)(?:(?<=[^\W\d_]{{2}})(?:{alternatives})|\A(?:bulevardi|esplanadi)\w*)\Z")


_FI_STREET, _FI_STREET_WRITTEN = _ending(_ENDINGS), _ending(_ENDINGS_WRITTEN)
_NUMBER_AFTER = re.compile(
    r"[ \t]+\d{1,4}(?:[ \t]?[a-zA-Z](?![\w]))?"           # 4, 4b, 12 A
    r"(?:[ \t]*[-–][ \t]*\d{1,4})?"                       # 12-14
    r"(?:[ \t]+(?:[A-Za-z]{1,2}[ \t]*)?(?:as\.?[ \t]*)?\d{1,3}(?!\d))?"  # B 11, as. 5, 3
    r"(?:,?[ \t]*(?:\r?\n[ \t]*)?\d{5}(?:[ \t]+[A-ZÅÄÖ][\w-]*(?:[ \t]+[A-ZÅÄÖ][\w-]*)?)?)?"  # 00100 Helsinki
)
_EN_TYPES = (
    r"Street|St|Road|Rd|Lane|Ln|Avenue|Ave|Drive|Dr|Close|Way|Court|Ct|Place|Pl|Gardens|Crescent|Terrace|"
    r"Grove|Row|Square|Sq|Hill|Park|Mews|Walk|Boulevard|Blvd|Parkway|Pkwy|Highway|Hwy|Circle"
)
# A text without one of these words has no English address; finding that out is much cheaper than the address.
_EN_TYPE = re.compile(rf"(?:{_EN_TYPES})\b")
_EN_TYPE_CAPS = re.compile(rf"(?:{_EN_TYPES.upper()})\b")
_EN_STREET = re.compile(
    r"(?<![\w-])(?:(?:Flat|Apt\.?|Apartment|Unit)[ \t]+\w{1,4},?[ \t]+)?\d{1,5}[A-Za-z]?,?[ \t]+"
    r"(?:(?:[A-Z][a-z'’]+|\d{1,3}(?:st|nd|rd|th))[ \t]+){1,3}"   # a name: "Baker", "5th"; "3 Street" is not one
    rf"(?:{_EN_TYPES})\b\.?(?P<street_end>)"
    r"(?:,?[ \t]+(?:[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?,?[ \t]+)?"
    r"(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]*\d[A-Z]{2}|[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?)"   # UK postcode, US state + ZIP
    r"|,[ \t]*[A-Z][a-z]+(?=[ \t]*(?:\r?\n|$|[.,;])))?"                         # or just the town
)
# The same in capitals ("5 QUEEN STREET").
_EN_STREET_CAPS = re.compile(
    r"(?<![\w-])(?:(?:FLAT|APT\.?|UNIT)[ \t]+\w{1,4},?[ \t]+)?\d{1,5}[A-Z]?,?[ \t]+(?:[A-Z][A-Z'’]+[ \t]+){1,3}"
    rf"(?:{_EN_TYPES.upper()})\b\.?"
)
# Any street name, then a house number and a town after a comma ("Pellonpää 2 B, Jyväskylä",
# "Narva mnt 7, 10117 Tallinn"): an address when a postal code or a known place says so.
_ANY_STREET = re.compile(
    r"([A-ZÅÄÖÜÕ](?<![\w-][A-ZÅÄÖÜÕ])[^\W\d_]+(?:[ \t]+(?:mnt|tn|pst|põik|g\.|v\.))?)"
    r"[ \t]+\d{1,4}[ \t]?[A-Za-z]?(?![\w])(?:[ \t]+(?:as\.?[ \t]*)?\d{1,3})?,[ \t]*"
    r"(?:(?P<code>\d{5})[ \t]+)?(?P<town>[A-ZÅÄÖÜÕ][^\W\d_]+)"
)
# A place in the genitive, then a street word in lower case ("Pispalan valtatie 45", "Hervannan valtaväylä 12").
_GENITIVE_STREET = re.compile(r"([A-ZÅÄÖ](?<![\w-][A-ZÅÄÖ])[^\W\d_]*n)[ \t]+([a-zåäö]+)(?=[ \t]+\d)")
# The capital first, then the look-behind: `re` skips ahead to a capital instead of trying every position.
_WORD_THEN_NUMBER = re.compile(r"([A-ZÅÄÖ](?<![\w-][A-ZÅÄÖ])[^\W\d_]*(?:-[^\W\d_]+)*)[ \t]+\d")


class AddressDetector:
    """Street addresses with a house number; the postal code and town after them are part of the span."""

    kind: ClassVar[str] = "address"

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        if _EN_TYPE.search(text):
            for match in _EN_STREET.finditer(text):
                # Compared by flat, number and street: the same place with or without its town and postcode.
                street = text[match.start():match.start("street_end")]
                yield Finding(match.start(), match.end(), self.kind, _normalise(street))
        if _EN_TYPE_CAPS.search(text):
            for match in _EN_STREET_CAPS.finditer(text):
                yield Finding(match.start(), match.end(), self.kind, _normalise(match.group(0)))
        finnish = []
        for word in _WORD_THEN_NUMBER.finditer(text):
            if not self._is_street(doc, word.group(1)):
                continue
            number = _NUMBER_AFTER.match(text, word.end(1))
            if number is None:
                continue
            start = self._start(text, word.start())
            base = doc.lexicon.bases(word.group(1))[-1]
            finnish.append(Finding(start, number.end(), self.kind,
                                   _normalise(base + text[word.end(1):number.end()])))
        for match in _GENITIVE_STREET.finditer(text):
            if not self._is_street(doc, match.group(2)):
                continue
            number = _NUMBER_AFTER.match(text, match.end(2))
            if number is not None:
                written = text[match.start():number.end()]
                finnish.append(Finding(match.start(), number.end(), self.kind, _normalise(written)))
        yield from finnish
        if "," in text:
            for match in _ANY_STREET.finditer(text):
                if any(f.start <= match.start() < f.end for f in finnish):
                    continue
                name = doc.lexicon.word(match.group(1).split()[0])
                # Without a postal code, the town must be a known place and the street a compound or unknown
                # word ("Pellonpää 2 B, Jyväskylä"), not "Tilaus 5, Helsinki".
                if match.group("code") or (doc.lexicon.word(match.group("town")).place
                                           and (name.compound or not name.known)):
                    yield Finding(match.start(), match.end(), self.kind, _normalise(match.group(0)))

    @staticmethod
    def _is_street(doc: Document, word: str) -> bool:
        if _FI_STREET_WRITTEN.search(word):
            return True
        return any(_FI_STREET.search(base) for base in doc.lexicon.bases(word))

    @staticmethod
    def _start(text: str, start: int) -> int:
        """Include a first word of a two-word street name ("Pohjoinen Rautatiekatu", "Itäinen Puistotie")."""
        before = re.search(r"(?:Pohjoinen|Eteläinen|Itäinen|Läntinen|Vanha|Uusi|Iso|Pikku|Norra|Södra|Östra|Västra|"
                           r"Stora|Lilla|Gamla|Nya)[ \t]+\Z", text[max(0, start - 12):start])
        return start - len(before.group(0)) if before else start


def _normalise(value: str) -> str:
    """The street and number, lower-cased: the same place with or without its postal code and town."""
    street = re.sub(r",?\s*\d{5}(?:\s+[^\W\d][\w-]*){0,2}\s*\Z", "", value)
    return " ".join(street.lower().replace(",", " ").split())
