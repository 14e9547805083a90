"""The daily deadline digest to the privacy team: what it lists, what it never says, once a day."""

import dataclasses
import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest

from flows import stages
from flows.deadline_watch import DeadlineCounts, watch_deadlines
from flows.demo.run import prepare_demo
from flows.runtime import open_runtime

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("deadlines") / "demo")


@pytest.fixture
def config_path(company, own_store_config):
    return own_store_config(company[0], 5)


def at(rt, moment):
    return dataclasses.replace(rt, clock=lambda: moment)


@pytest.fixture
def requests(config_path):
    """Requests received at different times: {what: (id, address)}."""
    rt = open_runtime(config_path)
    made = {}
    for what, days_ago in (("overdue", 40), ("due_in_3_days", 28), ("due_in_10_days", 21), ("closed_overdue", 45),
                           ("extended", 35)):
        address = f"{what.replace('_', '.')}@example.fi"
        made[what] = (stages.register(at(rt, NOW - timedelta(days=days_ago)), address, "fi").id, address)
    stages.close(rt, made["closed_overdue"][0], "withdrawn")
    rt.store.set_status(made["extended"][0], "received", NOW, extended_to=NOW + timedelta(days=60))
    return made


def digest(outbox_dir):
    [path] = outbox_dir.glob("deadlines-*.eml")
    return path.name, email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_the_digest_lists_overdue_and_soon_due_requests_by_id_only(config_path, requests, tmp_path):
    rt = at(open_runtime(config_path), NOW)
    assert watch_deadlines(rt) == DeadlineCounts(overdue=1, due_soon=1, mailed=True)
    name, message = digest(tmp_path / "outbox")
    assert name == "deadlines-20260615.eml"
    assert message["To"] == "tiimi@demokauppa.example"
    assert message["Subject"] == "Tietopyyntöjen määräajat 2026-06-15: 1 myöhässä, 1 erääntymässä"
    lines = {line.split()[0]: line for line in message.get_content().splitlines() if line.startswith("REQ-")}
    overdue, soon = requests["overdue"][0], requests["due_in_3_days"][0]
    assert set(lines) == {overdue, soon}  # not later, not closed, not extended
    # Due 6 June, a Saturday: Monday 8 June (Regulation 1182/71).
    assert lines[overdue].split() == [overdue, "received", "2026-06-08", "MYÖHÄSSÄ"]
    assert lines[soon].split() == [soon, "received", "2026-06-18"]
    assert list(lines) == [overdue, soon]  # earliest deadline first
    whole = message.as_string()
    for _, address in requests.values():
        assert address not in whole


def test_one_digest_a_day(config_path, requests, tmp_path):
    rt = open_runtime(config_path)
    assert watch_deadlines(at(rt, NOW)).mailed
    assert watch_deadlines(at(rt, NOW + timedelta(hours=8))) == DeadlineCounts(overdue=1, due_soon=1, mailed=False)
    assert len(list((tmp_path / "outbox").glob("deadlines-*.eml"))) == 1
    assert watch_deadlines(at(rt, NOW + timedelta(days=1))).mailed  # the next day, again
    assert len(list((tmp_path / "outbox").glob("deadlines-*.eml"))) == 2


def test_the_day_and_the_window_are_the_controllers(config_path, tmp_path):
    rt = open_runtime(config_path)
    # Received 10:00 Helsinki time on 18 May: due Thursday 18 June, until its end in Helsinki (20:59:59 UTC).
    request_id = stages.register(at(rt, datetime(2026, 5, 18, 7, 0, tzinfo=UTC)), "ikkuna@example.fi", "fi").id
    # 22:30 UTC on 12 June is 01:30 on 13 June in Helsinki: 18 June is within 5 days there, and today is the 13th.
    assert watch_deadlines(at(rt, datetime(2026, 6, 12, 20, 30, tzinfo=UTC))).mailed is False  # 23:30 on the 12th
    assert watch_deadlines(at(rt, datetime(2026, 6, 12, 22, 30, tzinfo=UTC))) == DeadlineCounts(0, 1, mailed=True)
    name, message = digest(tmp_path / "outbox")
    assert name == "deadlines-20260613.eml" and "2026-06-13" in message["Subject"]
    # Late only once the due day has ended where the controller is.
    assert watch_deadlines(at(rt, datetime(2026, 6, 18, 20, 59, tzinfo=UTC))).overdue == 0
    assert watch_deadlines(at(rt, datetime(2026, 6, 18, 21, 0, tzinfo=UTC))).overdue == 1
    assert request_id in message.get_content()


def test_nothing_due_sends_nothing(config_path, tmp_path):
    rt = open_runtime(config_path)
    stages.register(at(rt, NOW), "uusi@example.fi", "en")
    assert watch_deadlines(at(rt, NOW)) == DeadlineCounts(overdue=0, due_soon=0, mailed=False)
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").glob("deadlines-*.eml"))


def test_the_deadline_watch_flow_returns_counts_only(prefect_api, config_path, monkeypatch, tmp_path):
    from flows.fulfil import deadline_watch

    rt = open_runtime(config_path)
    for days_ago in (60, 50):
        stages.register(at(rt, datetime.now(UTC) - timedelta(days=days_ago)), f"vanha{days_ago}@example.fi", "fi")
    monkeypatch.setenv("DSAR_CONFIG", str(config_path))
    assert deadline_watch() == {"overdue": 2, "due_soon": 0, "mailed": 1}
    assert deadline_watch() == {"overdue": 2, "due_soon": 0, "mailed": 0}
    digest(tmp_path / "outbox")


def test_an_extended_request_due_soon_is_marked_and_the_footer_allows_for_extensions(config_path, tmp_path):
    from flows.lifecycle import extend_deadline

    rt = open_runtime(config_path)
    # Received 31 March 2026, extended by one month: due 31 May, a Sunday, so Monday 1 June.
    request = stages.register(at(rt, datetime(2026, 3, 31, 7, 0, tzinfo=UTC)), "jatkettu@example.fi", "fi")
    extend_deadline(at(rt, datetime(2026, 4, 5, 7, 0, tzinfo=UTC)), request.id, 1, "Laaja aineisto.", "anna.k")
    assert watch_deadlines(at(rt, datetime(2026, 5, 28, 7, 0, tzinfo=UTC))) == DeadlineCounts(0, 1, mailed=True)
    _, message = digest(tmp_path / "outbox")
    body = message.get_content()
    [line] = [line for line in body.splitlines() if line.startswith("REQ-")]
    assert line.split() == [request.id, "received", "2026-06-01", "(jatkettu)"]
    assert "kuukauden kuluessa pyynnön saapumisesta tai jatketussa määräajassa" in body
    assert "dsar requests list --due-within 5d" in body  # the same list, from the command line
