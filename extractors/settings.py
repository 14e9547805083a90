"""Validation of a source's config section, shared by every source kind and by dsar's own config."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from extractors.errors import SourceConfigError


class SourceSettings(BaseModel):
    """Base for a source's settings model: unknown keys are errors, values are frozen.

    Each field's docstring (the string literal under it) is its one-line description in the config
    reference (`dsar config reference`); a source class names its model as `settings_model`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


S = TypeVar("S", bound=SourceSettings)


def parse_settings(model: type[S], source: str, settings: Mapping[str, Any]) -> S:
    """Validate `settings` against `model`, or raise one SourceConfigError naming the first bad key.

    The key is dotted (`tables.1.foreign_key`). The message never repeats the
    value: a bad URL may hold a password.
    """
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        key, message = first_problem(exc, model)
        raise SourceConfigError(source, key or "(section)", message) from None


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation holds: itself, or inside Optional, list, dict values and unions."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from models_in(arg)


def config_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model reads, as a config file spells them (aliases included)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model that holds the last key of `loc`, walking nested models and skipping list indexes."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        inner = next(models_in(field.annotation), None) if field is not None else None
        if inner is None:
            return None
        model = inner
    return model


def first_problem(exc: ValidationError, model: type[BaseModel] | None = None) -> tuple[str, str]:
    """The dotted key and a short message of a validation error's first problem, never the value.

    With the `model` that was validated, an unknown key's message lists the valid keys at its place.
    """
    first = exc.errors(include_url=False, include_input=False)[0]
    # A table's key pydantic refuses (a language not in {fi, en}) is located as "<key>.[key]": name the key.
    key = ".".join(str(part) for part in first["loc"] if part != "[key]")
    if first["type"] == "missing":
        return key, "missing"
    if first["type"] == "extra_forbidden":
        holder = _model_at(model, first["loc"][:-1]) if model is not None else None
        if holder is None:
            return key, "unknown key"
        return key, f"unknown key; valid keys: {', '.join(config_keys(holder))}"
    return key, first["msg"].removeprefix("Value error, ")
