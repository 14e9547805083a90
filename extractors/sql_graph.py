"""The settings of a `sql` source and the table graph they declare, checked when the config loads.

See extractors/sql.py for the TOML shape. A table is found two ways, either or both:
matched on the subject's identifiers (`match_columns`), or reached from tables listed
earlier (`parents`). Parents must be listed earlier, so the graph has no cycles and is
walked in the listed order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from extractors.errors import SourceConfigError
from extractors.records import EMAIL, NAME
from extractors.settings import SourceSettings


class ParentSettings(SourceSettings):
    """One parent of a table: rows whose `foreign_key` holds a `parent_key` value of the subject's parent rows."""

    table: str = Field(min_length=1, examples=["customers"])
    """A table listed earlier, as its `table` (or its bare name when unique)."""
    foreign_key: str = Field(min_length=1, examples=["customer_id"])
    """The column of this table that holds a value of the parent's `parent_key`."""
    parent_key: str = "id"
    """The column of the parent that `foreign_key` refers to."""


class TableSettings(SourceSettings):
    """One table of a `sql` source: found by matching the subject's identifiers, from parents listed earlier, or
    both."""

    category: str = Field(min_length=1, examples=["customer"])
    """The category its rows go to: a file name in the package (lower-case letters, digits, '_' and '-')."""
    table: str = Field(min_length=1, examples=["customers"])
    """The table's name, or schema.table."""
    schema_: str | None = Field(default=None, alias="schema", min_length=1, examples=["crm"])
    """The table's schema (PostgreSQL), unless given in `table`."""
    match_column: str | None = Field(default=None, examples=["email"])
    """The one column matched with the subject's identifiers (older form of `match_columns`)."""
    match_columns: list[str] = Field(default_factory=list, examples=[["email", "alt_email"]])
    """Columns matched with the subject's identifiers; a row matching any of them is the subject's."""
    match_kind: Literal["email", "phone", "customer_id"] = "email"
    """Which of the subject's identifiers the match columns hold (phone as E.164, as stored)."""
    match_case: Literal["lower", "exact"] | None = Field(default=None, examples=["exact"])
    """`lower` compares lower(column) (the default for emails; index lower(column)); `exact` compares as stored
    (the default for other kinds)."""
    parent: str | None = Field(default=None, examples=["customers"])
    """The one parent table (older form of `parents`)."""
    foreign_key: str | None = Field(default=None, examples=["customer_id"])
    """With `parent`: the column of this table holding the parent's `parent_key`."""
    parent_key: str = "id"
    """With `parent`: the parent's column that `foreign_key` refers to."""
    parents: list[ParentSettings] = Field(default_factory=list)
    """Tables listed earlier whose subject rows lead to rows of this one; see `sources.tables.parents`."""
    provided: bool = False
    """The subject gave these rows themselves (Art. 20 portability)."""
    about_subject: bool = False
    """Matched rows are the subject's own record (their identifiers are kept and may expand the subject)."""
    people_columns: list[str] = Field(default_factory=list, examples=[["first_name", "last_name"]])
    """Columns that hold the names of the people in this table: every row's name is one that redaction finds
    anywhere, even where nothing in the text marks it as a name."""

    @field_validator("category")
    @classmethod
    def _category_is_a_name(cls, value: str) -> str:
        # It becomes a file name in the package.
        if not NAME.fullmatch(value):
            raise ValueError("use lower-case letters, digits, '_' and '-' (at most 63)")
        return value


class SqlSettings(SourceSettings):
    """`kind = "sql"`: a relational database read through a declared graph of tables (SQLAlchemy)."""

    url: str | None = Field(default=None, examples=["sqlite:///customers.db"])
    """The database's SQLAlchemy URL, without a password (a relative SQLite path is relative to the config);
    set this or `url_env`."""
    url_env: str | None = Field(default=None, examples=["CUSTOMER_DB_URL"])
    """The environment variable holding the URL (use it when the URL holds a password)."""
    tables: list[TableSettings] = Field(min_length=1)
    """The tables to read, parents before children; see `sources.tables`."""


