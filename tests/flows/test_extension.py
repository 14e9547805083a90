"""`dsar request extend` (GDPR Art. 12(3)), `dsar requests list` with its filters and `dsar requests digest`,
as the privacy team runs them: a real SQLite store, the ledger, the outbox."""

import dataclasses
import email
import email.policy
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from audit.event import format_at
from flows import stages
from flows.audit_export import render_html
from flows.cli import app
from flows.demo.run import prepare_demo, verify_by_outbox
from flows.errors import InvalidRequest, RequestClosed
from flows.lifecycle import extend_deadline
from flows.replay import replay
from flows.runtime import open_runtime
from identity.errors import UnknownStaff

# Received 31 March 2026 at 10:00 Helsinki time: due Thursday 30 April 2026.
RECEIVED = datetime(2026, 3, 31, 7, 0, tzinfo=UTC)
REASON = "Pyyntö koskee laajaa aineistoa: sähköpostit ja äänitallenteet käydään läpi yksitellen."


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("extension") / "demo")


@pytest.fixture
def config_path(company, own_store_config):
    return own_store_config(company[0], 7)


def at(rt, moment):
    return dataclasses.replace(rt, clock=lambda: moment)


def mail(outbox, key):
    return email.message_from_bytes((outbox / f"{key}.eml").read_bytes(), policy=email.policy.default)


def dsar(*args: str):
    return CliRunner().invoke(app, list(args))


def test_an_extension_moves_the_deadline_tells_the_requester_why_and_keeps_the_reason_out_of_the_ledger(
        config_path, tmp_path):
    rt = open_runtime(config_path)
    request = stages.register(at(rt, RECEIVED), "aino.jatko@example.fi", "fi")
    verify_by_outbox(at(rt, RECEIVED + timedelta(hours=1)), request.id)
    extended = extend_deadline(at(rt, RECEIVED + timedelta(days=20)), request.id, 2, f"  {REASON}\n", "anna.k")
    # Receipt + 3 months: 30 June 2026 (31 June does not exist), a Tuesday.
    assert rt.store.calendar.local_date(extended.deadline) == datetime(2026, 6, 30).date()
    assert rt.store.get(request.id).extended_to == extended.deadline
    kept = rt.store.extension(request.id)
    assert kept is not None and (kept.months, kept.reason) == (2, REASON)  # stripped, ä and ö as typed

    [event] = [e for e in rt.ledger.events(request.id) if e.action == "extended"]
    assert event.actor == "privacy_team"
    assert event.detail == {"months": 2, "original_due": "2026-04-30", "new_due": "2026-06-30",
                            "reason_sha256": hashlib.sha256(REASON.encode()).hexdigest(), "by": "anna.k"}

    # What an auditor's replay shows of it (Prefect unreachable here: the ledger alone).
    replayed = replay(rt, request.id, "http://127.0.0.1:9/api")
    assert replayed.to_json()["extension"] == {"at": format_at(event.at), "months": 2, "original_due": "2026-04-30",
                                               "new_due": "2026-06-30", "by": "anna.k"}
    assert "due 2026-04-30, now 2026-06-30 (the controller's calendar), by anna.k" in render_html(replayed)

    message = mail(tmp_path / "outbox", f"{request.id}-extended")
    assert message["To"] == "aino.jatko@example.fi"
    assert message["Subject"] == f"Tietopyyntösi {request.id} käsittelyaikaa on jatkettu"
    body = message.get_content()
    assert "viimeistään 30.6.2026" in body and "jatkettu kahdella kuukaudella" in body and f"Syy: {REASON}" in body
    assert "/status/" in body


def test_the_notice_is_in_the_requesters_language(config_path, tmp_path):
    rt = open_runtime(config_path)
    request = stages.register(at(rt, RECEIVED), "english@example.fi", "en")
    extend_deadline(at(rt, RECEIVED + timedelta(days=1)), request.id, 1, "Many sources to search.", "anna.k")
    body = mail(tmp_path / "outbox", f"{request.id}-extended").get_content()
    # Receipt + 2 months: 31 May 2026 is a Sunday, so Monday 1 June.
    assert "by 1 June 2026" in body and "extended by one month," in body and "Reason: Many sources to search." in body
    assert "month(s)" not in body

    longer = stages.register(at(rt, RECEIVED), "english.two@example.fi", "en")
    extend_deadline(at(rt, RECEIVED + timedelta(days=1)), longer.id, 2, "Many sources to search.", "anna.k")
    body = mail(tmp_path / "outbox", f"{longer.id}-extended").get_content()
    assert "by 30 June 2026" in body and "extended by two months," in body
    finnish = stages.register(at(rt, RECEIVED), "suomeksi@example.fi", "fi")
    extend_deadline(at(rt, RECEIVED + timedelta(days=1)), finnish.id, 2, "Monta lähdettä.", "anna.k")
    body = mail(tmp_path / "outbox", f"{finnish.id}-extended").get_content()
    assert "viimeistään 30.6.2026" in body and "jatkettu kahdella kuukaudella," in body


