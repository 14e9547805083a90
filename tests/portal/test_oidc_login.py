"""The portal's OIDC login (flows/portal/oidc_login.py) against the test identity provider over HTTP: the
authorization code flow with PKCE, state and nonce, from the button to a verified request, and each way it
must fail closed."""

import base64
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from flows import stages
from flows.config import load_config
from flows.demo.run import prepare_demo, write_demo_config
from flows.errors import ConfigError
from flows.portal.oidc_login import begin, finish
from flows.runtime import Runtime, open_runtime, utc_now
from identity.errors import VerificationFailed
from tests.flows.oidc_demo import claims_on_record, with_oidc
from tests.flows.privacy import find_in_database
from tests.identity.oidc_provider import CLIENT_ID, Provider, serve_jwks

REDIRECT_URI = "http://127.0.0.1:8765/oidc/callback"
UNREACHABLE_MAILCHIMP = "http://127.0.0.1:9/3.0"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("oidc-login") / "demo")[0]


@pytest.fixture
def provider() -> Iterator[Provider]:
    idp = Provider()
    idp.add_key("ES256")
    with serve_jwks(idp):
        yield idp


def browser_config(demo, provider: Provider, **changes: object) -> Path:
    path = write_demo_config(demo, UNREACHABLE_MAILCHIMP)
    text = with_oidc(path.read_text(encoding="utf-8"), provider,
                     authorization_endpoint=f"{provider.base_url}/authorize",
                     token_endpoint=f"{provider.base_url}/token", **changes)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def rt(demo, provider) -> Runtime:
    return open_runtime(browser_config(demo, provider))


@pytest.fixture
def request_id(rt, demo, provider) -> Iterator[str]:
    """A request by the demo's subject, with the provider set to log in as that subject."""
    provider.login = {"email": demo.subject_email, **claims_on_record(demo, demo.subject_email)}
    request = stages.register(rt, demo.subject_email, "fi")
    yield request.id
    stages.close(rt, request.id, "withdrawn")


def authorize(url: str) -> dict[str, str]:
    """What the browser brings back to the callback: the query of the provider's redirect."""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return dict(parse_qsl(urlsplit(location).query))


def failures(rt: Runtime, request_id: str) -> list[dict]:
    return [e.detail for e in rt.ledger.events(request_id) if e.action == "identity_failed"]


def assert_unverified(rt: Runtime, request_id: str) -> None:
    request = rt.store.get(request_id)
    assert request.evidence is None and request.status == "awaiting_identity"


