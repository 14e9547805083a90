"""The portal's OIDC button over HTTP against the real server (uvicorn on loopback) and the test identity
provider: the verify page's link, the provider's round trip, the cookie, and the neutral page on failure."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from flows import stages
from flows.demo.run import prepare_demo, write_demo_config
from flows.pages import page_token
from flows.portal.app import make_app
from flows.portal.oidc_login import COOKIE_NAME
from flows.portal.server import serving
from flows.runtime import Runtime, open_runtime
from tests.flows.oidc_demo import claims_on_record, with_oidc
from tests.flows.privacy import find_in_database
from tests.identity.oidc_provider import Provider, serve_jwks
from tests.support import free_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("oidc-routes") / "demo")[0]


@pytest.fixture
def provider() -> Iterator[Provider]:
    idp = Provider()
    idp.add_key("RS256")
    with serve_jwks(idp):
        yield idp


@dataclass
class Served:
    rt: Runtime
    url: str
    started: list[str] = field(default_factory=list)


def portal_config(demo, provider: Provider, public_url: str) -> Path:
    path = write_demo_config(demo, "http://127.0.0.1:9/3.0")
    text = path.read_text(encoding="utf-8").replace('public_url = "http://127.0.0.1:8765"',
                                                    f'public_url = "{public_url}"')
    assert f'public_url = "{public_url}"' in text
    path.write_text(with_oidc(text, provider, authorization_endpoint=f"{provider.base_url}/authorize",
                              token_endpoint=f"{provider.base_url}/token"), encoding="utf-8")
    return path


@pytest.fixture
def portal(demo, provider) -> Iterator[Served]:
    port = free_port()
    rt = open_runtime(portal_config(demo, provider, f"http://127.0.0.1:{port}"))
    started: list[str] = []
    with serving(make_app(rt, start=started.append), port=port) as url:
        yield Served(rt, url, started)


@pytest.fixture
def request_id(portal, demo, provider) -> Iterator[str]:
    provider.login = {"email": demo.subject_email, **claims_on_record(demo, demo.subject_email)}
    request = stages.register(portal.rt, demo.subject_email, "en")
    yield request.id
    stages.close(portal.rt, request.id, "withdrawn")


def verify_path(rt: Runtime, request_id: str) -> str:
    return f"/verify/{page_token(rt, rt.store.get(request_id), 'verify')}"


def test_the_button_logs_in_and_the_run_starts(portal, provider, request_id):
    with httpx.Client(base_url=portal.url, headers={"Accept-Language": "fi"}, timeout=30) as browser:
        page = browser.get(verify_path(portal.rt, request_id))
        assert "Tunnistaudu pankkitunnuksilla" in page.text  # the label from [identity.oidc] button
        start = page.text.split('href="/oidc/start/', 1)[1].split('"', 1)[0]

        to_provider = browser.get(f"/oidc/start/{start}")
        assert to_provider.status_code == 302
        assert to_provider.headers["location"].startswith(f"{provider.base_url}/authorize?")
        [set_cookie] = to_provider.headers.get_list("set-cookie")
        morsel = SimpleCookie(set_cookie)[COOKIE_NAME]
        assert (morsel["path"], morsel["httponly"], morsel["samesite"].lower(), morsel["secure"]) \
            == ("/oidc", True, "lax", "")

        back = browser.get(to_provider.headers["location"])  # the provider sends the browser back
        assert back.status_code == 302 and back.headers["location"].startswith(f"{portal.url}/oidc/callback?")
        done = browser.get(back.headers["location"])
        assert done.status_code == 303 and done.headers["location"].startswith("/status/")
        assert 'Max-Age=0' in done.headers["set-cookie"] or "expires=" in done.headers["set-cookie"].lower()
        assert COOKIE_NAME not in browser.cookies

        status = browser.get(done.headers["location"])
        assert status.status_code == 200
        # The login button of a verified request does not open its status: that page needs the mail's link.
        again = browser.get(f"/oidc/start/{start}")
        assert again.status_code == 200 and "/status/" not in again.headers.get("location", "") + again.text
    assert portal.started == [request_id]
    assert portal.rt.store.get(request_id).status == "verified"
    callback = dict(parse_qsl(urlsplit(back.headers["location"]).query))
    kept = find_in_database(Path(portal.rt.store.engine.url.database or ""),
                            [callback["code"], callback["state"], *provider.issued])
    assert kept == []


def test_a_failed_login_shows_a_neutral_page_and_starts_nothing(portal, provider, request_id):
    provider.deny = "access_denied"
    with httpx.Client(base_url=portal.url, headers={"Accept-Language": "en"}, timeout=30) as browser:
        start = verify_path(portal.rt, request_id).replace("/verify/", "/oidc/start/")
        back = browser.get(browser.get(start).headers["location"])
        failed = browser.get(back.headers["location"])
        forged = browser.get("/oidc/callback?code=x&state=y")  # no cookie at all
    assert failed.status_code == forged.status_code == 400
    assert failed.text == forged.text and "<h1>" in failed.text
    assert "access_denied" not in failed.text
    assert portal.started == []
    assert portal.rt.store.get(request_id).evidence is None


def test_a_bad_start_token_is_the_neutral_gone_page(portal, request_id):
    gone = httpx.get(f"{portal.url}/oidc/start/not-a-token", follow_redirects=False)
    assert gone.status_code == 404 and "set-cookie" not in gone.headers


def test_the_cookie_is_secure_behind_https(demo, provider, request_id):
    port = free_port()
    rt = open_runtime(portal_config(demo, provider, "https://portal.example.fi"))
    with serving(make_app(rt, start=lambda _: None), port=port) as url:
        answer = httpx.get(url + verify_path(rt, request_id).replace("/verify/", "/oidc/start/"))
    morsel = SimpleCookie(answer.headers["set-cookie"])[COOKIE_NAME]
    assert morsel["secure"] is True
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    with serving(make_app(rt, start=lambda _: None), port=port) as url:
        form = httpx.get(url + "/")
    # A sibling subdomain cannot plant a `__Host-` cookie: no cookie tossing past the CSRF check.
    csrf = SimpleCookie(form.headers["set-cookie"])["__Host-dsar_csrf"]
    assert csrf["secure"] is True and csrf["path"] == "/" and not csrf["domain"]
    assert dict(parse_qsl(urlsplit(answer.headers["location"]).query))["redirect_uri"] \
        == "https://portal.example.fi/oidc/callback"


def test_without_oidc_there_is_no_button_and_no_route(demo, provider):
    path = write_demo_config(demo, "http://127.0.0.1:9/3.0")
    rt = open_runtime(path)
    request = stages.register(rt, "ville.aho@example.fi", "en")
    try:
        with serving(make_app(rt, start=lambda _: None)) as url:
            page = httpx.get(url + verify_path(rt, request.id))
            start = httpx.get(url + verify_path(rt, request.id).replace("/verify/", "/oidc/start/"))
        assert "/oidc/start/" not in page.text
        assert start.status_code == 404
    finally:
        stages.close(rt, request.id, "withdrawn")
