"""Keep personal data out of the ledger by construction.

The ledger is read by auditors, so it may hold ids, counts, sources, hashes and
short reasons, never names, addresses or message bodies. Values are limited to
numbers, booleans, None and short ASCII strings without "@" (and lists or
dicts of those). A pattern cannot recognise every name; it does stop email
addresses, phone numbers in "+358" form and free text with punctuation.
"""

import math
import re
from collections.abc import Mapping
from typing import Any

_SAFE_TEXT = re.compile(r"[A-Za-z0-9_.:/ -]{0,200}")
_NAME = re.compile(r"[A-Za-z0-9_.:/-]{1,100}")
_MAX_DEPTH = 4


def check_name(what: str, value: object) -> str:
    """`value` must be a short token (request id, actor, action); ValueError names `what` only."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(
            f"{what} must be 1-100 characters of letters, digits and _.:/- (no personal data in the ledger)"
        )
    return value


def check_detail(detail: Mapping[str, Any]) -> None:
    """ValueError naming the offending key when `detail` holds anything but safe values."""
    if not isinstance(detail, Mapping):
        raise ValueError("detail must be a mapping")
    _check_mapping(detail, "detail", 0)


def _check_mapping(mapping: Mapping[Any, Any], path: str, depth: int) -> None:
    for position, (key, value) in enumerate(mapping.items()):
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            # The key itself may be what is personal: say where, not what.
            raise ValueError(f"{path}: key number {position + 1} is not a permitted detail key")
        _check_value(value, f"{path}.{key}", depth)


def _check_value(value: Any, path: str, depth: int) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: numbers in the ledger must be finite")
        return
    if isinstance(value, str):
        if not _SAFE_TEXT.fullmatch(value):
            raise ValueError(
                f"{path}: text must be at most 200 characters of letters, digits, spaces and _.:/- "
                "(no personal data in the ledger)"
            )
        return
    if depth >= _MAX_DEPTH:
        raise ValueError(f"{path}: nested deeper than {_MAX_DEPTH} levels")
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, Mapping):
        _check_mapping(value, path, depth + 1)
        return
    raise ValueError(f"{path}: values must be numbers, booleans, None, short text, lists or mappings")
