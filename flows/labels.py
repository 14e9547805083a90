"""What a source section calls its source, categories and columns in each language: the `label` and `labels`
keys, and the labels a package in one language gets from them.

    [[sources]]
    name = "customers"
    kind = "sql"
    label = { fi = "Asiakasrekisteri", en = "Customer register" }
    [sources.labels.categories]
    asiakkaat = { fi = "Asiakkaat", en = "Customers" }
    [sources.labels.columns]
    sukunimi = { fi = "Sukunimi", en = "Surname" }                      # in every category
    "tilaukset.summa" = { fi = "Summa (€)", en = "Total (€)" }          # in one category only

A name the config leaves out is named by the source kind's own labels (mail's
From, To, Subject), else by itself made readable (`created_at`: "Created at").
Category and column names are not checked at load: a source decides its
categories and columns when it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from extractors.labels import KindLabels
from extractors.registry import source_kind
from extractors.settings import first_problem
from flows.errors import ConfigError

if TYPE_CHECKING:
    from flows.config import SourceSpec  # flows.config reads its sections' labels with this module

LABEL_KEYS = ("label", "labels")
Label = dict[Literal["fi", "en"], Annotated[str, Field(min_length=1)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class LabelTables(_Strict):
    """`[sources.labels]`: what the package calls a source's categories and columns, in each language. A name left
    out is named by the kind's own labels (mail's From, To, Subject), else by itself made readable."""

    categories: dict[Annotated[str, Field(min_length=1)], Label] = Field(
        default={}, examples=[{"asiakkaat": {"fi": "Asiakkaat", "en": "Customers"}}])
    """Category -> label."""
    columns: dict[Annotated[str, Field(min_length=1)], Label] = Field(
        default={}, examples=[{"sukunimi": {"fi": "Sukunimi", "en": "Surname"},
                               "tilaukset.summa": {"fi": "Summa (€)", "en": "Total (€)"}}])
    """Column -> label; "category.column" names a column of one category only."""


class SourceLabels(_Strict):
    """A source section's `label` (the source's own) and `labels` (its categories' and columns')."""

    label: Label | None = None
    labels: LabelTables = LabelTables()


def source_labels(path: Path, index: int, section: Mapping[str, Any], languages: Sequence[str]) -> SourceLabels:
    """The `label` and `labels` keys of the source section `sources.<index>`; ConfigError naming the key when one
    is malformed or lacks a text in one of the controller's `languages`."""
    try:
        parsed = SourceLabels.model_validate({key: section[key] for key in LABEL_KEYS if key in section})
    except ValidationError as exc:
        key, message = first_problem(exc)
        raise ConfigError(path, f"sources.{index}.{key}", message) from None
    named: list[tuple[str, Label]] = [("label", parsed.label)] if parsed.label is not None else []
    named += [(f"labels.categories.{name}", text) for name, text in parsed.labels.categories.items()]
    named += [(f"labels.columns.{name}", text) for name, text in parsed.labels.columns.items()]
    for name in parsed.labels.columns:
        if name.count(".") > 1 or "" in name.split("."):
            raise ConfigError(path, f"sources.{index}.labels.columns.{name}",
                              'name a column as "column" (in every category) or "category.column"')
    for key, text in named:
        missing = [language for language in languages if language not in text]
        if missing:
            raise ConfigError(path, f"sources.{index}.{key}",
                              f"no {', '.join(missing)} text; the controller's languages are {', '.join(languages)}")
    return parsed


def kind_labels(kind: str) -> KindLabels:
    """The labels the source kind `kind` gives its categories and keys (none for a kind that gives none)."""
    labels = getattr(source_kind(kind), "labels", None)
    return labels if isinstance(labels, KindLabels) else KindLabels()


def _text(label: Mapping[Any, str] | None, language: str) -> str:
    return label.get(language, "") if label else ""


def source_label(labels: SourceLabels, language: str) -> str:
    """The source's label in `language`; "" where the config gives none (the package then humanises its name)."""
    return _text(labels.label, language)


def category_labels(
    labels: SourceLabels, kind: KindLabels, category: str, language: str
) -> tuple[str, dict[str, str]]:
    """The category's label and its columns' labels (column -> label) in `language`: the config's before the
    kind's, and of each a label scoped to the category before a general one; "" and no entry where none is."""
    config = labels.labels
    columns: dict[str, str] = {}
    tables: tuple[Mapping[str, Mapping[Any, str]], ...] = (kind.columns, config.columns)
    for table in tables:  # the config's win
        for name in sorted(table, key=lambda n: "." in n):  # general first, so a category's own wins
            scope, _, column = name.rpartition(".")
            if scope in ("", category) and (text := _text(table[name], language)):
                columns[column] = text
    label = _text(config.categories.get(category), language) or _text(kind.categories.get(category), language)
    return label, columns


@dataclass(frozen=True)
class PackageLabels:
    """The labels of every configured source in one language, each kind's own looked up once."""

    language: str
    sources: Mapping[str, tuple[SourceLabels, KindLabels]]

    @classmethod
    def of(cls, specs: Iterable[SourceSpec], language: str) -> PackageLabels:
        return cls(language, {spec.name: (spec.labels, kind_labels(spec.kind)) for spec in specs})

    def source(self, name: str) -> str:
        return source_label(self.sources[name][0], self.language) if name in self.sources else ""

    def category(self, source: str, category: str) -> tuple[str, dict[str, str]]:
        if source not in self.sources:
            return "", {}
        return category_labels(*self.sources[source], category, self.language)
