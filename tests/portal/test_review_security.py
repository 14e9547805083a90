"""A hostile review of the portal: what an attacker on the internet tried, each against the real app."""

import re

import anyio
import httpx
import pytest

from flows.portal import guard
from flows.portal.app import Limits, make_app
from flows.portal.server import serving
from tests.portal.test_portal import ask, client, csrf_of, mailed_code, request_id_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def limits(asks_per_client: int = 100, asks_per_address: int = 100, codes_per_client: int = 100) -> Limits:
    return Limits(guard.RateLimit(asks_per_client, 3600), guard.RateLimit(asks_per_address, 24 * 3600),
                  guard.RateLimit(codes_per_client, 3600))


def test_whoever_asked_for_an_address_cannot_follow_the_request_once_its_owner_verifies(portal):
    """Anyone may ask in someone else's name and is shown the code page; when the address's owner then enters
    the mailed code, that page must not become a way in to the owner's status and download pages."""
    rt = portal.rt
    with client(portal) as attacker:
        asked = ask(attacker, "uhri.omistaja@example.fi")
        held = asked.headers["location"]
        request_id = request_id_of(rt, held)
        code, verify_path, _ = mailed_code(rt, request_id)
        with client(portal) as owner:
            form = owner.get(verify_path)
            verified = owner.post(verify_path, data={"csrf": csrf_of(form.text), "code": code})
            assert verified.status_code == 303 and verified.headers["location"].startswith("/status/")
        form = attacker.get("/")
        answers = [attacker.get(held), attacker.post(held, data={"csrf": csrf_of(form.text), "code": "12345678"}),
                   attacker.get(f"{held}?code=00000000")]
    for answer in answers:
        assert "/status/" not in answer.headers.get("location", "") and "/status/" not in answer.text


def test_the_per_address_limit_counts_one_mailbox_however_its_address_is_written(portal_config):
    """A flood of codes to one mailbox: the same address with its domain in Unicode or punycode, in capitals,
    or with a +tag that the mail system drops, is one address for the limit."""
    from tests.flows.delivered import clocked_runtime

    rt = clocked_runtime(portal_config)
    with serving(make_app(rt, start=lambda _: None, limits=limits(asks_per_address=3))) as url, \
            httpx.Client(base_url=url, headers={"Accept-Language": "en"}) as browser:
        spellings = ["tulva@exämple.fi", "tulva@xn--exmple-cua.fi", "Tulva+1@EXÄMPLE.fi", "tulva+2@exämple.fi"]
        answers = [ask(browser, email).status_code for email in spellings]
    assert answers == [303, 303, 303, 429]


