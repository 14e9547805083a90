"""The lexicon: Voikko's base forms and classes, the name lists, the English word list."""

import importlib
import pkgutil

import faker.providers.person
import pytest

from redaction.lexicon import ENGLISH_WORDS, NAME_LOCALES, Lexicon, english_words
from tests.support import missing

LEXICON = Lexicon()


def _latin_locales() -> set[str]:
    found = set()
    for module in pkgutil.iter_modules(faker.providers.person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        names: set[str] = set()
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            value = getattr(provider, attr, ())
            if isinstance(value, dict | tuple | list):
                names.update(n for n in value if isinstance(n, str))
        latin = [n for n in names if all(c < "\u0250" or "\u1e00" <= c <= "\u1eff" or c in " -'" for c in n)]
        if names and len(latin) >= 0.9 * len(names):
            found.add(module.name)
    return found


def test_the_name_locales_are_faker_s_latin_script_ones():
    # A Faker upgrade that adds or drops a locale shows up here, not as names silently missed.
    assert set(NAME_LOCALES) == _latin_locales()


def test_the_english_word_list_is_installed():
    if not ENGLISH_WORDS.is_file():
        missing(f"Debian's English word list {ENGLISH_WORDS} (apt-get install wamerican)")
    assert {"order", "shipped", "rose", "will"} <= english_words()


@pytest.mark.parametrize(("word", "base", "name", "common"), [
    ("Virtaselle", "virtanen", True, False),   # an inflected surname, to its base
    ("Pekalle", "pekka", True, False),         # consonant gradation
    ("Johnsonille", "johnson", True, False),   # no Voikko entry: the name lists, ending stripped
    ("Marjatta", "marjatta", True, False),     # marja + abessive does not hide the name
    ("Koskinen", "koskinen", True, False),     # an adjective in -nen beside a surname
    ("Tuuli", "tuuli", True, True),            # a name and the wind alike
    ("Lahdesta", "lahti", False, True),        # the city (and a bay), not the family
    ("Kiitos", "kiitos", False, True),
    ("Okonkwo", "okonkwo", True, False),       # a Nigerian name from Faker's yo_NG/en_NG lists
])
def test_words_get_their_base_forms_and_what_they_can_be(word, base, name, common):
    if not ENGLISH_WORDS.is_file():
        missing(f"Debian's English word list {ENGLISH_WORDS}")
    found = LEXICON.word(word)
    assert base in found.bases
    assert (found.name, found.common) == (name, common)


def test_an_ordinary_english_word_is_known_and_no_name():
    if not ENGLISH_WORDS.is_file():
        missing(f"Debian's English word list {ENGLISH_WORDS}")
    shipped = LEXICON.word("Shipped")
    assert shipped.known and shipped.common and not shipped.name
