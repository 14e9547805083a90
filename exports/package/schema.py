"""A JSON Schema (draft 2020-12) for a JSON data file, inferred from its records as they stream past.

The inferred shape grows with the records' structure (their keys and types),
never with their number. A key is `required` when every record seen holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass
class Shape:
    """What the values seen at one place in the records looked like."""

    types: set[str] = field(default_factory=set)
    objects: int = 0
    properties: dict[str, Shape] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # objects holding each key
    items: Shape | None = None

    def add(self, value: Any) -> None:
        if value is None:
            self.types.add("null")
        elif isinstance(value, bool):  # before int: a bool is an int to Python
            self.types.add("boolean")
        elif isinstance(value, int):
            self.types.add("integer")
        elif isinstance(value, float):
            self.types.add("number")
        elif isinstance(value, str):
            self.types.add("string")
        elif isinstance(value, list):
            self.types.add("array")
            self.items = self.items or Shape()
            for item in value:
                self.items.add(item)
        elif isinstance(value, dict):
            self.types.add("object")
            self.objects += 1
            for key, item in value.items():
                self.properties.setdefault(key, Shape()).add(item)
                self.seen[key] = self.seen.get(key, 0) + 1
        else:
            raise TypeError(f"{type(value).__name__} is not a JSON value")

    def schema(self) -> dict[str, Any]:
        types = set(self.types)
        if {"integer", "number"} <= types:
            types.discard("integer")  # "number" takes integers too
        out: dict[str, Any] = {}
        if types:
            out["type"] = sorted(types)[0] if len(types) == 1 else sorted(types)
        if "object" in types:
            out["properties"] = {key: shape.schema() for key, shape in self.properties.items()}
            out["required"] = sorted(key for key, n in self.seen.items() if n == self.objects)
        if "array" in types and self.items is not None and self.items.types:
            out["items"] = self.items.schema()
        return out


def array_schema(title: str, records: Shape) -> dict[str, Any]:
    """The schema of a data file: an array of the records `records` has seen."""
    schema: dict[str, Any] = {"$schema": DIALECT, "title": title, "type": "array"}
    if records.types:
        schema["items"] = records.schema()
    return schema
