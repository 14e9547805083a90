"""Texts given per language in the config, and the check that each configured language has one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel

from extractors.settings import models_in

Text = dict[Literal["fi", "en"], str]


def _is_text(annotation: Any) -> bool:
    return annotation == Text or any(_is_text(arg) for arg in get_args(annotation))


def missing_translation(model: BaseModel, languages: Sequence[str],
                        at: str = "") -> tuple[str, str] | None:
    """The dotted key and message of the first `Text` in `model` (nested models and lists included) that lacks
    a non-empty text in one of `languages`; None when every text is complete."""
    for name, info in type(model).model_fields.items():
        value, key = getattr(model, name), f"{at}{info.alias or name}"
        if isinstance(value, dict) and _is_text(info.annotation):
            for language in languages:
                if not str(value.get(language, "")).strip():
                    state = "missing" if language not in value else "empty"
                    return f"{key}.{language}", f"{state}; controller.languages lists {language}"
        if next(models_in(info.annotation), None) is None:
            continue
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if isinstance(item, BaseModel):
                found = missing_translation(item, languages, f"{key}." if index is None else f"{key}.{index}.")
                if found is not None:
                    return found
    return None
