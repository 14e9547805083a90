"""Scale-out as the README describes it: `prefect server start` on PostgreSQL, `prefect deploy` with
infra/prefect.yaml, two `dsar worker` processes, twenty requests at once."""

import re
import subprocess
import sys
from pathlib import Path

from flows.demo.run import demo_company, verified_requests
from flows.notify import Outbox
from flows.runtime import open_runtime
from tests.flows.warm import PrefectServer, Worker, dsar, prefect_home_env
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 20


def _prefect(*args: str, env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_twenty_requests_on_two_workers_through_a_prefect_server_on_postgresql(postgres_server, tmp_path):
    postgres_server.admin("CREATE DATABASE prefect_scale", "CREATE DATABASE dsar_scale")
    server_env = prefect_home_env(tmp_path / "server-home") | {
        "PREFECT_API_DATABASE_CONNECTION_URL": postgres_server.url("prefect_scale", driver="postgresql+asyncpg")}
    server = PrefectServer(server_env, free_port(), tmp_path / "server.log")
    workers: list[Worker] = []
    try:
        with demo_company(tmp_path / "demo") as (company, config):
            # The request store and the ledger on PostgreSQL too: both workers write to one database.
            config.write_text(config.read_text().replace(
                'url = "sqlite:///dsar.db"', f'url = "{postgres_server.url("dsar_scale")}"'))
            env = prefect_home_env(tmp_path / "client-home", api_url=server.url) | {"DSAR_CONFIG": str(config)}
            _prefect("work-pool", "create", "dsar", "--type", "process", env=env)
            _prefect("deploy", "--all", "--prefect-file", "infra/prefect.yaml", env=env)
            workers = [Worker(config, env, tmp_path / f"worker-{n}.log", "--slots", "2") for n in (1, 2)]

            rt = open_runtime(config)
            outbox = rt.mailer
            assert isinstance(outbox, Outbox)
            ids = verified_requests(rt, company.customer_emails(REQUESTS))
            from prefect.settings import PREFECT_API_URL
            from prefect.settings.context import temporary_settings

            from flows.submit import submit_request, wait_for

            with temporary_settings({PREFECT_API_URL: server.url}):
                runs = [submit_request(request_id) for request_id in ids]  # all queued before any is waited for
                states = [wait_for(run.id, poll_seconds=0.5).state for run in runs]
            assert [s.type.value if s else None for s in states] == ["COMPLETED"] * REQUESTS
            for request_id in ids:
                assert rt.store.get(request_id).status == "delivered"
                assert len(rt.store.links_of(request_id)) == 1
                assert len(re.findall(r"/download/", outbox.read(f"{request_id}-link"))) == 1
            # Both workers took runs.
            for worker in workers:
                assert re.search(r"Beginning flow run 'REQ-", worker.output()), worker.output()[-2000:]
            verified = dsar("audit", "verify", "--config", str(config), env=env)
            assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
