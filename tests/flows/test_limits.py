"""Per-source concurrency limits and retries through Prefect, and the mail that tells the team of a failure.

The marketing source talks to the fake Mailchimp over HTTP; a wrapper around
its handler counts extractions in flight, reads the Prefect limit's active
slots while one runs, and fails the tries a test asks it to fail.
"""

import contextvars
import email
import email.policy
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flows import stages
from flows.config import load_config
from flows.demo import mailchimp_server
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.errors import ConfigError, StageFailed
from flows.limits import concurrency_limits, ensure_concurrency_limits, limit_name, retry_options
from flows.runtime import open_runtime
from flows.stage_record import without_run


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("limits") / "demo")


_configs = iter(range(1, 1000))


def write_config(company, mailchimp_url: str, marketing: str = "", extra: str = "") -> Path:
    """The demo config with `marketing` keys added to the marketing source, in a file of its own (the flow's
    runtime is cached per config path)."""
    demo, _ = company
    text = write_demo_config(demo, mailchimp_url).read_text(encoding="utf-8")
    text = text.replace('api_key_env = "MAILCHIMP_API_KEY"\n', f'api_key_env = "MAILCHIMP_API_KEY"\n{marketing}\n')
    path = demo.workdir / f"dsar-limits-{next(_configs)}.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


class Watched:
    """The fake Mailchimp, watched: extractions in flight at most, the limit's slots seen during each, and the
    first `failures` extraction tries answered with HTTP 503."""

    def __init__(self, company, failures: int = 0, read_slots: str | None = None) -> None:
        demo, secrets = company
        self.failures, self.tries, self.in_flight, self.most_in_flight = failures, 0, 0, 0
        self.slots_seen: list[int] = []
        self.lock = threading.Lock()
        context = contextvars.copy_context()  # the test's Prefect settings, for the server's threads
        handler: Any = mailchimp_server._handler(
            mailchimp_server._Store(json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))),
            secrets["MAILCHIMP_API_KEY"], traffic := mailchimp_server._Traffic(latency=0))
        watched = self

        class Handler(handler):
            def do_GET(self) -> None:
                # Each extraction starts with the first page of lists: one try.
                first = self.path.startswith("/3.0/lists?") and "offset=0" in self.path
                with watched.lock:
                    watched.tries += first
                    failing = first and watched.tries <= watched.failures
                    watched.in_flight += 1
                    watched.most_in_flight = max(watched.most_in_flight, watched.in_flight)
                if read_slots is not None:
                    watched.slots_seen.append(context.copy().run(_active_slots, read_slots))
                time.sleep(0.05)  # long enough for another extraction to overlap, were it let in
                if failing:
                    self._problem(503, "Service Unavailable", "Try again later.")
                else:
                    super().do_GET()

            def send_response(self, code: int, message: str | None = None) -> None:
                # Out of flight before the client can read a byte, so its next request never counts twice.
                with watched.lock:
                    watched.in_flight -= 1
                super().send_response(code, message)

        httpd = mailchimp_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self.server = mailchimp_server.MailchimpServer(httpd, traffic)
        self.base_url = self.server.base_url


def _active_slots(name: str) -> int:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name).active_slots


