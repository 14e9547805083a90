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
        first = exc.errors(include_url=False, include_input=False)[0]
        key = ".".join(str(part) for part in first["loc"]) or "(section)"
        raise SourceConfigError(source, key, _short_message(first["type"], first["msg"])) from None


def _short_message(kind: str, msg: str) -> str:
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "unknown key"
    return msg.removeprefix("Value error, ")