def test_the_per_client_limit_counts_one_ipv6_network_as_one_client(portal_config):
    """An IPv6 client holds a /64 at least: a new address from it each time is the same client."""
    from tests.flows.delivered import clocked_runtime

    rt = clocked_runtime(portal_config)
    app = make_app(rt, start=lambda _: None, limits=limits(asks_per_client=3))

    async def ask_from(host: str, email: str) -> int:
        # The only way to ask from many IPv6 addresses on one machine: the app called with the client's address.
        transport = httpx.ASGITransport(app, client=(host, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test",
                                     headers={"Accept-Language": "en"}) as browser:
            form = await browser.get("/")
            asked = await browser.post("/", data={"csrf": csrf_of(form.text), "email": email, "language": "en",
                                                  "right": "access", "website": ""})
            return asked.status_code

    answers = [anyio.run(ask_from, f"2001:db8:1:2::{host:x}", f"verkko{host}@example.fi") for host in range(1, 5)]
    assert answers == [303, 303, 303, 429]


def test_a_trailing_slash_is_not_redirected_to_the_host_the_client_named(portal):
    """Starlette redirects `/status/T/` to `/status/T` on whatever Host the request carried: a cache or proxy
    that forwards Host would hand the token to that host."""
    with client(portal, Host="evil.example") as browser:
        answer = browser.get("/status/some-token/")
    assert "evil.example" not in answer.headers.get("location", "")
    assert answer.status_code == 404


def test_the_headers_of_every_answer_forbid_caching_framing_and_sniffing(portal):
    """Starlette's own 404 and 405, the static files and the neutral pages all carry the same strict headers."""
    with client(portal) as browser:
        answers = [browser.get("/nope"), browser.put("/"), browser.post("/download/x"),
                   browser.get("/static/portal.css"), browser.get("/static/../flows/portal/app.py"),
                   browser.get("/download/x/file", headers={"Range": "bytes=0-"}), browser.get("/oidc/callback")]
    for answer in answers:
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert [a.status_code for a in answers] == [404, 405, 405, 200, 404, 404, 404]


def test_markup_in_the_language_switch_or_the_accept_language_header_goes_nowhere(portal):
    with client(portal, **{"Accept-Language": '"><b>x</b>'}) as browser:
        page = browser.get("/", params={"lang": '"><b>x</b>'})
    assert page.status_code == 200 and "<b>x</b>" not in page.text and "dsar_lang" not in page.headers.get(
        "set-cookie", "")
    assert re.search(r'<html lang="(fi|en)">', page.text)


def test_a_name_from_the_form_reaches_the_store_without_control_characters(portal):
    """The operator reads the name in `dsar request show`: a terminal escape, a NUL (which PostgreSQL refuses)
    or a bidi override that reorders what they see is dropped; the name's letters are kept."""
    rt = portal.rt
    with client(portal) as browser:
        asked = ask(browser, "nimi.puhdas@example.fi", name="Aino\x1b[2J\x00 \u202eExample\r\nstatus: verified")
    assert asked.status_code == 303
    name = rt.store.get(request_id_of(rt, asked.headers["location"])).name
    assert name == "Aino [2J Example status: verified"


def test_a_csrf_field_that_is_not_ascii_is_refused_like_any_wrong_one(portal):
    with client(portal) as browser:
        browser.get("/")
        answers = [browser.post("/", data={"csrf": "ä" * 64, "email": "x@example.fi"}),
                   browser.post("/", content=b"csrf=%ff%fe&email=x%40example.fi",
                                headers={"content-type": "application/x-www-form-urlencoded"})]
    assert [a.status_code for a in answers] == [400, 400]


def test_a_server_error_keeps_the_strict_headers_and_logs_no_token(portal_config, caplog):
    """A run that cannot be started (no process to spare) is a 500: Starlette's own error answer must carry
    the same headers as every page, and the log no token or address."""
    import logging

    from tests.flows.delivered import clocked_runtime

    def cannot_start(request_id: str) -> None:
        raise OSError("fork failed")

    rt = clocked_runtime(portal_config)
    with caplog.at_level(logging.DEBUG), serving(make_app(rt, start=cannot_start)) as url, \
            httpx.Client(base_url=url, headers={"Accept-Language": "en"}) as browser:
        asked = ask(browser, "virhe.sivu@example.fi")
        code, verify_path, _ = mailed_code(rt, request_id_of(rt, asked.headers["location"]))
        form = browser.get(verify_path)
        failed = browser.post(verify_path, data={"csrf": csrf_of(form.text), "code": code})
    assert failed.status_code == 500
    assert "default-src 'none'" in failed.headers["content-security-policy"]
    assert failed.headers["cache-control"] == "no-store"
    served = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records
                       if not r.name.startswith(("httpx", "httpcore")))
    for secret in ("virhe.sivu", code, verify_path.rsplit("/", 1)[1]):
        assert secret not in served


