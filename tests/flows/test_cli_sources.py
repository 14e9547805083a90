"""`dsar sources check` as a privacy officer runs it on the demo company's config."""

import re
import sqlite3
from pathlib import Path

import pytest

from flows.demo.run import prepare_demo, write_demo_config
from tests.flows.test_cli import dsar


@pytest.fixture
def config(tmp_path: Path) -> Path:
    company, _ = prepare_demo(tmp_path / "demo")
    return write_demo_config(company, "http://127.0.0.1:9/3.0")


def test_small_tables_are_ok_and_other_kinds_are_not_checked(config: Path) -> None:
    result = dsar("sources", "check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [re.sub(r"\(\d+ rows\)", "(N rows)", line) for line in lines] == [
        "customers customers: ok (N rows)", "customers orders: ok (N rows)", "customers order_items: ok (N rows)",
        "support_mail: not checked (kind mail)", "marketing: not checked (kind mailchimp)",
    ]


def test_a_full_scan_is_named_with_its_index_and_the_index_silences_it(config: Path) -> None:
    result = dsar("sources", "check", "--source", "customers", "--min-rows", "0", "--config", str(config))
    assert result.returncode == 1
    warning = next(line for line in result.stdout.splitlines() if line.startswith("customers customers:"))
    index = "CREATE INDEX customers_email_lower_idx ON customers (lower(email))"
    assert re.fullmatch(rf"customers customers: warning: reads all \d+ rows to match email \(match\); "
                        rf"create the index: {re.escape(index)}", warning)
    with sqlite3.connect(config.parent / "customers.db") as conn:
        conn.execute(index)
    conn.close()
    again = dsar("sources", "check", "--source", "customers", "--min-rows", "0", "--config", str(config))
    assert re.search(r"^customers customers: ok \(\d+ rows\)$", again.stdout, re.M), again.stdout


def test_an_unknown_source_is_named(config: Path) -> None:
    result = dsar("sources", "check", "--source", "nosuch", "--config", str(config))
    assert result.returncode == 2
    assert "no source named 'nosuch' in the config" in result.stderr
