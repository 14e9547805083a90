"""A warm `dsar worker`: requests go through the deployment, and the Prefect server it starts lives and dies with it."""

import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from flows.demo.run import demo_company, verified_requests
from flows.deployments import DEPLOYMENTS, deployment_name
from flows.local_api import find_local_api, healthy
from flows.runtime import open_runtime
from tests.flows.privacy import find_in_database
from tests.flows.warm import Worker, dsar, prefect_home_env

ROOT = Path(__file__).resolve().parents[2]


def test_prefect_yaml_declares_the_deployments_the_worker_applies():
    """`prefect deploy` with infra/prefect.yaml and the embedded default give the same deployments."""
    declared = yaml.safe_load((ROOT / "infra" / "prefect.yaml").read_text())
    by_name = {d["name"]: d for d in declared["deployments"]}
    assert set(by_name) == {d.name for d in DEPLOYMENTS}
    for deployment in DEPLOYMENTS:
        entry = by_name[deployment.name]
        assert entry["entrypoint"] == f"flows.fulfil:{deployment.flow.fn.__name__}"
        assert entry["work_pool"]["name"] == "dsar"
        assert entry["work_pool"]["job_variables"] == {"env": {"DSAR_CONFIG": "{{ $DSAR_CONFIG }}"}}
        schedules = entry.get("schedules", [])
        assert [s.get("interval") for s in schedules if "interval" in s] == (
            [deployment.interval_seconds] if deployment.interval_seconds else [])
        # The file's time zone is the config's default; `dsar worker` applies the config's own (below).
        assert [(s["cron"], s["timezone"]) for s in schedules if "cron" in s] == (
            [(deployment.cron, "Europe/Helsinki")] if deployment.cron else [])


def test_the_daily_digest_is_scheduled_by_the_controllers_clock(prefect_api, tmp_path):
    import asyncio

    from prefect.client.orchestration import get_client

    from flows.demo.settings import demo_config
    from flows.deployments import apply_deployments, ensure_pool

    config = tmp_path / "dsar.toml"
    config.write_text(demo_config("http://127.0.0.1:1/3.0", "asiakaspalvelu@demokauppa.example").replace(
        "[controller]\n", '[controller]\ntime_zone = "Europe/Stockholm"\n'), encoding="utf-8")
    (tmp_path / "dsar.env").write_text("")
    (tmp_path / "dsar.env").chmod(0o600)

    async def applied_schedules() -> list[tuple[str | None, str | None]]:
        await ensure_pool()
        ids = await apply_deployments(config)
        async with get_client() as client:
            deployment = await client.read_deployment(ids["deadline_watch"])
        return [(getattr(s.schedule, "cron", None), getattr(s.schedule, "timezone", None))
                for s in deployment.schedules]

    assert asyncio.run(applied_schedules()) == [("0 7 * * *", "Europe/Stockholm")]


@pytest.fixture
def company(tmp_path):
    with demo_company(tmp_path / "demo") as (company, config):
        yield company, config


