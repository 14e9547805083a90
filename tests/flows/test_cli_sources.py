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


def test_small_tables_are_ok_and_every_kind_checks_itself(config: Path) -> None:
    result = dsar("sources", "check", "--config", str(config))
    assert result.returncode == 1, "no mail index yet (a warning), Mailchimp unreachable (an error)"
    lines = [re.sub(r": \d+ rows;", ": N rows;", re.sub(r"\d+ bytes", "N bytes", line))
             for line in result.stdout.splitlines()]
    fine = "reads the whole table to match {} (fine below 10000 rows)"
    assert lines == [
        f"ok      source customers table customers: N rows; {fine.format('email')}",
        f"ok      source customers table orders: N rows; {fine.format('customer_id')}",
        f"ok      source customers table order_items: N rows; {fine.format('order_id')}",
        "ok      source support_mail archive: readable, mbox, 1 file(s), N bytes",
        "warning source support_mail index: missing: every request reads the whole archive; build it with "
        "dsar index mail",
        "error   source marketing api: marketing platform unreachable; gave up after 1 attempt",
    ]
    only = dsar("sources", "check", "--source", "customers", "--config", str(config))
    assert only.returncode == 0 and len(only.stdout.splitlines()) == 3, only.stdout


def test_a_full_scan_is_named_with_its_index_and_the_index_silences_it(config: Path) -> None:
    result = dsar("sources", "check", "--source", "customers", "--min-rows", "0", "--config", str(config))
    assert result.returncode == 1
    warning = next(line for line in result.stdout.splitlines()
                   if line.startswith("warning source customers table customers:"))
    index = "CREATE INDEX customers_email_lower_idx ON customers (lower(email))"
    assert re.fullmatch(rf"warning source customers table customers: reads all \d+ rows to match email \(match\); "
                        rf"create the index: {re.escape(index)}", warning)
    with sqlite3.connect(config.parent / "customers.db") as conn:
        conn.execute(index)
    conn.close()
    again = dsar("sources", "check", "--source", "customers", "--min-rows", "0", "--config", str(config))
    assert re.search(r"^ok      source customers table customers: \d+ rows; every query uses an index$", again.stdout,
                     re.M), again.stdout


def test_an_unknown_source_is_named(config: Path) -> None:
    result = dsar("sources", "check", "--source", "nosuch", "--config", str(config))
    assert result.returncode == 2
    assert "no source named 'nosuch' in the config" in result.stderr
