"""`dsar index mail` on the demo company, then a request run through the flow that reads the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractors.mail import MailSource
from extractors.records import Subject
from flows.cli import app
from flows.demo.run import demo_company, run_flow, verified_requests
from flows.errors import DsarError
from flows.runtime import open_runtime
from tests.flows.privacy import drain_prefect


def dsar(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def logged(prefect_db: str, request_id: str) -> str:
    """What the request's flow run logged, as Prefect's database holds it."""
    drain_prefect()
    with sqlite3.connect(f"file:{prefect_db}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT l.message FROM log l JOIN flow_run f ON l.flow_run_id = f.id WHERE f.name = ?",
                          (request_id,))
        return "\n".join(message for (message,) in rows)


def test_index_mail_then_a_request_reads_the_index(prefect_api: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with demo_company(tmp_path / "demo") as (company, config):
        rt = open_runtime(config)
        monkeypatch.setenv("DSAR_CONFIG", str(config))
        (before,) = verified_requests(rt, [company.third_party_email])
        run_flow(company.workdir, before)
        unindexed = rt.store.stage_done(before, "extract:support_mail")
        assert unindexed is not None and unindexed["notes"] == {"index": "missing", "scanned": 2400}
        warned = "source support_mail: address index missing, 2400 messages read without it"
        assert warned in logged(prefect_api, before)

        first = dsar("index", "mail", "--config", str(config))
        assert "support_mail: rebuilt (new), 2,400 messages indexed" in first
        assert (company.workdir / "index" / "support_mail.sqlite").is_file()
        again = dsar("index", "mail", "--source", "support_mail", "--config", str(config))
        assert "support_mail: updated, 0 messages indexed" in again and "2,400 in the index" in again

        (request_id,) = verified_requests(rt, [company.subject_email])
        run_flow(company.workdir, request_id)
        detail = rt.store.stage_done(request_id, "extract:support_mail")
        assert detail is not None and detail["notes"] == {"index": "fresh", "scanned": 0}
        scan = MailSource("support_mail", {"path": "support.mbox", "index": "no-index.sqlite"}, company.workdir, {})
        assert detail["records"] == len(list(scan.records(Subject(company.subject_email)))) > 0
        assert "records" in logged(prefect_api, request_id) and "address index" not in logged(prefect_api, request_id)
        assert rt.store.get(request_id).status == "delivered"


def test_index_mail_names_a_source_that_is_not_there(tmp_path: Path) -> None:
    with demo_company(tmp_path / "demo") as (_, config):
        result = CliRunner().invoke(app, ["index", "mail", "--source", "crm", "--config", str(config)])
    assert isinstance(result.exception, DsarError)
    assert str(result.exception) == f"no mail source named 'crm' in {config}"
