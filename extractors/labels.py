"""The Finnish and English names a source kind gives its categories and the keys it always writes.

A kind sets them as the class attribute `labels` (a `KindLabels`); the package
uses them where the controller's config names nothing, and the key itself made
readable where neither does (a database's columns are the database's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Text = Mapping[str, str]  # language -> text


def both(fi: str, en: str) -> Text:
    return {"fi": fi, "en": en}


@dataclass(frozen=True)
class KindLabels:
    """`categories`: category -> text; `columns`: a key, or "<category>.<key>" for one category only -> text."""

    categories: Mapping[str, Text] = field(default_factory=dict)
    columns: Mapping[str, Text] = field(default_factory=dict)