def _limit(name: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


def verified_request(rt, email_address: str) -> str:
    request = stages.register(rt, email_address, "fi")
    verify_by_outbox(rt, request.id)
    return request.id


# Config ----------------------------------------------------------------------------------------

def test_run_keys_are_read_per_source_and_the_source_never_sees_them(company):
    path = write_config(company, "http://127.0.0.1:9/3.0",
                        "concurrency = 10\nretries = 3\nretry_backoff_seconds = 2\nretry_jitter = 0.2")
    config = load_config(path)
    marketing = next(s for s in config.sources if s.name == "marketing")
    assert (marketing.run.concurrency, marketing.run.retries) == (10, 3)
    assert "concurrency" not in marketing.settings and "retries" not in marketing.settings
    open_runtime(path).sources()  # the Mailchimp source refuses keys it does not know
    assert concurrency_limits(config) == {"dsar-source-marketing": 10}
    customers = next(s for s in config.sources if s.name == "customers")
    assert customers.run.concurrency is None and customers.run.retries == 2  # the defaults
    assert config.team_email == config.controller.contact_email
    assert config.notify.deadline_warning_days == 7


@pytest.mark.parametrize(("keys", "problem"), [
    ("concurrency = 0", "sources.2.concurrency: Input should be greater than or equal to 1"),
    ("retries = -1", "sources.2.retries: Input should be greater than or equal to 0"),
    ('retry_jitter = "lots"',
     "sources.2.retry_jitter: Input should be a valid number, unable to parse string as a number"),
])
def test_a_wrong_run_key_names_the_source_and_the_key(company, keys, problem):
    with pytest.raises(ConfigError) as error:
        load_config(write_config(company, "http://127.0.0.1:9/3.0", keys))
    assert str(error.value).endswith(problem)


def test_a_team_address_that_is_not_one_address_is_refused(company):
    path = write_config(company, "http://127.0.0.1:9/3.0", extra='\n[notify]\nteam_email = "a@x.fi, b@x.fi"\n')
    with pytest.raises(ConfigError, match=r"notify\.team_email: "):
        load_config(path)


def test_retries_back_off_exponentially_with_jitter(company):
    keys = "retries = 3\nretry_backoff_seconds = 1.5\nretry_jitter = 0.5"
    marketing = next(s for s in load_config(write_config(company, "http://127.0.0.1:9/3.0", keys)).sources
                     if s.name == "marketing")
    assert retry_options(marketing) == {
        "retries": 3, "retry_delay_seconds": [1.5, 3.0, 6.0], "retry_jitter_factor": 0.5}
    no_jitter = write_config(company, "http://127.0.0.1:9/3.0", "retries = 0\nretry_jitter = 0")
    marketing = next(s for s in load_config(no_jitter).sources if s.name == "marketing")
    assert retry_options(marketing) == {"retries": 0, "retry_delay_seconds": [], "retry_jitter_factor": None}


# Through Prefect ---------------------------------------------------------------------------------

def test_limits_are_created_and_follow_the_config(prefect_api, company):
    from prefect.exceptions import ObjectNotFound

    name = limit_name("marketing")
    with pytest.raises(ObjectNotFound):  # not there before: the test would pass without ensure otherwise
        _limit(name)
    config = load_config(write_config(company, "http://127.0.0.1:9/3.0", "concurrency = 4"))
    assert ensure_concurrency_limits(config) == 1
    assert ensure_concurrency_limits(config) == 1  # again: nothing changes
    limit = _limit(name)
    assert (limit.limit, limit.active, limit.active_slots) == (4, True, 0)
    ensure_concurrency_limits(load_config(write_config(company, "http://127.0.0.1:9/3.0", "concurrency = 2")))
    assert _limit(name).limit == 2 and _limit(name).id == limit.id
    with pytest.raises(ObjectNotFound):
        _limit(limit_name("customers"))  # an unlimited source has no limit


def test_two_extractions_of_a_source_limited_to_one_never_overlap(prefect_api, company, monkeypatch):
    from flows.fulfil import run_request

    demo, _ = company
    name = limit_name("marketing")
    watched = Watched(company, read_slots=name)
    with watched.server:
        # One connection per extraction, so that requests in flight count extractions in flight.
        path = write_config(company, watched.base_url, "concurrency = 1\nmax_connections = 1")
        rt = open_runtime(path)
        ids = [verified_request(rt, address) for address in (demo.subject_email, "toinen.asiakas@example.fi")]
        monkeypatch.setenv("DSAR_CONFIG", str(path))
        errors: list[BaseException] = []

        def run(request_id: str) -> None:
            try:
                run_request(request_id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, request_id))
                   for request_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert [rt.store.get(request_id).status for request_id in ids] == ["delivered", "delivered"]
    assert watched.tries == 2
    assert watched.most_in_flight == 1
    assert watched.slots_seen and set(watched.slots_seen) == {1}  # each request to Mailchimp ran holding the slot
    assert _limit(name).active_slots == 0  # and gave it back


def test_a_source_failing_twice_then_answering_is_retried_and_the_request_delivered(prefect_api, company, monkeypatch):
    from flows.fulfil import run_request

    watched = Watched(company, failures=2)
    with watched.server:
        # The flow's retries are under test: the source's own (max_retries) stay out of the way.
        path = write_config(company, watched.base_url,
                            "retries = 2\nretry_backoff_seconds = 0.05\nretry_jitter = 0.5\nmax_retries = 0")
        rt = open_runtime(path)
        request_id = verified_request(rt, "kolmas.asiakas@example.fi")
        monkeypatch.setenv("DSAR_CONFIG", str(path))
        run_request(request_id)
    assert watched.tries == 3
    assert rt.store.get(request_id).status == "delivered"
    failed = [without_run(e.detail) for e in rt.ledger.events(request_id) if e.action == "stage_failed"]
    assert failed == [{"stage": "extract:marketing", "error": "SourceUnavailable"}] * 2
    assert not list(rt.config.base_dir.glob(f"outbox/{request_id}-failed-*.eml"))  # it did not fail in the end


def test_a_source_that_never_answers_fails_the_request_and_the_team_is_mailed(
        prefect_api, company, monkeypatch, smtp_server):
    from flows.fulfil import run_request

    controller, received = smtp_server
    watched = Watched(company, failures=1000)
    with watched.server:
        path = write_config(
            company, watched.base_url, "retries = 1\nretry_backoff_seconds = 0.05\nmax_retries = 0",
            extra='\n[notify]\nteam_email = "tietosuojatiimi@demokauppa.example"\n')
        requester = "neljas.asiakas@example.fi"
        request_id = verified_request(open_runtime(path), requester)  # the code by the outbox
        path.write_text(path.read_text(encoding="utf-8").replace(  # and the flow's mail by SMTP
            'outbox = "outbox"', f'smtp = {{ host = "127.0.0.1", port = {controller.port}, starttls = false }}'),
            encoding="utf-8")
        rt = open_runtime(path)
        monkeypatch.setenv("DSAR_CONFIG", str(path))
        with pytest.raises(StageFailed):
            run_request(request_id)
        assert watched.tries == 2  # the first try and one retry
        request = rt.store.get(request_id)
        assert request.status == "failed"
        assert request.reason == ("extract:marketing: source marketing: marketing platform unreachable (HTTP 503); "
                                  "gave up after 1 attempt")
        [mail] = received
        message = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
        assert message["To"] == "tietosuojatiimi@demokauppa.example"
        body = message.get_content()
        assert request_id in message["Subject"] and "extract:marketing" in message["Subject"]
        assert "keskeytyi" in message["Subject"]  # the controller's first language is Finnish
        assert "source marketing: marketing platform unreachable (HTTP 503); gave up after 1 attempt" in body
        assert f"dsar run {request_id}" in body
        assert requester not in mail.as_string().lower()

        # Resumed and failing again: a new failure, a new mail.
        with pytest.raises(StageFailed):
            run_request(request_id)
    assert len(received) == 2
    assert len({m["X-Dsar-Key"] for m in received}) == 2