def test_dsar_run_goes_to_the_embedded_worker_which_stops_its_server_when_killed(company, tmp_path):
    company, config = company
    env = prefect_home_env(tmp_path / "prefect-home")
    worker = Worker(config, env, tmp_path / "worker.log", "--slots", "2")
    try:
        api = find_local_api(config.parent)
        assert api is not None and api.worker_pid == worker.process.pid
        second_worker = dsar("worker", "--config", str(config), env=env, timeout=60)
        assert second_worker.returncode != 0 and "a dsar worker already runs for this config" in second_worker.stderr
        assert find_local_api(config.parent) == api, "the refused worker left the running one's record alone"
        rt = open_runtime(config)
        first, second = verified_requests(rt, company.customer_emails(3)[1:])

        run = dsar("run", first, "--wait", "--config", str(config), env=env)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.stdout == f"{first}: delivered\n"
        assert "submitted to http://127.0.0.1:" in run.stderr  # through the worker, not a temporary server
        assert "Starting temporary server" not in run.stderr

        # A run started from the deployment without the CLI's tag, as the Prefect UI starts one: the flow tags it.
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL
        from prefect.settings.context import temporary_settings

        from flows.submit import wait_for

        with temporary_settings({PREFECT_API_URL: api.url}), get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name(deployment_name("fulfil_request"))
            created = client.create_flow_run_from_deployment(deployment.id, parameters={"request_id": second})
            assert created.tags == ["dsar"]
            finished = wait_for(created.id)
            assert finished.state is not None and finished.state.is_completed()
            assert f"req:{second}" in client.read_flow_run(created.id).tags
            assert finished.name == second
        assert rt.store.get(second).status == "delivered"

        # Human review through the deployment: the run is suspended and leaves the worker; the approval resumes
        # it and the worker finishes it. The worker reads the edited config without a restart.
        config.write_text(config.read_text() + "\n[review]\nrequired = true\n")
        third = verified_requests(rt, company.customer_emails(4)[3:])[0]
        paused = dsar("run", third, "--wait", "--config", str(config), env=env)
        assert paused.stdout == f"{third}: awaiting_review (see: dsar review show {third})\n", paused.stderr[-3000:]
        assert f"{third}: Suspended" in paused.stderr
        approved = dsar("review", "approve", third, "--by", "anna.k", "--config", str(config), env=env)
        assert approved.stdout == f"{third}: approved; its suspended flow run was resumed.\n", approved.stderr
        deadline = time.monotonic() + 120
        while rt.store.get(third).status != "delivered" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rt.store.get(third).status == "delivered"
        actions = [e.action for e in rt.ledger.events(third)]
        assert actions.index("review_requested") < actions.index("review_approved") < actions.index("deliver_done")
        assert [e.detail for e in rt.ledger.events(third) if e.action == "review_approved"] == [{"by": "anna.k"}]

        # Prefect's database holds the request ids, never the requesters' addresses.
        emails = company.customer_emails(4)[1:]
        # The worker's Prefect server keeps its database beside the config, apart from any other config's.
        assert find_in_database(config.parent / "prefect" / "prefect.db", emails) == []
    finally:
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGKILL)
            worker.process.wait()
    # Killed without a chance to clean up, the worker takes its Prefect server with it, and nothing finds it.
    port = api.url.split(":")[2].split("/")[0]

    def server_left() -> bool:
        return any(f"--port {port}" in _cmdline(pid) for pid in _pids())

    deadline = time.monotonic() + 60  # the server shuts down gracefully on the kernel's SIGTERM
    while server_left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not server_left()
    assert not healthy(api.url)
    assert find_local_api(config.parent) is None


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_the_worker_outlives_a_prefect_api_that_does_not_answer(caplog):
    """A Prefect restart or a network blip: the worker says so, waits and tries again; it stops when told."""
    import contextvars
    import threading

    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES
    from prefect.settings.context import temporary_settings

    from flows.worker import WarmWorker

    worker = WarmWorker("dsar", {}, poll_seconds=0.05)
    # Nothing listens on port 9; without the client's own retries (a minute of back-off) the test is quick.
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api", PREFECT_CLIENT_MAX_RETRIES: 0}):
        thread = threading.Thread(target=contextvars.copy_context().run, args=(worker.run,))  # with these settings
        thread.start()
        while len([r for r in caplog.records if "Prefect API unavailable" in r.getMessage()]) < 2:
            assert thread.is_alive(), "the worker died on the first failed poll"
            time.sleep(0.05)
        worker.stop()
        thread.join(timeout=60)
    assert not thread.is_alive()


def test_the_worker_never_takes_another_server_on_its_port_for_its_own(tmp_path, monkeypatch):
    """`prefect server start` binds its port seconds after the port was picked: if another server answers there
    first (another config's), the worker must not apply its deployments and send its runs to that one."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from flows import local_api

    class Stranger(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"{}" if self.path == "/api/health" else json.dumps({"home": "/elsewhere"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    stranger = ThreadingHTTPServer(("127.0.0.1", 0), Stranger)
    threading.Thread(target=stranger.serve_forever, daemon=True).start()
    ports = iter([stranger.server_address[1]])
    real_free_port = local_api._free_port
    monkeypatch.setattr(local_api, "_free_port", lambda: next(ports, None) or real_free_port())
    home = tmp_path / "prefect"
    try:
        process, url = local_api.start_server(home)
    finally:
        stranger.shutdown()
    try:
        assert not url.startswith(f"http://127.0.0.1:{stranger.server_address[1]}/")
        assert healthy(url) and local_api._serves_home(url, home)
    finally:
        process.terminate()
        process.wait(timeout=30)
