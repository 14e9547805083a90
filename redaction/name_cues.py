"""What in a text marks a name: greetings, closings, titles, kin, and the words that only look like names.

Data and small tests on the text around a word; `names.py` decides with them.
"""

from __future__ import annotations

import re

from redaction.analysis import Token

# Greetings, closings, titles and relations: the word after them is a name even when no list knows it.
BEFORE_NAME = frozenset("""
hei hej hejsan moi moikka morjens terve hyvä arvoisa rakas hello hi hey dear kiitos thanks terveisin t terv
regards cheers best kiittäen br mvh hälsningar sincerely yours mr mrs ms miss mx dr prof sir madam herra rouva
neiti hra rva tohtori neighbour neighbor friend colleague
""".split())  # noqa: SIM905 - a word list reads better as text
BEFORE_NAME_STEMS = ("naapuri", "ystävä", "kaveri", "työkaveri", "kollega")
COLLEAGUE = re.compile(r"(?i)(?<!\w)(?:kollega\w*|työkaveri\w*|colleague|co-worker)[ \t]+\Z")
# Initials before a name ("P. Virtanen", "J. R. Smith") belong to it.
INITIALS = re.compile(r"(?:(?<![\w.])[A-ZÅÄÖ]\.[ \t]?)+\Z")
CLOSING_LINE = re.compile(
    r"(?i)^[ \t>]*(?:ystävällisin|parhain|lämpimin|hyvin|with|many|best|kind|warm|warmest)?[ \t]*"
    r"(?:terveisin|terveisiä|terv\.?|t\.|kiittäen|kiitos|regards|wishes|thanks|thank\s+you|cheers|br|sincerely|"
    r"yours(?:[ \t]+sincerely)?|best|greetings|mvh|hälsningar|med\s+vänlig\s+hälsning|"
    r"yst\.?[ \t]*terv\.?)[ \t,.!-]*$"
)
# English words that name lists also hold: names only beside another name or after a greeting.
ENGLISH_COMMON = frozenset(
    """
    a an the and or but if of to in on at by for with from as is are was be may can could would should shall might
    must do does did have has had not no yes so we you he she they it i me my our your his her their this that
    these those there here when where what who why how all any some each every new old good best great dear hi
    hello thanks thank regards kind warm sincerely yours please sorry ok okay monday tuesday wednesday thursday
    friday saturday sunday january february march april june july august september october november december order
    street road lane park hill way customer service support team sales shop store delivery invoice payment account
    orders parcel package summer winter spring autumn christmas easter note subject re fw fwd sent date cc reply
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun mr mrs ms miss mx dr prof sir
    madam
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# English words that are names as often as not: names unless they open a sentence ("Will you...").
ENGLISH_AMBIGUOUS = frozenset(
    """
    mark bill frank rose grace hope joy faith young king long love page hall wood little price rich story white
    green black gray grey west north south east day house ward case cash close will
    """.split()  # noqa: SIM905 - a word list reads better as text
)
NAME_KEYS = re.compile(
    r"(?i)^(?:(?:full|first|last|given|family|middle|sur|display|contact|customer|recipient|sender|person)_?)?"
    r"(?:name|nimi)$|^(?:etunimi|sukunimi|nimi|fname|lname|firstname|lastname|surname|forename)$"
)
SENTENCE_END = ".!?:;\"'(*•-–—|"


# A company form after a name makes it a company's ("Lahden Kivi ja Mäki Oy").
COMPANY_FORMS = frozenset(
    "Oy Oyj Ab Abp Ky Ay Tmi GmbH AG Ltd Limited Inc LLC Corp AS ASA AB ApS BV NV SA SL".split()  # noqa: SIM905
)
COMPANY = re.compile(rf"[ \t]+(?:{'|'.join(sorted(COMPANY_FORMS))})\b")
TITLE = re.compile(
    r"(?i)(?<!\w)(?:mr|mrs|ms|miss|mx|dr|prof|herra|rouva|neiti|hra|rva|"
    # kin: "lapseni Lumi", "my son Leo", "äitini Helena"
    r"lapse\w*|poika\w*|poja\w*|tytär\w*|tyttär\w*|sisko\w*|sisar\w*|veli|velje\w*|äiti\w*|isä\w*|"
    r"vaimo\w*|miehe\w*|puoliso\w*|son|daughter|wife|husband|mother|father|sister|brother|child|kid)"
    r"\.?[ \t]+"
)
# "Satu-tyttäreni", "Juha-poikani": a name joined to a word of kin.
KIN_JOINED = re.compile(
    r"(?i)-(?:tytär|tyttär|poika|poja|sisko|sisar|veli|velje|äiti|isä|vaimo|mies|miehe|lapsi|lapse)"
)
# English endings after an apostrophe: "I'm", "we're", "don't"; "'s" is a possessive.
CLITICS = frozenset({"m", "re", "ve", "ll", "d", "t", "s"})
NEXT_WORD = re.compile(r"[ \t]{1,3}([^\W\d_]+)")


def adjacent(text: str, left: Token, right: Token) -> bool:
    gap = text[left.end:right.start]
    return 0 < len(gap) <= 3 and gap.strip(" \t") == ""


def sentence_start(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] in " \t>":
        index -= 1
    return index < 0 or text[index] in "\r\n" or text[index] in SENTENCE_END


def after_greeting(text: str, start: int) -> bool:
    """The word right before is a greeting, closing, title or relation ("Hei", "Best,", "Mrs", "naapurini")."""
    before = text[max(0, start - 30):start].rstrip(" \t")
    if before[-1:] in (",", ".", "!", ":"):
        before = before[:-1].rstrip(" \t")
    words = before.rsplit(None, 2)[-2:]
    if not words:
        return False
    last = words[-1].lstrip("(\"'>*").lower()
    if last in BEFORE_NAME or last.startswith(BEFORE_NAME_STEMS):
        return True
    return len(words) == 2 and words[0].lower() == "thank" and last == "you"


def after_closing(text: str, start: int) -> bool:
    """The word opens the first non-empty line after a closing ("Terveisin", "Best regards,")."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip(" \t>"):
        return False
    lines = text[:line_start].rstrip().rsplit("\n", 1)
    return bool(lines) and CLOSING_LINE.match(lines[-1]) is not None
