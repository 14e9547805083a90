"""The portal as its users meet it: what the pages say must be true for the request they show."""

import re
from datetime import timedelta

import pytest

from exports.links import issue_page_token
from flows import stages
from tests.portal.test_portal import ask, client, request_id_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def status_page(portal, request_id: str, lang: str = "en") -> str:
    token = issue_page_token("status", request_id, portal.rt.link_secret, portal.rt.clock(), timedelta(days=1))
    with client(portal, **{"Accept-Language": lang}) as browser:
        page = browser.get(f"/status/{token}")
    assert page.status_code == 200
    return page.text


def test_a_closed_request_promises_no_reply_date(portal):
    rt = portal.rt
    request = stages.register(rt, "suljettu.pyynto@example.fi", "fi")
    stages.close(rt, request.id, "withdrawn")
    for lang, promise in (("en", "We reply by"), ("fi", "Vastaamme viimeistään")):
        page = status_page(portal, request.id, lang)
        assert promise not in page
        assert "The request has ended" in page or "Pyyntö on päättynyt" in page


def test_a_request_past_its_lapse_time_is_shown_closed_not_waiting_for_a_code(portal):
    rt = portal.rt
    request = stages.register(rt, "myohassa.vahvistus@example.fi", "en")
    stages.send_code(rt, request.id)
    rt.clock.now += timedelta(days=rt.config.identity.unverified_lapse_days, hours=1)
    page = status_page(portal, request.id)
    assert "Enter the code" not in page and "We reply by" not in page
    assert "The request has ended" in page


def test_the_download_page_names_the_time_zone_of_the_expiry(portal):
    from tests.flows.delivered import deliver, mailed_link

    rt = portal.rt
    request_id, _ = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", portal.url)
    zone = rt.config.controller.time_zone
    for lang in ("en", "fi"):
        with client(portal, **{"Accept-Language": lang}) as browser:
            page = browser.get(url).text
        expiry = re.search(r"(expires on|vanhenee) ([^<]*)", page)
        assert expiry and zone in expiry.group(2), expiry  # the mail says UTC: the page must say which time


def test_a_name_with_control_characters_is_kept_without_them(portal):
    rt = portal.rt
    with client(portal) as browser:
        asked = ask(browser, "ohjausmerkit@example.fi", name="Aino\x1b[2J\x00 Ääkkönen\r\nBcc: x")
    assert asked.status_code == 303
    name = rt.store.get(request_id_of(rt, asked.headers["location"])).name
    # `dsar request show` prints it to a terminal: no escape sequence, NUL (PostgreSQL refuses it) or line break.
    assert name is not None and name.isprintable() and "Ääkkönen" in name


def test_a_run_that_fails_at_once_is_mailed_to_the_privacy_team(portal_config, monkeypatch):
    """`dsar run` stops before its flow (here: the Prefect API it is pointed at is down). Nothing records a
    failure then, so the requester's page says "in progress" for ever unless the portal tells the team."""
    import time

    from flows.portal.app import make_app
    from flows.portal.server import serving
    from tests.flows.delivered import clocked_runtime
    from tests.portal.conftest import Portal
    from tests.portal.test_portal import csrf_of, mailed_code

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    rt = clocked_runtime(portal_config)
    with serving(make_app(rt)) as url:
        portal = Portal(rt, url)
        with client(portal) as browser:
            asked = ask(browser, "ei.kaynnisty@example.fi")
            request_id = request_id_of(rt, asked.headers["location"])
            code, verify_path, _ = mailed_code(rt, request_id)
            form = browser.get(verify_path)
            assert browser.post(verify_path, data={"csrf": csrf_of(form.text), "code": code}).status_code == 303
        outbox = rt.mailer.directory
        for _ in range(600):  # the failing `dsar run` imports Prefect first: seconds, not a fixed time
            if list(outbox.glob(f"{request_id}-failed-*.eml")):
                break
            time.sleep(0.1)
    [mail] = outbox.glob(f"{request_id}-failed-*.eml")
    body = rt.mailer.read(mail.stem)
    assert f"dsar run {request_id}" in body and "ei.kaynnisty" not in body


def test_serve_on_a_port_in_use_says_so_in_one_line_and_never_claims_to_be_up(portal_config):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-c", "from flows.cli import main; main()", "serve", "--config",
                               str(portal_config), "--port", str(port)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Portal on" not in done.stderr
    assert f"dsar: error: cannot listen on 127.0.0.1:{port}" in done.stderr