def test_x_forwarded_for_from_a_client_that_is_no_configured_proxy_escapes_no_limit(portal_config):
    from tests.flows.delivered import clocked_runtime

    rt = clocked_runtime(portal_config)
    with serving(make_app(rt, start=lambda _: None, limits=limits(asks_per_client=2))) as url, \
            httpx.Client(base_url=url, headers={"Accept-Language": "en"}) as browser:
        answers = []
        for n in range(3):
            browser.headers.update({"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}",
                                    "Forwarded": f"for=198.51.100.{n}"})
            answers.append(ask(browser, f"valeosoite{n}@example.fi").status_code)
    assert answers == [303, 303, 429]


def test_a_token_of_one_kind_opens_no_page_of_another(portal):
    from tests.flows.delivered import deliver, mailed_link

    rt = portal.rt
    request_id, _ = deliver(rt)
    link = mailed_link(rt, f"{request_id}-link", portal.url).rsplit("/", 1)[1]
    with client(portal) as browser:
        asked = ask(browser, "tyypit@example.fi")
        verify = asked.headers["location"].rsplit("/", 1)[1]
        status = browser.get(f"/verify/{verify}")  # unverified: the code form, which names no status token
        answers = [browser.get(f"/status/{link}"), browser.get(f"/verify/{link}"),
                   browser.get(f"/download/{verify}/file"), browser.get(f"/oidc/start/{link}")]
    assert status.status_code == 200 and "/status/" not in status.text
    assert [a.status_code for a in answers] == [404, 404, 404, 404]


def test_ranged_gets_do_not_make_a_counted_download_into_unlimited_copies(portal):
    """A resume is free, but not without end: one counted download (even of byte 0 alone) followed by
    `Range: bytes=1-` again and again would hand out whole copies of the file while the link lives."""
    from tests.flows.delivered import deliver, mailed_link

    rt = portal.rt
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", portal.url)
    with client(portal) as browser:
        first = browser.get(url + "/file", headers={"Range": "bytes=0-0"})
        assert first.status_code == 206 and "Downloads left: 2" in browser.get(url).text
        copies = [browser.get(url + "/file", headers={"Range": "bytes=1-"}) for _ in range(40)]
    whole = [c for c in copies if c.status_code == 206 and c.content == data[1:]]
    assert len(whole) < 40 and {c.status_code for c in copies} == {206, 404}


def test_markup_typed_into_the_form_comes_back_escaped(portal):
    with client(portal) as browser:
        answer = ask(browser, '"><b>x</b>@example.fi', name='"><b>y</b>')
    assert answer.status_code == 400 and "<b>" not in answer.text and "&lt;b&gt;y" in answer.text


def test_parallel_guesses_at_one_code_get_no_more_tries_than_the_code_has(portal_config):
    """Guesses sent all at once race for the code's tries: the store's compare-and-swap lets through no more
    checks than code_attempts, and after them the right code does not work either."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.flows.delivered import clocked_runtime

    rt = clocked_runtime(portal_config)
    with serving(make_app(rt, start=lambda _: None, limits=limits(codes_per_client=1000))) as url, \
            httpx.Client(base_url=url, headers={"Accept-Language": "en"}) as browser:
        asked = ask(browser, "rinnakkain@example.fi")
        request_id = request_id_of(rt, asked.headers["location"])
        code, verify_path, _ = mailed_code(rt, request_id)
        csrf = csrf_of(browser.get(verify_path).text)

        def guess(n: int) -> int:
            with httpx.Client(base_url=url, cookies=browser.cookies, timeout=60) as guesser:
                wrong = f"{n:08d}" if f"{n:08d}" != code else "99999999"
                return guesser.post(verify_path, data={"csrf": csrf, "code": wrong}).status_code

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(guess, range(40)))
        right = browser.post(verify_path, data={"csrf": csrf, "code": code})
    checked = [e for e in rt.ledger.events(request_id) if e.action == "identity_failed" and not e.detail["exhausted"]]
    assert set(answers) == {400} and right.status_code == 400
    assert len(checked) <= rt.config.identity.code_attempts
    assert rt.store.get(request_id).evidence is None
