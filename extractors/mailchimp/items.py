"""Shaping Mailchimp's items into record data and keys."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def without_links(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item without Mailchimp's `_links` (API navigation, not personal data) at any depth."""
    return {key: _strip(value) for key, value in item.items() if key != "_links"}


def _strip(value: Any) -> Any:
    if isinstance(value, Mapping):
        return without_links(value)
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def keyed_by_time(
    items: Iterable[Mapping[str, Any]], when_keys: tuple[str, ...], what_keys: tuple[str, ...]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each item with a stable key `when:what:n`, n counting repeats of the same when and what.

    Feeds without ids come ordered by time, so repeats sit together: only the items of one
    timestamp are remembered, never the whole feed.
    """
    current: str | None = None
    seen: dict[str, int] = {}
    for item in items:
        when = str(_first(item, when_keys))
        what = str(_first(item, what_keys))
        if when != current:
            current, seen = when, {}
        n = seen[what] = seen.get(what, 0) + 1
        yield f"{when}:{what}:{n}", item


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((item[key] for key in keys if item.get(key)), "")
