"""`dsar index mail` on the demo company, then a request run through the flow that reads the index."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractors.mail import MailSource
from extractors.records import Subject
from flows.cli import app
from flows.demo.run import demo_company, run_flow, verified_requests
from flows.errors import DsarError
from flows.runtime import open_runtime


def dsar(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_index_mail_then_a_request_reads_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with demo_company(tmp_path / "demo") as (company, config):
        first = dsar("index", "mail", "--config", str(config))
        assert "support_mail: rebuilt (new), 2,400 messages indexed" in first
        assert (company.workdir / "index" / "support_mail.sqlite").is_file()
        again = dsar("index", "mail", "--source", "support_mail", "--config", str(config))
        assert "support_mail: updated, 0 messages indexed" in again and "2,400 in the index" in again

        rt = open_runtime(config)
        (request_id,) = verified_requests(rt, [company.subject_email])
        monkeypatch.setenv("DSAR_CONFIG", str(config))
        with caplog.at_level(logging.WARNING):
            run_flow(company.workdir, request_id)
        detail = rt.store.stage_done(request_id, "extract:support_mail")
        assert detail is not None
        assert detail["notes"] == {"index": "fresh", "scanned": 0}
        scan = MailSource("support_mail", {"path": "support.mbox", "index": "no-index.sqlite"}, company.workdir, {})
        assert detail["records"] == len(list(scan.records(Subject(company.subject_email)))) > 0
        assert "address index" not in caplog.text
        assert rt.store.get(request_id).status == "delivered"


def test_index_mail_names_a_source_that_is_not_there(tmp_path: Path) -> None:
    with demo_company(tmp_path / "demo") as (_, config):
        result = CliRunner().invoke(app, ["index", "mail", "--source", "crm", "--config", str(config)])
    assert isinstance(result.exception, DsarError)
    assert str(result.exception) == f"no mail source named 'crm' in {config}"