def test_a_login_verifies_the_request_with_pkce_state_and_nonce(rt, provider, request_id):
    url, cookie = begin(rt, request_id, REDIRECT_URI)
    asked = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(f"{provider.base_url}/authorize?")
    assert {k: asked[k] for k in ("response_type", "client_id", "redirect_uri", "scope", "code_challenge_method")} \
        == {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": "openid email",
            "code_challenge_method": "S256"}
    assert len(asked["state"]) >= 43 and len(asked["nonce"]) >= 43
    # The cookie hides what it carries: neither the request id nor the state can be read from it.
    opened = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
    assert request_id.encode() not in opened and asked["state"].encode() not in opened

    callback = authorize(url)
    assert callback["state"] == asked["state"]
    got_id, evidence = finish(rt, callback, cookie, REDIRECT_URI)

    assert got_id == request_id
    assert (evidence.method, evidence.level) == ("oidc", "high")
    assert rt.store.get(request_id).status == "verified"
    [form] = provider.token_requests
    verifier = form["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == asked["code_challenge"] and 43 <= len(verifier) <= 128
    assert "client_secret" not in form  # a public client: PKCE alone

    # Nothing of the login is kept: no code, state, verifier, nonce, cookie or token in the store or ledger.
    secret = [callback["code"], callback["state"], verifier, asked["nonce"], cookie, *provider.issued]
    assert find_in_database(Path(rt.store.engine.url.database or ""), secret) == []
    assert failures(rt, request_id) == []


def test_a_replayed_callback_is_refused_and_verifies_nothing_twice(rt, provider, request_id):
    url, cookie = begin(rt, request_id, REDIRECT_URI)
    callback = authorize(url)
    finish(rt, callback, cookie, REDIRECT_URI)
    with pytest.raises(VerificationFailed):
        finish(rt, callback, cookie, REDIRECT_URI)  # the provider gives a code's token once
    assert [e.action for e in rt.ledger.events(request_id)].count("identity_verified") == 1
    assert failures(rt, request_id) == [{"method": "oidc", "error": "VerificationFailed", "step": "token_endpoint"}]


def test_a_wrong_state_fails_before_the_code_is_used(rt, provider, request_id):
    url, cookie = begin(rt, request_id, REDIRECT_URI)
    callback = authorize(url)
    with pytest.raises(VerificationFailed):
        # One character changed (a state that already ends in "A" would be left as it was).
        wrong = callback["state"][:-1] + ("B" if callback["state"].endswith("A") else "A")
        finish(rt, {**callback, "state": wrong}, cookie, REDIRECT_URI)
    with pytest.raises(VerificationFailed):
        finish(rt, {"code": callback["code"]}, cookie, REDIRECT_URI)  # no state at all
    assert provider.token_requests == []
    assert_unverified(rt, request_id)
    assert [f["step"] for f in failures(rt, request_id)] == ["state", "state"]


def test_a_code_from_another_login_fails_on_the_pkce_verifier(rt, provider, request_id):
    """Code injection: a code obtained in one login (an attacker's) brought to another login's callback, with that
    login's own state and cookie. Only the first login's verifier redeems it."""
    first_url, _ = begin(rt, request_id, REDIRECT_URI)
    stolen = authorize(first_url)["code"]
    url, cookie = begin(rt, request_id, REDIRECT_URI)
    state = dict(parse_qsl(urlsplit(url).query))["state"]
    with pytest.raises(VerificationFailed):
        finish(rt, {"code": stolen, "state": state}, cookie, REDIRECT_URI)
    assert len(provider.token_requests) == 1  # asked, and refused
    assert_unverified(rt, request_id)
    assert [f["step"] for f in failures(rt, request_id)] == ["token_endpoint"]


def test_a_provider_error_fails_with_the_same_opaque_error(rt, provider, request_id):
    provider.deny = "access_denied"
    url, cookie = begin(rt, request_id, REDIRECT_URI)
    callback = authorize(url)
    assert callback["error"] == "access_denied" and "code" not in callback
    with pytest.raises(VerificationFailed, match=r"^identity verification failed$"):
        finish(rt, callback, cookie, REDIRECT_URI)
    assert provider.token_requests == []
    assert_unverified(rt, request_id)
    assert [f["step"] for f in failures(rt, request_id)] == ["provider_error"]


def test_a_token_for_another_address_fails_and_its_replay_too(rt, provider, request_id, demo):
    other = "eero.laine@example.fi"
    assert other != demo.subject_email
    provider.login = {"email": other, **claims_on_record(demo, other)}
    url, cookie = begin(rt, request_id, REDIRECT_URI)
    callback = authorize(url)
    with pytest.raises(VerificationFailed):
        finish(rt, callback, cookie, REDIRECT_URI)
    with pytest.raises(VerificationFailed):
        finish(rt, callback, cookie, REDIRECT_URI)
    assert rt.store.get(request_id).evidence is None
    assert [f.get("step") for f in failures(rt, request_id)] == [None, "token_endpoint"]


def test_a_cookie_that_is_edited_foreign_or_expired_fails(rt, demo, provider, request_id, monkeypatch):
    url, cookie = begin(rt, request_id, REDIRECT_URI)
    callback = authorize(url)
    edited = cookie[:20] + ("A" if cookie[20] != "A" else "B") + cookie[21:]
    monkeypatch.setenv("DSAR_LINK_SECRET", "another-link-secret-of-at-least-32-bytes")
    other = open_runtime(browser_config(demo, provider))
    _, foreign = begin(other, request_id, REDIRECT_URI)  # sealed under another portal's key
    later = utc_now() + timedelta(minutes=rt.config.oidc().nonce_ttl_minutes, seconds=1)
    for bad in (edited, "", "x" * 5000, foreign):
        with pytest.raises(VerificationFailed):
            finish(rt, callback, bad, REDIRECT_URI)
    rt.clock = lambda: later
    with pytest.raises(VerificationFailed):
        finish(rt, callback, cookie, REDIRECT_URI)
    assert provider.token_requests == []
    assert rt.store.get(request_id).evidence is None


def test_a_confidential_client_posts_its_secret(demo, provider, monkeypatch):
    monkeypatch.setenv("DSAR_OIDC_CLIENT_SECRET", "s3cret-of-the-client")
    provider.client_secret = "s3cret-of-the-client"
    provider.login = {"email": demo.subject_email, **claims_on_record(demo, demo.subject_email)}
    rt = open_runtime(browser_config(demo, provider, client_secret_env="DSAR_OIDC_CLIENT_SECRET",
                                     scopes=["openid", "email", "profile"]))
    request = stages.register(rt, demo.subject_email, "en")
    try:
        url, cookie = begin(rt, request.id, REDIRECT_URI)
        assert dict(parse_qsl(urlsplit(url).query))["scope"] == "openid email profile"
        finish(rt, authorize(url), cookie, REDIRECT_URI)
        assert provider.token_requests[0]["client_secret"] == "s3cret-of-the-client"
        assert rt.store.get(request.id).status == "verified"
        assert find_in_database(Path(rt.store.engine.url.database or ""), ["s3cret-of-the-client"]) == []
    finally:
        stages.close(rt, request.id, "withdrawn")


def test_the_config_names_what_the_login_lacks(demo, provider):
    path = write_demo_config(demo, UNREACHABLE_MAILCHIMP)
    text = path.read_text(encoding="utf-8")
    path.write_text(with_oidc(text, provider), encoding="utf-8")
    rt = open_runtime(path)
    request = stages.register(rt, demo.subject_email, "fi")
    try:
        with pytest.raises(ConfigError, match=r"identity\.oidc\.authorization_endpoint.*token_endpoint"):
            begin(rt, request.id, REDIRECT_URI)
    finally:
        stages.close(rt, request.id, "withdrawn")
    path.write_text(with_oidc(text, provider, token_endpoint=f"{provider.base_url}/token"), encoding="utf-8")
    with pytest.raises(ConfigError, match="authorization_endpoint and token_endpoint go together"):
        load_config(path)
    path.write_text(with_oidc(text, provider, scopes=["email"]), encoding="utf-8")
    with pytest.raises(ConfigError, match="openid"):
        load_config(path)
    path.write_text(with_oidc(text, provider, token_endpoint="http://idp.example.fi/token",
                              authorization_endpoint="https://idp.example.fi/authorize"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"token_endpoint.*https://"):
        load_config(path)

