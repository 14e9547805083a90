"""The Finnish business ID (Y-tunnus): seven digits, a hyphen and a mod-11 check digit (NNNNNNN-N)."""

from __future__ import annotations

import re

_SHAPE = re.compile(r"[0-9]{7}-[0-9]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def check_business_id(value: str) -> str:
    """`value` stripped of surrounding spaces when it is a valid Y-tunnus; ValueError saying what is wrong otherwise.

    The check digit is 0 when the weighted sum of the first seven digits leaves remainder 0 modulo 11,
    else 11 minus the remainder; remainder 1 is never issued. The messages never repeat the value.
    """
    text = value.strip()
    if re.fullmatch(r"[0-9]{6}-[0-9]", text):
        text = "0" + text  # an older six-digit id is written with a leading zero, as the trade register does
    if not text:
        raise ValueError("empty; give the controller's Y-tunnus, e.g. 1234567-1")
    if not _SHAPE.fullmatch(text):
        raise ValueError("use the form NNNNNNN-N (seven digits, a hyphen and the check digit)")
    rest = sum(int(digit) * weight for digit, weight in zip(text[:7], _WEIGHTS, strict=True)) % 11
    if rest == 1 or int(text[-1]) != (0 if rest == 0 else 11 - rest):
        raise ValueError("the check digit does not match; check the Y-tunnus against the trade register (ytj.fi)")
    return text
