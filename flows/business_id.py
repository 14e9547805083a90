"""The Finnish business id (Y-tunnus): seven digits, a hyphen and a check digit."""

from __future__ import annotations

import re

_FORM = re.compile(r"(\d{7})-(\d)")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def check_business_id(value: str) -> str:
    """`value` stripped, when it is a business id whose check digit is right; ValueError naming the fix otherwise.

    An id of six digits is written with a leading zero (123456-7 is 0123456-7), as the Business Information
    System does; the check digit is 0 when the weighted sum is divisible by 11, never 1, else 11 minus the rest.
    """
    text = value.strip()
    if re.fullmatch(r"\d{6}-\d", text):
        text = "0" + text
    found = _FORM.fullmatch(text)
    if found is None:
        raise ValueError("use the form 1234567-8 (seven digits, a hyphen, the check digit)")
    rest = sum(int(d) * w for d, w in zip(found.group(1), _WEIGHTS, strict=True)) % 11
    if rest == 1 or int(found.group(2)) != (0 if rest == 0 else 11 - rest):
        raise ValueError("the check digit is wrong: check the id against the Business Information System (ytj.fi)")
    return text
