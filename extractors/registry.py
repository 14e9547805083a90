"""Source kinds, found through the `dsar.sources` entry-point group.

The built-in kinds (`sql`, `mbox`, `mailchimp`) register there like any
plugin. Nothing is discovered at import time: flows/ calls these functions.
A kind's class names the pydantic model of its own keys as `settings_model`
(a `SourceSettings` subclass), so that the config reference documents them.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from extractors.errors import SourceConfigError
from extractors.records import Source

GROUP = "dsar.sources"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_source_kinds() -> dict[str, type]:
    """Every registered source kind by its entry-point name; imports each one."""
    return {name: ep.load() for name, ep in sorted(_entry_points().items())}


def make_source(
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    base_dir: Path,
    environ: Mapping[str, str],
    *,
    kinds: Mapping[str, type] | None = None,
) -> Source:
    """Build the configured source `name` of `kind`.

    `settings` is the source's config section; `name` and `kind` keys in it are
    ignored. Only the requested kind is imported, so a broken plugin breaks only
    the sources that use it. `kinds` replaces the entry points (tests, or a
    caller that already called `load_source_kinds`). Raises SourceConfigError.
    """
    section = {key: value for key, value in settings.items() if key not in ("name", "kind")}
    if kinds is not None:
        cls = kinds.get(kind)
        known = sorted(kinds)
    else:
        points = _entry_points()
        known = sorted(points)
        cls = None
        if kind in points:
            try:
                cls = points[kind].load()
            except Exception as exc:  # an import failure inside a plugin
                raise SourceConfigError(
                    name, "kind", f"source kind '{kind}' could not be loaded ({type(exc).__name__})"
                ) from exc
    if cls is None:
        raise SourceConfigError(name, "kind", f"unknown source kind '{kind}' (known: {', '.join(known)})")
    return cls(name, section, base_dir, environ)


def builtin_source_kinds() -> dict[str, type]:
    """The kinds dsar itself registers (its own distribution's entry points), by name; imports each one."""
    return {name: ep.load() for name, ep in sorted(_entry_points().items())
            if ep.dist is not None and ep.dist.name == "dsar"}


def settings_model_of(kind: type) -> type[BaseModel] | None:
    """The pydantic model of a source kind's own keys: its class attribute `settings_model`, if it declares one.

    `dsar config reference` documents a kind from it: each field's type, default, docstring and example.
    """
    model = getattr(kind, "settings_model", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None
def source_kind(kind: str) -> type | None:
    """The class registered as `kind`, or None when no kind has that name or it cannot be loaded."""
    point = _entry_points().get(kind)
    if point is None:
        return None
    try:
        loaded = point.load()
    except Exception:  # a broken plugin: make_source reports it where the source is built
        return None
    return loaded if isinstance(loaded, type) else None