@dataclass(frozen=True)
class Edge:
    """Rows of a table whose `foreign_key` holds a `parent_key` value of the subject's rows in `parent`."""

    parent: str  # the parent's full name
    foreign_key: str
    parent_key: str
    at: str  # the dotted config key of this edge, for errors


@dataclass(frozen=True)
class Node:
    """One configured table, resolved."""

    at: str  # "tables.<i>"
    conf: TableSettings
    schema: str | None
    name: str
    match_columns: tuple[str, ...]
    match_key: str  # "match_column" or "match_columns", for errors
    lower: bool  # compare lower(column) = lower(:value)
    edges: tuple[Edge, ...]

    @property
    def full(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


def check_graph(source: str, settings: SqlSettings) -> tuple[Node, ...]:
    """The resolved table graph, or SourceConfigError naming the dotted key of the first problem."""
    if (settings.url is None) == (settings.url_env is None):
        raise SourceConfigError(source, "url", "set exactly one of url or url_env")
    nodes: list[Node] = []
    for i, t in enumerate(settings.tables):
        def bad(key: str, message: str, i: int = i) -> SourceConfigError:
            return SourceConfigError(source, f"tables.{i}.{key}", message)

        schema, name = t.schema_, t.table
        if "." in name:
            if schema is not None:
                raise bad("table", "give the schema in `schema` or as schema.table, not both")
            schema, name = name.split(".", 1)
        full = f"{schema}.{name}" if schema else name
        if any(n.full == full for n in nodes):
            raise bad("table", f"table '{full}' is listed twice")

        if t.match_column is not None and t.match_columns:
            raise bad("match_columns", "set match_column or match_columns, not both")
        match_key = "match_columns" if t.match_columns else "match_column"
        matches = tuple(t.match_columns) or ((t.match_column,) if t.match_column is not None else ())
        if len(set(matches)) != len(matches):
            raise bad("match_columns", "a column is listed twice")

        if t.parent is not None and t.parents:
            raise bad("parents", "set parent or parents, not both")
        if t.parent is None and t.foreign_key is not None:
            raise bad("foreign_key", "goes with parent")
        if t.parent is not None:
            if t.foreign_key is None and i > 0:
                raise bad("foreign_key", "missing")
            wanted = [(t.parent, t.foreign_key or "", t.parent_key, f"tables.{i}.parent")]
        else:
            wanted = [(p.table, p.foreign_key, p.parent_key, f"tables.{i}.parents.{j}.table")
                      for j, p in enumerate(t.parents)]
        edges: list[Edge] = []
        for parent, foreign_key, parent_key, at in wanted:
            if i == 0:
                raise SourceConfigError(source, at, "the first table is matched on the subject, not on a parent")
            found = _find(nodes, parent)
            if found is None:
                raise SourceConfigError(source, at, f"'{parent}' is not a table listed earlier")
            edges.append(Edge(found.full, foreign_key, parent_key, at.removesuffix(".table").removesuffix(".parent")))

        if not matches and not edges:
            raise bad("match_column", "missing: set match_columns, parents or both")
        if t.about_subject and not matches:
            raise bad("about_subject", "only a table matched on the email (or another identifier) "
                                       "describes the subject")
        lower = (t.match_case or ("lower" if t.match_kind == EMAIL else "exact")) == "lower"
        nodes.append(Node(f"tables.{i}", t, schema, name, matches, match_key, lower, tuple(edges)))
    return tuple(nodes)


def _find(nodes: list[Node], name: str) -> Node | None:
    """The node named `name` in full, or by bare name when only one table has it."""
    exact = [n for n in nodes if n.full == name]
    bare = [n for n in nodes if n.name == name]
    found = exact or bare
    return found[0] if len(found) == 1 else None