def test_one_extension_only_before_the_original_due_date_only_while_open(config_path, tmp_path):
    rt = open_runtime(config_path)
    before = at(rt, RECEIVED + timedelta(days=5))
    first = stages.register(at(rt, RECEIVED), "kerran@example.fi", "fi").id
    extend_deadline(before, first, 1, "syy", "anna.k")
    with pytest.raises(InvalidRequest) as again:
        extend_deadline(before, first, 2, "toinen syy", "anna.k")
    assert str(again.value) == f"{first} was already extended to 2026-06-01; GDPR Art. 12(3) allows one extension"
    # The same extension asked again (its mail failed, say) changes nothing and mails nothing new.
    extend_deadline(before, first, 1, "syy", "anna.k")
    assert len([e for e in rt.ledger.events(first) if e.action == "extended"]) == 1

    late = stages.register(at(rt, RECEIVED), "myoha@example.fi", "fi").id
    verify_by_outbox(at(rt, RECEIVED + timedelta(hours=1)), late)  # unverified, it would have lapsed by then
    # Due 30 April: all of that day in Helsinki is still in time; 1 May 00:00 there is not.
    extend_deadline(at(rt, datetime(2026, 4, 30, 20, 59, tzinfo=UTC)), late, 1, "ehti", "anna.k")
    too_late = stages.register(at(rt, RECEIVED), "liian.myoha@example.fi", "fi").id
    with pytest.raises(InvalidRequest) as past:
        extend_deadline(at(rt, datetime(2026, 4, 30, 21, 0, tzinfo=UTC)), too_late, 1, "myöhässä", "anna.k")
    assert str(past.value) == (f"{too_late} was due on 2026-04-30: an extension must be made, and told, before the "
                               "original due date")

    closed = stages.register(at(rt, RECEIVED), "suljettu@example.fi", "fi").id
    stages.close(rt, closed, "withdrawn")
    with pytest.raises(RequestClosed, match=r"is closed: only an open request's deadline can be extended$"):
        extend_deadline(before, closed, 1, "syy", "anna.k")

    fresh = stages.register(at(rt, RECEIVED), "uusi@example.fi", "fi").id
    with pytest.raises(InvalidRequest, match=r"^an extension is by 1 or 2 months \(GDPR Art. 12\(3\)\), not 3$"):
        extend_deadline(before, fresh, 3, "syy", "anna.k")
    with pytest.raises(InvalidRequest, match=r"^give the reason for the extension"):
        extend_deadline(before, fresh, 1, "  ", "anna.k")
    with pytest.raises(UnknownStaff):  # not in the demo's [identity] staff_ids
        extend_deadline(before, fresh, 1, "syy", "tiina")
    lapsed = stages.register(at(rt, RECEIVED), "vahvistamaton@example.fi", "fi").id
    with pytest.raises(RequestClosed, match="lapsed"):  # unverified past [identity] unverified_lapse_days (7)
        extend_deadline(at(rt, RECEIVED + timedelta(days=8)), lapsed, 1, "syy", "anna.k")
    assert rt.store.get(lapsed).status == "closed"
    for refused in (too_late, closed, fresh, lapsed):
        assert rt.store.get(refused).extended_to is None and rt.store.extension(refused) is None
        assert not (tmp_path / "outbox" / f"{refused}-extended.eml").exists()
        assert not [e for e in rt.ledger.events(refused) if e.action == "extended"]


