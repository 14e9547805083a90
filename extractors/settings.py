"""Validation of a source's config section, shared by every source kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from extractors.errors import SourceConfigError


class SourceSettings(BaseModel):
    """Base for a source's settings model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


S = TypeVar("S", bound=SourceSettings)


def parse_settings(model: type[S], source: str, settings: Mapping[str, Any]) -> S:
    """Validate `settings` against `model`, or raise one SourceConfigError naming the first bad key.

    The key is dotted (`tables.1.foreign_key`). The message never repeats the
    value: a bad URL may hold a password.
    """
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        key, message = first_problem(exc)
        raise SourceConfigError(source, key or "(section)", message) from None


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """The dotted key and a short message of a validation error's first problem, never the value."""
    first = exc.errors(include_url=False, include_input=False)[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return key, "missing"
    if first["type"] == "extra_forbidden":
        return key, "unknown key"
    return key, first["msg"].removeprefix("Value error, ")
