"""The README's example source plugin (examples/source-plugin/) works as documented, without installing it."""

import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from extractors import Subject, make_source
from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.records import EMAIL, Identifier

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "source-plugin"


@pytest.fixture
def csv_kind(monkeypatch: pytest.MonkeyPatch) -> type:
    """The class the example's pyproject.toml registers under `dsar.sources`, loaded through that entry point."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    points = project["project"]["entry-points"]["dsar.sources"]
    assert list(points) == ["csv"]
    return EntryPoint("csv", points["csv"], "dsar.sources").load()


def test_the_example_finds_the_subjects_rows_by_every_address(csv_kind: type, tmp_path: Path) -> None:
    (tmp_path / "newsletter.csv").write_text(
        "email,name,joined\n"
        "Matti@Example.fi,Matti,2024-03-01\n"
        "teppo@example.fi,Teppo,2024-03-02\n"
        "matti.m@tyo.example,Matti M,2024-03-03\n",
        encoding="utf-8",
    )
    source = make_source("newsletter_export", "csv", {"name": "newsletter_export", "kind": "csv",
                                                      "path": "newsletter.csv"}, tmp_path, {}, kinds={"csv": csv_kind})
    subject = Subject("matti@example.fi", also=(Identifier(EMAIL, "matti.m@tyo.example", "customers"),))
    records = list(source.records(subject))
    assert [(r.source, r.category, r.key, r.data["name"]) for r in records] == [
        ("newsletter_export", "rows", "2", "Matti"), ("newsletter_export", "rows", "4", "Matti M")]
    assert all(r.about_subject and r.provided for r in records)
    assert list(source.records(Subject("nobody@example.fi"))) == []


def test_the_example_names_what_to_fix(csv_kind: type, tmp_path: Path) -> None:
    kinds = {"csv": csv_kind}
    with pytest.raises(SourceConfigError, match=r"^source x: path: missing$"):
        make_source("x", "csv", {}, tmp_path, {}, kinds=kinds)
    with pytest.raises(SourceConfigError, match=r"^source x: path: no such file$"):
        make_source("x", "csv", {"path": "Matti Meikäläinen.csv"}, tmp_path, {}, kinds=kinds)
    (tmp_path / "a.csv").write_text("mail\nmatti@example.fi\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match=r"^source x: email_column: no such column in the file$"):
        list(make_source("x", "csv", {"path": "a.csv"}, tmp_path, {}, kinds=kinds).records(Subject("a@b.fi")))
    (tmp_path / "b.csv").write_bytes(b"email\n\xff\xfe\n")
    with pytest.raises(SourceUnavailable, match=r"^source x: file could not be read \(UnicodeDecodeError\)$"):
        list(make_source("x", "csv", {"path": "b.csv"}, tmp_path, {}, kinds=kinds).records(Subject("a@b.fi")))


def test_the_example_is_documented_by_the_config_reference(csv_kind: type) -> None:
    from flows.config_reference import render

    text = render({"csv": csv_kind})
    assert '## `[[sources]]` (kind "csv")' in text
    assert "| `path` | string (at least 1) | required | The CSV file, relative to the config file. |" in text
    assert '| `email_column` | string | `"email"` | The column holding an email address. |' in text


def test_an_unknown_key_lists_the_valid_ones(csv_kind: type, tmp_path: Path) -> None:
    with pytest.raises(SourceConfigError, match=r"^source x: colum: unknown key; valid keys: path, email_column$"):
        make_source("x", "csv", {"path": "a.csv", "colum": "mail"}, tmp_path, {}, kinds={"csv": csv_kind})
