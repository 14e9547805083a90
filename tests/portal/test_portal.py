"""The requester's pages over HTTP against the real server: ask, the code, the status page."""

import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from exports.links import issue_page_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def client(portal, **headers) -> httpx.Client:
    return httpx.Client(base_url=portal.url, headers={"Accept-Language": "en", **headers}, timeout=30,
                        follow_redirects=False)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the form carries a CSRF field"
    return found.group(1)


def ask(browser: httpx.Client, email: str, **extra: str) -> httpx.Response:
    form = browser.get("/")
    return browser.post("/", data={"csrf": csrf_of(form.text), "email": email, "name": "", "language": "en",
                                   "right": "access", "website": "", **extra})


def mailed_code(rt, request_id: str) -> tuple[str, str, str]:
    """The code, the verify page and the status page of the latest code mail to the request."""
    outbox = rt.mailer
    [key] = sorted(p.stem for p in outbox.directory.glob(f"{request_id}-code-*.eml"))[-1:]
    body = outbox.read(key)
    code, verify, status = (re.search(pattern, body) for pattern in (
        r"\b\d{8}\b", r"https?://\S+/verify/\S+", r"https?://\S+/status/\S+"))
    assert code and verify and status, "the code mail holds the code and both pages"
    assert verify.group(0).endswith(f"?code={code.group(0)}")  # the one-time link fills the code in
    return code.group(0), urlsplit(verify.group(0)).path, urlsplit(status.group(0)).path


def asked_and_verified(rt, browser: httpx.Client, email: str) -> str:
    """A request asked on the form and verified with its mailed code; its id."""
    request_id = request_id_of(rt, ask(browser, email).headers["location"])
    code, verify_path, _ = mailed_code(rt, request_id)
    form = browser.get(verify_path)
    assert browser.post(verify_path, data={"csrf": csrf_of(form.text), "code": code}).status_code == 303
    return request_id


def request_id_of(rt, location: str) -> str:
    from exports.links import verify_page_token

    return verify_page_token("verify", location.rsplit("/", 1)[1], rt.link_secret, rt.clock())


