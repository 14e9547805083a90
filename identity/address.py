"""One canonical form of a requester's email address: parsed once, refused when doubtful.

The canonical address is what the request stores, where the one-time code is
mailed and what sources are matched with, so the three can never disagree.
The domain is IDNA-normalised and lower-cased (domains are case-insensitive);
the local part is kept exactly as typed, because only the receiving mail
system may decide what it means. No Unicode folding happens anywhere: a
Kelvin sign, a fullwidth letter or a Cyrillic `а` is a different character,
and where folding would turn it into the real one (NFC maps U+212A to `K`,
IDNA maps fullwidth letters to ASCII) the address is refused instead.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from identity.errors import InvalidAddress

# RFC 5321 limits; email-validator checks them too, but a clear reason helps the person typing.
_MAX_LOCAL = 64
_MAX_ADDRESS = 254
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with A-Z lower-cased and nothing else touched: case folding the mail system would also do.

    `str.lower()` maps U+212A KELVIN SIGN to `k` and U+0130 to `i̇`; this never does.
    """
    return text.translate(_ASCII_LOWER)


def canonical_address(raw: str, *, allow_smtputf8: bool = False) -> str:
    """The canonical form of one requester address; InvalidAddress when it is not exactly one plain address.

    Refused: display names, lists, quoted local parts, IP-literal domains, control
    characters (CR/LF), over-long parts, non-ASCII local parts unless
    `allow_smtputf8`, and anything that Unicode normalisation would change into
    another address. No DNS lookup is made. The error's reason never repeats
    the address.
    """
    if not isinstance(raw, str):
        raise TypeError("an address must be a str")
    text = raw.strip(" ")  # a pasted address often carries spaces; nothing else is trimmed
    if not text:
        raise InvalidAddress("it is empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        raise InvalidAddress("it contains line breaks or other control characters")
    if "," in text or ";" in text:
        raise InvalidAddress("give one address, not a list")
    if "<" in text or ">" in text:
        raise InvalidAddress("give the bare address without a name or angle brackets")
    if text.count("@") != 1:
        raise InvalidAddress("it must contain exactly one @")
    local, _, domain = text.partition("@")
    if local.startswith('"'):
        raise InvalidAddress("quoted local parts are not accepted")
    if domain.startswith("["):
        raise InvalidAddress("IP-address domains are not accepted")
    if len(local.encode("utf-8")) > _MAX_LOCAL:
        raise InvalidAddress(f"the part before @ is longer than {_MAX_LOCAL} characters")
    if len(text.encode("utf-8")) > _MAX_ADDRESS:
        raise InvalidAddress(f"it is longer than {_MAX_ADDRESS} characters")
    if not local.isascii() and not allow_smtputf8:
        raise InvalidAddress("the part before @ may hold ASCII letters, digits and punctuation only")
    try:
        valid = validate_email(
            text, check_deliverability=False, allow_smtputf8=allow_smtputf8, allow_display_name=False,
            allow_quoted_local=False, allow_domain_literal=False, allow_empty_local=False,
        )
    except EmailNotValidError:
        # The library's message quotes the offending characters; ours names what to fix only.
        raise InvalidAddress("it is not a valid email address") from None
    if valid.local_part != local:
        # email-validator NFC-normalises: U+212A KELVIN SIGN would become an ASCII K.
        raise InvalidAddress("the part before @ holds characters that stand in for others")
    typed_domain = domain.lower()
    if typed_domain not in (valid.domain, valid.ascii_domain) or unicodedata.normalize("NFKC", domain) != domain:
        # IDNA's mapping turns fullwidth and other compatibility characters into plain ones.
        raise InvalidAddress("the domain holds characters that stand in for others")
    return f"{valid.local_part}@{valid.domain}"
