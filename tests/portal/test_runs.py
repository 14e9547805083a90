"""A request verified on the portal is run by a `dsar run` process of its own, as `start_run` starts it."""

import json
import time

import pytest

from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.portal.runs import start_run
from flows.runtime import open_runtime
from flows.stages import register

pytestmark = pytest.mark.e2e

# A bound on waiting, not a timing assertion: `dsar run` starts Prefect's temporary server (~10-30 s).
RUN_WAIT = 300.0


def test_start_run_delivers_the_request_through_dsar_run(tmp_path, monkeypatch):
    company, secrets = prepare_demo(tmp_path / "demo")
    data = json.loads(company.mailchimp_data.read_text(encoding="utf-8"))
    # `dsar run` in its own Prefect home, on its own temporary API: nothing from this test process.
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    for name in ("PREFECT_API_URL", "PREFECT_API_DATABASE_CONNECTION_URL", "DSAR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        config = write_demo_config(company, mailchimp.base_url)
        rt = open_runtime(config)
        request = register(rt, company.subject_email, "en")
        verify_by_outbox(rt, request.id)
        start_run(config, request.id)
        deadline = time.monotonic() + RUN_WAIT
        while (status := rt.store.get(request.id).status) not in ("delivered", "failed"):
            assert time.monotonic() < deadline, f"{request.id} still {status} after {RUN_WAIT:.0f}s"
            time.sleep(0.5)
    assert status == "delivered"
    assert (config.parent / "outbox" / f"{request.id}-link.eml").exists()
    assert [e.action for e in rt.ledger.events(request.id)][-1] == "deliver_done"
