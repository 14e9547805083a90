"""The config reference (docs/config.md), generated from the pydantic models that validate `dsar.toml`.

Every section and key comes with its type, default, the field's docstring and an example; the source kinds'
own keys come from each kind's `settings_model`. A field without a docstring, or without an example where it
has no default, stops the generator: tests/flows/test_config_reference.py runs it, so an undocumented key
fails the tests.

    python -m flows.config_reference docs/config.md     # the built-in kinds, as committed
    dsar config reference                               # every installed kind, plugins included
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from extractors.registry import settings_model_of
from extractors.settings import config_keys, models_in
from flows.config import SourceSection, _File
from flows.errors import DsarError
from flows.translations import Text

TITLE = "# dsar.toml reference"
INTRO = """\
Generated from the models that validate the file (`python -m flows.config_reference docs/config.md`,
or `dsar config reference` for every installed source kind); do not edit by hand. A complete example
for a small Finnish shop is [examples/dsar.toml](../examples/dsar.toml).

A *text* is given once per language of `controller.languages`: `{ fi = "...", en = "..." }`; a
missing or empty one is an error naming the key (`activities.0.purposes.en: missing`). Secrets never
sit in the file: keys ending in `_env` name an environment variable (or a line of `env_file`).
Relative paths are relative to the file. An unknown key is an error that lists the valid ones.
"""


class UndocumentedKey(DsarError):
    """A model field the reference cannot document: no docstring, or no example and no default."""


@dataclass(frozen=True)
class Section:
    """One documented section: its TOML header, the model of its keys, and a note (the kind it belongs to)."""

    header: str  # "[controller]", "[[sources]]", "" for the top level
    model: type[BaseModel]
    note: str = ""
    kind: str = ""  # a source kind's section starts its example with `kind = ...`

    @property
    def title(self) -> str:
        name = f"`{self.header}`" if self.header else "Top level"
        return f"{name} {self.note}".strip()

    def child(self, key: str, annotation: Any) -> str:
        """The TOML header of a nested model's section under this one."""
        path = f"{self.header.strip('[]')}.{key}" if self.header else key
        return f"[[{path}]]" if _is_list(annotation) else f"[{path}]"


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))
    return get_origin(annotation) is list


def sections(kinds: Mapping[str, type]) -> Iterator[Section]:
    """Every section in reference order: dsar's own, then `[[sources]]` and each kind's keys (aliases together)."""
    yield from _walk(Section("", _File))
    by_model: dict[type[BaseModel], list[str]] = {}
    for name, kind in sorted(kinds.items()):
        model = settings_model_of(kind)
        if model is not None:
            by_model.setdefault(model, []).append(name)
    for model, names in by_model.items():
        note = "kind " + " / ".join(f'"{name}"' for name in names)
        yield from _walk(Section("[[sources]]", model, f"({note})", kind=names[0]))


def _walk(section: Section) -> Iterator[Section]:
    yield section
    for key, info in _fields(section.model):
        if section.model is _File and key == "sources":
            yield from _walk(Section("[[sources]]", SourceSection))
            continue
        for inner in models_in(info.annotation):
            yield from _walk(Section(section.child(key, info.annotation), inner, section.note))


