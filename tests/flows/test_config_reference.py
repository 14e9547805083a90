"""docs/config.md documents every key of every model (datasette's test_settings_are_documented), is what the
generator writes today, and its examples are real config."""

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from extractors.registry import builtin_source_kinds, settings_model_of
from extractors.settings import SourceSettings, config_keys, models_in
from flows.config import SourceSection, _File, load_config
from flows.config_reference import UndocumentedKey, render

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "config.md"


def all_models() -> list[type[BaseModel]]:
    """Every model behind dsar.toml, found apart from the generator: the file's, the source section's and each
    built-in kind's, with every model nested in them."""
    roots: list[type[BaseModel]] = [_File, SourceSection]
    for kind in builtin_source_kinds().values():
        declared = settings_model_of(kind)
        assert declared is not None, f"source kind {kind.__name__} declares no settings_model"
        roots.append(declared)
    seen: list[type[BaseModel]] = []
    while roots:
        model = roots.pop(0)
        if model not in seen:
            seen.append(model)
            roots += [inner for info in model.model_fields.values() for inner in models_in(info.annotation)]
    return seen


def documented_sections() -> dict[str, set[str]]:
    """Each `## ` section of docs/config.md -> the keys its table rows name."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:], set())
        elif current is not None and (row := re.match(r"\| `([^`]+)` \|", line)):
            current.add(row.group(1))
    return sections


def test_the_models_are_all_found():
    # The walk must reach the nested and the source kinds' models, or the next test would check too little.
    names = {model.__name__ for model in all_models()}
    assert {"Controller", "OrderNumbers", "Smtp", "Oidc", "SourceSection", "SqlSettings", "TableSettings",
            "ParentSettings", "MailSettings", "MailchimpSettings"} <= names


@pytest.mark.parametrize("model", all_models(), ids=lambda model: model.__name__)
def test_every_key_of_the_model_is_documented(model):
    keys = set(config_keys(model))
    sections = documented_sections()
    assert any(documented == keys for documented in sections.values()), (
        f"no section of docs/config.md documents exactly the keys of {model.__name__} {sorted(keys)}; "
        "run `python -m flows.config_reference docs/config.md`")


@pytest.mark.parametrize("model", all_models(), ids=lambda model: model.__name__)
def test_every_key_has_a_description(model):
    for name, info in model.model_fields.items():
        assert info.description and info.description.strip(), f"{model.__name__}.{name} has no docstring"


def test_docs_config_md_is_what_the_generator_writes():
    assert DOC.read_text(encoding="utf-8") == render(builtin_source_kinds()), (
        "docs/config.md is out of date: run `python -m flows.config_reference docs/config.md`")


def test_a_key_without_a_docstring_or_an_example_stops_the_generator():
    class Settings(SourceSettings):
        documented: int = 1
        """A key with a description."""
        bare: int = 2

    class Kind:
        settings_model: type[SourceSettings] = Settings

    with pytest.raises(UndocumentedKey, match=r"bare: no description; give the field a docstring"):
        render({"bare": Kind})

    class Unexampled(SourceSettings):
        path: str
        """A required key and no example of it."""

    Kind.settings_model = Unexampled
    with pytest.raises(UndocumentedKey, match=r"path: no example"):
        render({"bare": Kind})


def test_a_plugin_kind_is_documented_and_one_without_a_model_is_named():
    class CsvSettings(SourceSettings):
        path: str = "export.csv"
        """The CSV file."""

    class CsvSource:
        settings_model = CsvSettings

    class OpaqueSource:
        pass

    text = render({**builtin_source_kinds(), "csv": CsvSource, "opaque": OpaqueSource})
    assert '## `[[sources]]` (kind "csv")' in text and '| `path` | string | `"export.csv"` | The CSV file. |' in text
    assert "declare no `settings_model`, so their keys are not listed: opaque." in text


def test_every_example_block_is_toml():
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == len([keys for keys in documented_sections().values() if keys])
    for block in blocks:
        # Optional keys are shown commented out; uncommented they must parse too.
        uncommented = re.sub(r"^# ", "", block, flags=re.M)
        for text in (block, uncommented):
            tomllib.loads(text)


def test_the_example_config_loads_and_its_sources_settings_validate(tmp_path):
    shutil.copy(ROOT / "examples" / "dsar.toml", tmp_path / "dsar.toml")
    (tmp_path / "dsar.env").write_text("CUSTOMER_DB_URL=sqlite:///customers.db\n")
    (tmp_path / "dsar.env").chmod(0o600)
    config = load_config(tmp_path / "dsar.toml", environ={})
    assert config.controller.business_id == "7654321-2"
    kinds = builtin_source_kinds()
    for spec in config.sources:
        model = settings_model_of(kinds[spec.kind])
        assert model is not None
        model.model_validate(dict(spec.settings))
    assert [s.kind for s in config.sources] == ["sql", "mail", "mailchimp"]


def test_the_readme_points_to_the_reference_and_the_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/config.md" in readme and "examples/dsar.toml" in readme


def test_the_readmes_controller_example_is_valid():
    from flows.config import Controller

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [tomllib.loads(block) for block in re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
              if block.startswith("[controller]")]
    assert blocks, "the README shows no [controller] example"
    for block in blocks:
        assert Controller.model_validate(block["controller"]).business_id == "7654321-2"


def test_the_command_prints_and_writes_the_reference_of_the_installed_kinds(tmp_path):
    import os
    import subprocess
    import sys

    from extractors.registry import load_source_kinds

    dsar = [str(Path(sys.executable).with_name("dsar")), "config", "reference"]
    expected = render(load_source_kinds())
    printed = subprocess.run(dsar, capture_output=True, text=True, timeout=120, env=os.environ.copy(), check=True)
    assert printed.stdout == expected
    subprocess.run([*dsar, "--output", str(tmp_path / "config.md")], timeout=120, env=os.environ.copy(), check=True)
    assert (tmp_path / "config.md").read_text(encoding="utf-8") == expected