def test_the_front_page_is_a_form_with_strict_headers_and_no_outside_resources(portal):
    with client(portal, **{"Accept-Language": "en-GB,en;q=0.9,fi;q=0.5"}) as browser:
        page = browser.get("/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and "Ask for your data" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "script" not in csp
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in page.headers  # plain http on loopback: HSTS only behind https
    assert "<script" not in page.text
    # Every URL the page loads is on this site.
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    controller = portal.rt.config.controller
    assert controller.name in page.text and controller.contact_email in page.text


def test_the_language_follows_accept_language_and_the_switch_sticks(portal):
    with client(portal, **{"Accept-Language": "fi-FI,fi;q=0.9"}) as browser:
        assert "Pyydä tietosi" in browser.get("/").text
        switched = browser.get("/?lang=en")
        assert "Ask for your data" in switched.text
        assert "Ask for your data" in browser.get("/").text  # the cookie keeps the choice


def test_asking_sends_a_code_whose_page_verifies_and_starts_the_run(portal):
    rt = portal.rt
    with client(portal) as browser:
        asked = ask(browser, "aino.portal@example.fi", right="portability")
        assert asked.status_code == 303 and asked.headers["location"].startswith("/verify/")
        request_id = request_id_of(rt, asked.headers["location"])
        code, verify_path, status_path = mailed_code(rt, request_id)
        assert verify_path == asked.headers["location"]
        received = [e for e in rt.ledger.events(request_id) if e.action == "received"]
        assert received[0].detail == {"language": "en", "right": "portability", "channel": "portal"}

        form = browser.get(verify_path)
        assert browser.get(f"{verify_path}?code={code}").text.count(f'value="{code}"') == 1
        wrong = browser.post(verify_path, data={"csrf": csrf_of(form.text), "code": "00000000"})
        assert wrong.status_code == 400 and "does not work" in wrong.text
        assert portal.started == [] and rt.store.get(request_id).evidence is None

        right = browser.post(verify_path, data={"csrf": csrf_of(form.text), "code": code})
        assert right.status_code == 303 and right.headers["location"].startswith("/status/")
        assert portal.started == [request_id]
        assert rt.store.get(request_id).evidence["method"] == "email_code"

        status = browser.get(status_path)
        assert status.status_code == 200 and request_id in status.text
        assert re.search(r'aria-current="step">\s*In progress', status.text)
        # The verified request's code page says so, and sends to the mail's status link rather than opening it.
        again = browser.get(verify_path)
        assert again.status_code == 200 and "already confirmed" in again.text and "/status/" not in again.text


def test_the_answer_is_the_same_for_an_address_with_a_request_under_way(portal):
    rt = portal.rt
    with client(portal) as browser:
        asked_and_verified(rt, browser, "kaisa.kahdesti@example.fi")
        again = ask(browser, "kaisa.kahdesti@example.fi")
        fresh = ask(browser, "someone.else@example.fi")
    assert again.status_code == fresh.status_code == 303
    pages = [browser_page(portal, r.headers["location"]) for r in (again, fresh)]
    assert pages[0] == pages[1]


def browser_page(portal, path: str) -> str:
    with client(portal) as browser:
        text = browser.get(path).text
    return re.sub(r'value="[^"]*"|/verify/[^"]+', "", text)


def test_a_form_without_its_csrf_field_or_with_the_trap_filled_registers_nothing(portal):
    rt = portal.rt
    before = len(list(rt.store.list()))
    with client(portal) as browser:
        browser.get("/")
        forged = browser.post("/", data={"email": "x@example.fi", "language": "en", "right": "access"})
        trapped = ask(browser, "bot@example.fi", website="http://spam.example")
    with client(portal) as other:  # another browser's token does not match this cookie
        form = other.get("/")
        stolen = httpx.post(f"{portal.url}/", data={"csrf": csrf_of(form.text), "email": "x@example.fi"})
    assert forged.status_code == trapped.status_code == stolen.status_code == 400
    assert len(list(rt.store.list())) == before


def test_asks_are_rate_limited_per_client_and_per_address(portal):
    with client(portal) as browser:
        answers = [ask(browser, "sama.osoite@example.fi").status_code for _ in range(4)]
    assert answers == [303, 303, 303, 429]
    with client(portal) as browser:
        answers = [ask(browser, f"eri{i}@example.fi").status_code for i in range(8)]
    assert answers[:6] == [303] * 6 and answers[-1] == 429


def test_a_bad_address_is_one_clear_error_and_nothing_is_recorded(portal):
    before = len(list(portal.rt.store.list()))
    with client(portal) as browser:
        answer = ask(browser, "not an address")
    assert answer.status_code == 400 and "Check the email address" in answer.text
    assert len(list(portal.rt.store.list())) == before


def test_forged_expired_or_misused_tokens_get_the_same_neutral_page(portal):
    rt = portal.rt
    with client(portal) as browser:
        asked = ask(browser, "tokens@example.fi")
        request_id = request_id_of(rt, asked.headers["location"])
        verify_token = asked.headers["location"].rsplit("/", 1)[1]
        expired = issue_page_token("status", request_id, rt.link_secret, rt.clock() - timedelta(days=2),
                                   timedelta(days=1))
        pages = [browser.get(path) for path in (
            f"/status/{verify_token}",  # a verify token is no status token
            f"/status/{expired}",
            "/status/" + verify_token[:-2] + "xx",
            f"/status/{request_id}",  # the id alone opens nothing
            "/download/" + verify_token,
        )]
    assert {p.status_code for p in pages} == {404}
    assert len({re.sub(r'value="[^"]*"', "", p.text) for p in pages}) == 1


def test_logs_hold_no_address_code_or_token(portal, caplog):
    rt = portal.rt
    with caplog.at_level(logging.DEBUG), client(portal) as browser:
        asked = ask(browser, "lokit.puhtaat@example.fi")
        request_id = request_id_of(rt, asked.headers["location"])
        code, verify_path, status_path = mailed_code(rt, request_id)
        form = browser.get(verify_path)
        browser.post(verify_path, data={"csrf": csrf_of(form.text), "code": code})
        browser.get(status_path)
    # The server's side: dsar's, uvicorn's and Starlette's loggers (the test's own httpx logs its URLs).
    served = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    for secret in ("lokit.puhtaat", code, verify_path.rsplit("/", 1)[1], status_path.rsplit("/", 1)[1]):
        assert secret not in served


def test_the_download_page_explains_the_file_and_only_the_file_spends_a_download(portal):
    from tests.flows.delivered import deliver, mailed_link

    rt = portal.rt
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", portal.url)
    with client(portal) as browser:
        page = browser.get(url)
        assert page.status_code == 200
        assert "Downloads left: 3" in page.text and "age -d -o" in page.text and "passphrase" in page.text
        assert browser.head(url + "/file").headers["content-length"] == str(len(data))
        assert "Downloads left: 3" in browser.get(url).text  # neither the page nor HEAD spends one
        got = browser.get(url + "/file")
        assert got.status_code == 200 and got.content == data and got.headers["cache-control"] == "no-store"
        assert "Downloads left: 2" in browser.get(url).text
        # The status page leads to the same download page.
        token = issue_page_token("status", request_id, rt.link_secret, rt.clock(), timedelta(days=1))
        status = browser.get(f"/status/{token}")
        assert f'href="{urlsplit(url).path}"' in status.text and 'aria-current="step">\n    Downloaded' in status.text


def test_the_status_page_shows_the_due_date_where_the_controller_is_and_an_extension_with_its_reason(portal):
    from datetime import UTC, datetime

    from flows import stages
    from flows.demo.run import verify_by_outbox
    from flows.lifecycle import extend_deadline

    rt = portal.rt
    # Received at 23:30 UTC on 31 December: 1 January in Helsinki, so due on 1 February there.
    rt.clock.now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    request = stages.register(rt, "vuodenvaihde@example.fi", "fi")
    verify_by_outbox(rt, request.id)  # unverified, it would have lapsed before the extension
    token = issue_page_token("status", request.id, rt.link_secret, rt.clock(), timedelta(days=60))
    with client(portal, **{"Accept-Language": "fi"}) as browser:
        page = browser.get(f"/status/{token}").text
        assert "1.1.2027" in page and "1.2.2027" in page and "Määräaikaa on jatkettu" not in page
        # An extension (Art. 12(3)): the new date and the reason the requester was given, ä and ö as typed (the
        # store keeps it; the ledger only its sha256).
        rt.clock.now = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
        extend_deadline(rt, request.id, 2, "Pyyntö koskee laajaa aineistoa, myös äänitallenteita & <liitteitä>",
                        "anna.k")
        page = browser.get(f"/status/{token}").text
    # The note above it says one month; the extension says why the law allows more.
    assert ("Määräaikaa on jatkettu 1.4.2027 asti (12 artiklan 3 kohta sallii jatkon pyyntöjen monimutkaisuuden tai "
            "määrän vuoksi). Syy: Pyyntö koskee laajaa aineistoa, myös äänitallenteita &amp; &lt;liitteitä&gt;") in page


def test_a_request_below_the_minimum_level_is_sent_to_stronger_identification_not_round_in_a_loop(portal):
    from identity.evidence import IdentityEvidence

    rt = portal.rt
    with client(portal) as browser:
        asked = ask(browser, "vahvempi@example.fi")
        request_id = request_id_of(rt, asked.headers["location"])
        verify_path = asked.headers["location"]
        # A code gave "low"; the run found the policy asks for more and left the request waiting.
        evidence = IdentityEvidence("email_code", ("email",), "low", rt.clock())
        rt.store.save_evidence(request_id, evidence.to_dict(), rt.clock())
        rt.store.set_status(request_id, "awaiting_identity", rt.clock(), reason="stronger identification needed")
        token = issue_page_token("status", request_id, rt.link_secret, rt.clock(), timedelta(days=1))
        status = browser.get(f"/status/{token}")
        assert "Handing over the data needs stronger identification" in status.text
        assert f'href="{verify_path}"' in status.text
        page = browser.get(verify_path)
    assert page.status_code == 200 and "Stronger identification needed" in page.text
    assert 'name="code"' not in page.text  # no code form that could not help
    assert rt.config.controller.contact_email in page.text  # without OIDC configured: whom to contact


def test_a_duplicate_says_the_earlier_request_is_the_one_answered(portal):
    rt = portal.rt
    with client(portal) as browser:
        asked_and_verified(rt, browser, "kahdesti.kysytty@example.fi")
        again = ask(browser, "kahdesti.kysytty@example.fi")
        second_id = request_id_of(rt, again.headers["location"])
        token = issue_page_token("status", second_id, rt.link_secret, rt.clock(), timedelta(days=1))
        status = browser.get(f"/status/{token}").text
    assert rt.store.get(second_id).status == "duplicate"
    assert "earlier verified request in progress" in status and "We reply by" not in status