def _fields(model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    for name, info in model.model_fields.items():
        yield info.alias or name, info


def undocumented_kinds(kinds: Mapping[str, type]) -> list[str]:
    """The kinds that declare no `settings_model`: their keys cannot be documented."""
    return sorted(name for name, kind in kinds.items() if settings_model_of(kind) is None)


def render(kinds: Mapping[str, type]) -> str:
    """The whole reference as Markdown; raises UndocumentedKey naming the first field it cannot document."""
    all_sections = list(sections(kinds))
    out = [TITLE, "", INTRO]
    out += ["## Contents", ""] + [f"- [{s.title}](#{_anchor(s.title)})" for s in all_sections] + [""]
    for section in all_sections:
        out += _render_section(section)
    missing = undocumented_kinds(kinds)
    if missing:
        out += ["## Source kinds without a settings model", "",
                f"These kinds declare no `settings_model`, so their keys are not listed: {', '.join(missing)}.", ""]
    return "\n".join(out)


def _anchor(title: str) -> str:
    # GitHub's rule: lower-case, drop punctuation but '-' and '_', spaces become '-'.
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _render_section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.model.__doc__:
        # A model's docstring may open with its own header ("`[controller]`: who ..."); the heading says it.
        doc = _OWN_HEADER.sub("", inspect.cleandoc(section.model.__doc__))
        lines += [doc[:1].upper() + doc[1:], ""]
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    example = [section.header] if section.header else []
    if section.kind:
        example.append(f"kind = {_toml(section.kind)}")
    for key, info in _fields(section.model):
        where = f"{section.header or '(top level)'} {key}"
        if not info.description:
            raise UndocumentedKey(f"{where}: no description; give the field a docstring")
        description = " ".join(info.description.split()).replace("|", "\\|")
        nested = next(models_in(info.annotation), None)
        if nested is not None or (section.model is _File and key == "sources"):
            target = "[[sources]]" if key == "sources" else section.child(key, info.annotation)
            kind = "list of tables" if _is_list(info.annotation) else "table"
            lines.append(f"| `{key}` | {kind}, see [`{target}`](#{_anchor(f'`{target}` {section.note}'.strip())}) "
                         f"| {_default(info)} | {description} |")
            continue
        lines.append(f"| `{key}` | {_type(info.annotation, info)} | {_default(info)} | {description} |")
        example.append(_example_line(key, info, where))
    return [*lines, "", "```toml", *example, "```", ""]


_OWN_HEADER = re.compile(r"^`[^`]+`: ")


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "the defaults below"
    return f"`{_toml(value)}`"


def _example_line(key: str, info: FieldInfo, where: str) -> str:
    if info.examples:
        value = info.examples[0]
    elif not info.is_required() and info.get_default(call_default_factory=True) is not None:
        value = info.get_default(call_default_factory=True)
    else:
        raise UndocumentedKey(f"{where}: no example; give the field examples=[...]")
    line = f"{key} = {_toml(value)}"
    # An optional key shows commented out: the example stays a config one could use as it is.
    return f"# {line}" if not info.is_required() and info.get_default(call_default_factory=True) is None else line


def _toml(value: Any) -> str:
    """A TOML literal of a plain value (strings, numbers, booleans, lists and inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type(annotation: Any, info: FieldInfo | None = None) -> str:
    """How a person reads a field's type: `integer (>= 1, <= 60)`, `list of string`, `"low" or "high"`."""
    text = _plain_type(annotation)
    bounds = _bounds(info.metadata) if info is not None else []
    return f"{text} ({', '.join(bounds)})" if bounds else text


def _plain_type(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation == Text:
        return "text"
    if origin is Annotated:
        inner = _plain_type(args[0])
        bounds = _bounds(args[1:])
        return f"{inner} ({', '.join(bounds)})" if bounds else inner
    if origin in (Union, types.UnionType):
        return " or ".join(_plain_type(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return " or ".join(f"`{_toml(arg)}`" for arg in args)
    if origin is list:
        return f"list of {_plain_type(args[0])}"
    if origin is dict:
        return f"table of {_plain_type(args[0])} → {_plain_type(args[1])}"
    if annotation is Any:
        return "any"
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(metadata: Any) -> list[str]:
    out = []
    for item in metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None and isinstance(item, annotated_types.BaseMetadata):
                out.append(f"{sign} {value}")
        if isinstance(item, annotated_types.MinLen) and item.min_length > 0:
            out.append(f"at least {item.min_length}")
    return out


def documented_keys(kinds: Mapping[str, type]) -> dict[str, list[str]]:
    """Section title -> the keys it documents: what the test checks against docs/config.md."""
    return {section.title: config_keys(section.model) for section in sections(kinds)}


def main(argv: list[str]) -> int:
    """`python -m flows.config_reference [OUT]`: write the reference of the built-in kinds (stdout without OUT)."""
    from extractors.registry import builtin_source_kinds

    write(render(builtin_source_kinds()), Path(argv[1]) if len(argv) > 1 else None)
    return 0


def write(text: str, out: Path | None) -> None:
    """`text` to the file `out` (whole or not at all), or to stdout."""
    from exports._atomic import atomic_write

    if out is None:
        sys.stdout.write(text)
        return
    with atomic_write(out) as file:
        file.write(text.encode("utf-8"))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