def test_extend_list_and_digest_from_the_command_line(config_path, tmp_path):
    rt = open_runtime(config_path)
    now = datetime.now(UTC)
    calendar = rt.store.calendar
    ids = {what: stages.register(at(rt, now - timedelta(days=days_ago)), f"{what}@example.fi", "fi").id
           for what, days_ago in (("overdue", 45), ("soon", 29), ("later", 3), ("closed", 50))}
    stages.close(rt, ids["closed"], "withdrawn")

    extended = dsar("request", "extend", ids["later"], "--months", "2", "--reason", REASON, "--by", "anna.k",
                    "--config", str(config_path))
    assert extended.exit_code == 0, extended.output
    new_due = calendar.local_date(rt.store.get(ids["later"]).deadline)
    assert extended.output == (f"{ids['later']}: due {new_due} (extended); the requester was told the new date and "
                               "the reason.\n")
    assert REASON in mail(tmp_path / "outbox", f"{ids['later']}-extended").get_content()
    again = dsar("request", "extend", ids["later"], "--months", "1", "--reason", "x", "--by", "anna.k",
                 "--config", str(config_path))
    assert isinstance(again.exception, InvalidRequest) and "allows one extension" in str(again.exception)

    def listed(*options: str) -> dict[str, list[str]]:
        result = dsar("requests", "list", *options, "--config", str(config_path))
        assert result.exit_code == 0, result.output
        return {line.split()[0]: line.split() for line in result.output.splitlines()}

    everything = listed()
    assert set(everything) == set(ids.values())
    for what, request_id in ids.items():  # every due date is the controller's calendar date
        assert everything[request_id][3] == str(calendar.local_date(rt.store.get(request_id).deadline)), what
    assert everything[ids["later"]][4] == "(extended)"
    assert "OVERDUE" in everything[ids["overdue"]] and "OVERDUE" not in everything[ids["soon"]]
    assert set(listed("--overdue")) == {ids["overdue"]}
    assert set(listed("--due-within", "7d")) == {ids["overdue"], ids["soon"]}  # the soonest first
    assert list(listed("--due-within", "7d")) == [ids["overdue"], ids["soon"]]
    assert set(listed("--status", "closed")) == {ids["closed"]}
    assert set(listed("--due-within", "400d", "--status", "received")) == set(ids.values()) - {ids["closed"]}
    assert listed("--overdue", "--status", "verified") == {}

    for options, message in ((["--due-within", "7"], "give a number of days such as 7d, not '7'"),
                             (["--due-within", "a week"], "give a number of days such as 7d"),
                             (["--status", "open"], "one of received, awaiting_identity")):
        bad = dsar("requests", "list", *options, "--config", str(config_path))
        assert bad.exit_code == 2 and message in bad.output, bad.output

    digest = dsar("requests", "digest", "--config", str(config_path))
    assert digest.exit_code == 0, digest.output
    assert digest.output == "1 overdue, 1 due soon: mailed to the privacy team.\n"
    today = calendar.local_date(datetime.now(UTC))
    message = mail(tmp_path / "outbox", f"deadlines-{today:%Y%m%d}")
    assert message["To"] == "tiimi@demokauppa.example"
    lines = {line.split()[0]: line.split() for line in message.get_content().splitlines() if line.startswith("REQ-")}
    assert set(lines) == {ids["overdue"], ids["soon"]}
    assert lines[ids["overdue"]][2] == everything[ids["overdue"]][3] and lines[ids["overdue"]][3] == "MYÖHÄSSÄ"
    assert dsar("requests", "digest", "--config", str(config_path)).output == (
        "1 overdue, 1 due soon: today's digest went already; not mailed again.\n")


@pytest.mark.parametrize("days", ["99999999999d", "4000000d"])
def test_a_due_within_beyond_any_calendar_is_a_usage_error(config_path, days):
    result = CliRunner().invoke(app, ["requests", "list", "--due-within", days, "--config", str(config_path)],
                                env={"COLUMNS": "200"})  # the usage box on one line
    assert result.exit_code == 2 and not isinstance(result.exception, OverflowError)
    assert "--due-within" in result.output and f"not {days!r}" in result.output, result.output


def test_request_show_gives_receipt_and_deadline_in_the_controllers_calendar_and_the_extension(config_path):
    rt = open_runtime(config_path)
    # 23:30 UTC on 31 December 2025 is 01:30 on 1 January 2026 in Helsinki: due 1 February, a Sunday, so 2 February.
    request = stages.register(at(rt, datetime(2025, 12, 31, 23, 30, tzinfo=UTC)), "uusivuosi@example.fi", "fi")
    shown = dsar("request", "show", request.id, "--config", str(config_path))
    assert shown.exit_code == 0, shown.output
    assert "  received    2026-01-01 01:30 EET (2025-12-31 23:30 UTC)\n" in shown.output
    assert "  due         2026-02-02\n" in shown.output and "extended" not in shown.output

    extend_deadline(at(rt, datetime(2026, 1, 5, 8, 0, tzinfo=UTC)), request.id, 1, REASON, "anna.k")
    shown = dsar("request", "show", request.id, "--config", str(config_path)).output
    # 1 March 2026 is a Sunday: 2 March.
    assert "  due         2026-03-02 (extended)\n" in shown
    assert f"  extended    by 1 month on 2026-01-05, from 2026-02-02: {REASON}\n" in shown


def test_a_digest_with_nothing_due_says_so(config_path):
    result = dsar("requests", "digest", "--config", str(config_path))
    assert (result.exit_code, result.output) == (0, "0 overdue, 0 due soon: nothing to mail.\n")
