"""Source kinds come from the `dsar.sources` entry points, built-ins included."""

from pathlib import Path

import pytest

import extractors
from extractors import Subject, load_source_kinds, make_source
from extractors.errors import SourceConfigError
from extractors.mail import MailSource
from extractors.mailchimp import MailchimpSource
from extractors.sql import SqlSource


def test_built_in_kinds_are_registered() -> None:
    kinds = load_source_kinds()
    assert kinds["sql"] is SqlSource
    assert kinds["mail"] is kinds["mbox"] is MailSource  # `mbox`, the kind's older name, still works
    assert kinds["mailchimp"] is MailchimpSource


def test_make_source_builds_the_kind_and_ignores_name_and_kind_keys(tmp_path: Path) -> None:
    (tmp_path / "support.mbox").write_bytes(b"From x\nFrom: b@example.fi\n\nHei.\n")
    section = {"name": "support_mail", "kind": "mail", "path": "support.mbox"}
    source = make_source("support_mail", "mail", section, tmp_path, {})
    assert isinstance(source, MailSource) and source.name == "support_mail"
    assert list(source.records(Subject("a@example.fi"))) == []


def test_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(SourceConfigError) as caught:
        make_source("crm", "salesforce", {}, tmp_path, {})
    assert caught.value.key == "kind"
    assert str(caught.value) == "source crm: kind: unknown source kind 'salesforce' (known: mail, mailchimp, mbox, sql)"


def test_explicit_kinds_replace_the_entry_points(tmp_path: Path) -> None:
    class Fake:
        def __init__(self, name, settings, base_dir, environ) -> None:
            self.name, self.settings = name, settings

    source = make_source("x", "fake", {"a": 1}, tmp_path, {}, kinds={"fake": Fake})
    assert isinstance(source, Fake) and source.settings == {"a": 1}
    with pytest.raises(SourceConfigError, match=r"\(known: fake\)"):
        make_source("x", "sql", {}, tmp_path, {}, kinds={"fake": Fake})


def test_bad_settings_surface_through_make_source(tmp_path: Path) -> None:
    with pytest.raises(SourceConfigError) as caught:
        make_source("customer_db", "sql", {"url": "sqlite://", "tables": [{"category": "c"}]}, tmp_path, {})
    assert caught.value.key == "tables.0.table"


def test_package_exports() -> None:
    assert set(extractors.__all__) >= {"Subject", "Record", "Source", "make_source", "load_source_kinds", "errors"}
    assert extractors.errors.SourceUnavailable is extractors.SourceUnavailable
