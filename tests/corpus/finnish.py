"""Finnish case forms of the corpus's names and street names.

Libvoikko analyses but does not generate, so the forms are made here by rule
for the name pools only, and `check_forms` confirms each with Voikko (its
BASEFORM must be the name). Names whose forms Voikko would not confirm are
kept out of the pools rather than special-cased.
"""

from __future__ import annotations

CASES = ("gen", "all", "abl", "ade", "ela", "ine", "par", "ess")

# Suffixes in back-vowel form; front-vowel words swap a/o/u for ä/ö/y.
_ENDINGS = {"gen": "n", "all": "lle", "abl": "lta", "ade": "lla", "ela": "sta", "ine": "ssa"}
_STRONG_ENDINGS = {"ess": "na"}

# Stems that no rule below would give: name -> (weak stem, strong stem, partitive).
_IRREGULAR = {
    "Niemi": ("Nieme", "Nieme", "Niemeä"),
    "Salmi": ("Salme", "Salme", "Salmea"),
    "Koski": ("Koske", "Koske", "Koskea"),
    "Laine": ("Lainee", "Lainee", "Lainetta"),
    "Lehto": ("Lehdo", "Lehto", "Lehtoa"),
    "Aalto": ("Aallo", "Aalto", "Aaltoa"),
    "Rinne": ("Rintee", "Rintee", "Rinnettä"),
    "Satu": ("Sadu", "Satu", "Satua"),
}
_GRADATION = (("kk", "k"), ("pp", "p"), ("tt", "t"))


def is_back(word: str) -> bool:
    """Vowel harmony of the last part of a (hyphenated) word: back if it has a, o or u."""
    last = word.lower().rsplit("-", 1)[-1]
    return any(ch in "aou" for ch in last)


def harmonise(suffix: str, back: bool) -> str:
    return suffix if back else suffix.translate(str.maketrans("aou", "äöy"))


def _stems(name: str, foreign: bool) -> tuple[str, str, str]:
    """(weak stem, strong stem, partitive) of a name."""
    if name in _IRREGULAR:
        return _IRREGULAR[name]
    back = is_back(name)
    if name.endswith("nen"):
        stem = name[:-3] + "se"
        return stem, stem, name[:-3] + harmonise("sta", back)
    last = name[-1]
    if last in "aeiouyäö":
        weak = name
        for strong, light in () if foreign else _GRADATION:
            if name[-3:-1] == strong:
                weak = name[:-3] + light + name[-1]
                break
        return weak, name, name + harmonise("ta" if name.endswith(("io", "eo")) else "a", back)
    if not foreign and name.endswith(("as", "us", "is", "es")):
        # Tuomas -> Tuomakse-, Markus -> Markukse- (the Finnish -s names).
        stem = name[:-1] + "kse"
        return stem, stem, name + harmonise("ta", back)
    # A foreign name ending in a consonant takes a joining -i-: Tom -> Tomi-, James -> Jamesi-.
    stem = name + "i"
    return stem, stem, stem + harmonise("a", back)


def inflect(name: str, case: str, foreign: bool = False) -> str:
    """`name` in one of CASES ("nom" gives it back); hyphenated names inflect their last part.

    `foreign` names (the English pools) have no consonant gradation, and one
    ending in a consonant takes a joining -i- (James -> Jamesille).
    """
    if case == "nom":
        return name
    head, sep, tail = name.rpartition("-")
    if sep and tail[:1].isupper():
        return head + sep + inflect(tail, case, foreign)
    weak, strong, partitive = _stems(name, foreign)
    back = is_back(name)
    if case == "par":
        return partitive
    if case in _STRONG_ENDINGS:
        return strong + harmonise(_STRONG_ENDINGS[case], back)
    return weak + harmonise(_ENDINGS[case], back)


# Street names by their last part: (adessive, allative, elative) endings replacing that part.
_STREET_FORMS = {
    "katu": ("kadulla", "kadulle", "kadulta"),
    "tie": ("tiellä", "tielle", "tieltä"),
    "kuja": ("kujalla", "kujalle", "kujalta"),
    "polku": ("polulla", "polulle", "polulta"),
    "väylä": ("väylällä", "väylälle", "väylältä"),
    "kaari": ("kaarella", "kaarelle", "kaarelta"),
    "rinne": ("rinteellä", "rinteelle", "rinteeltä"),
    "mäki": ("mäellä", "mäelle", "mäeltä"),
    "ranta": ("rannalla", "rannalle", "rannalta"),
    "puisto": ("puistossa", "puistoon", "puistosta"),
}


def street_case(street: str, case: str) -> str:
    """A street name in the adessive ("ade", Kuusitiellä), allative ("all") or ablative ("abl")."""
    index = {"ade": 0, "all": 1, "abl": 2}[case]
    for base, forms in _STREET_FORMS.items():
        if street.endswith(base):
            return street[: -len(base)] + forms[index]
    raise ValueError(f"no case forms for street type of {street!r}")


def check_forms(names: list[str], foreign: bool = False) -> list[tuple[str, str, str]]:
    """(name, case, form) for every form Voikko does not analyse back to the name."""
    import libvoikko

    voikko = libvoikko.Voikko("fi")
    bad = []
    try:
        for name in names:
            for case in CASES:
                form = inflect(name, case, foreign)
                bases = {a.get("BASEFORM") for a in voikko.analyze(form)}
                if name not in bases:
                    bad.append((name, case, form))
    finally:
        voikko.terminate()
    return bad
