"""Impostors with ID tokens: each tries to get someone's records through an OIDC login, and none does.

Every case runs against the demo company's request store and ledger, with the
issuer's JWKS (and an attacker's) served over HTTP on 127.0.0.1, and checks
what a disclosure would leave behind: evidence, a `verified` request, an
identity stage that passes, staged records, a link or passphrase in the outbox.
"""

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from flows import stages
from flows.demo.run import prepare_demo
from flows.errors import StageFailed
from flows.oidc import start_login, submit_id_token
from flows.runtime import open_runtime
from identity.errors import AlreadyVerified, IdentityError, IdentityNotVerified, VerificationFailed
from tests.flows.oidc_demo import claims_on_record, write_oidc_config
from tests.identity.oidc_provider import Provider, public_jwk, serve_jwks

ASSERTED = ["290284-922B", "1984-02-29", "user-8f2c"]


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("impostors-oidc") / "demo")


@pytest.fixture(scope="module")
def provider():
    idp = Provider()
    idp.add_key("RS256", "rsa-1")
    idp.add_key("ES256", "ec-1")
    with serve_jwks(idp):
        yield idp


@pytest.fixture(scope="module")
def attacker():
    """Another issuer, as an attacker would run one: its own keys, its own JWKS URL."""
    evil = Provider(issuer="https://idp.example.fi")  # it claims to be our issuer
    evil.add_key("RS256", "rsa-1")  # with the kid of our issuer's key
    evil.add_key("ES256", "evil-1")
    with serve_jwks(evil):
        yield evil


@pytest.fixture
def rt(company, provider):
    demo, _ = company
    return open_runtime(write_oidc_config(demo, "http://127.0.0.1:9/3.0", provider))


@pytest.fixture
def victim(rt, company, caplog):
    """The demo subject's request, its login begun: (request id, nonce, the subject's address)."""
    demo, _ = company
    caplog.set_level(logging.DEBUG)
    request = stages.register(rt, demo.subject_email, "fi", name=demo.subject_name)
    nonce = start_login(rt, request.id)
    yield request.id, nonce, demo.subject_email
    if rt.store.get(request.id).is_open:
        stages.close(rt, request.id, "withdrawn")


def now() -> datetime:
    return datetime.now(UTC)


def assert_nothing_leaves(rt, request_id, caplog, *secrets):
    """No evidence, not verified, the identity stage fails closed, no records staged, no link or passphrase sent."""
    request = rt.store.get(request_id)
    assert request.evidence is None and request.status != "verified"
    assert "identity_verified" not in [e.action for e in rt.ledger.events(request_id)]
    with pytest.raises(StageFailed, match="identity not verified"):
        stages.verify_identity(rt, request_id)
    assert not rt.work_dir(request_id).exists()
    assert rt.store.links_of(request_id) == ()
    assert not list((rt.config.base_dir / "outbox").glob(f"{request_id}-link*"))
    assert not list((rt.config.base_dir / "outbox").glob(f"{request_id}-passphrase*"))
    # The attempt left no token, nonce or claim in the ledger or a log line.
    ledger = json.dumps([e.detail for e in rt.ledger.events(request_id)])
    for secret in (*secrets, *ASSERTED):
        assert secret not in ledger and secret not in caplog.text


def refused(rt, request_id, token, caplog, *secrets, error=VerificationFailed):
    with pytest.raises(error):
        submit_id_token(rt, request_id, token)
    assert_nothing_leaves(rt, request_id, caplog, token, *secrets)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forged(header: dict, claims: dict, sign=lambda _: b"") -> str:
    """A token assembled by hand, as an attacker can: any header, any claims, any signature."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


# Time ---------------------------------------------------------------------------------

def test_an_expired_token(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    token = provider.token(nonce, now(), "rsa-1", email=email, exp=int((now() - timedelta(minutes=2)).timestamp()))
    refused(rt, request_id, token, caplog, nonce)


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_a_token_dated_in_the_future_beyond_the_leeway(rt, victim, provider, caplog, claim):
    request_id, nonce, email = victim
    later = int((now() + timedelta(minutes=5)).timestamp())
    token = provider.token(nonce, now(), "rsa-1", email=email, **{claim: later})
    refused(rt, request_id, token, caplog, nonce)


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "nonce"])
def test_a_token_without_a_required_claim(rt, victim, provider, caplog, claim):
    request_id, nonce, email = victim
    claims = provider.claims(nonce, now(), email=email)
    del claims[claim]
    token = provider.mint(claims, "rsa-1")
    refused(rt, request_id, token, caplog, nonce)


def test_a_token_for_a_login_whose_nonce_has_expired(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    later = now() + timedelta(minutes=rt.config.oidc().nonce_ttl_minutes, seconds=1)
    rt.clock = lambda: later
    refused(rt, request_id, provider.token(nonce, later, "rsa-1", email=email), caplog, nonce)


# Algorithms and keys ----------------------------------------------------------------------

def test_alg_none(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    token = forged({"alg": "none", "kid": "rsa-1", "typ": "JWT"}, provider.claims(nonce, now(), email=email))
    refused(rt, request_id, token, caplog, nonce)


@pytest.mark.parametrize("form", ["pem", "der"])
def test_hs256_signed_with_the_issuers_rsa_public_key(rt, victim, provider, caplog, form):
    """The classic confusion: the verifier that trusts `alg` would HMAC with the public key it holds."""
    request_id, nonce, email = victim
    public = provider.keys["rsa-1"][1].public_key()
    secret = (public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo) if form == "pem"
              else public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    token = forged({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}, provider.claims(nonce, now(), email=email),
                   lambda data: hmac.new(secret, data, hashlib.sha256).digest())
    refused(rt, request_id, token, caplog, nonce)


def test_a_token_signed_with_another_algorithm_than_the_keys(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    alg, key = provider.keys["ec-1"]
    # An EC key's token that names the RSA key: the key found by kid fixes the algorithm, not the header.
    token = provider.mint(provider.claims(nonce, now(), email=email), "ec-1", {"kid": "rsa-1"})
    assert alg == "ES256" and key is not None
    refused(rt, request_id, token, caplog, nonce)


@pytest.mark.parametrize("kid", ["rsa-1", "evil-1"])
def test_a_token_from_another_issuers_jwks(rt, victim, attacker, caplog, kid):
    request_id, nonce, email = victim
    token = attacker.token(nonce, now(), kid, email=email)
    refused(rt, request_id, token, caplog, nonce)
    assert attacker.hits == []


@pytest.mark.parametrize("kid", ["../../../../etc/passwd", "..%2F..%2Fjwks", "ATTACKER_URL", "nope", "", 7, None])
def test_kid_injection(rt, victim, provider, attacker, caplog, kid):
    request_id, nonce, email = victim
    kid = attacker.url if kid == "ATTACKER_URL" else kid
    claims = attacker.claims(nonce, now(), email=email)
    # PyJWT will not sign a header whose kid is no string; an attacker writes one by hand.
    token = (attacker.mint(claims, "evil-1", {"kid": kid}) if isinstance(kid, str)
             else forged({"alg": "ES256", "kid": kid}, claims, lambda _: b"\0" * 64))
    refused(rt, request_id, token, caplog, nonce)
    assert attacker.hits == []
    assert all(hit == "/jwks.json" for hit in provider.hits), "a kid reached the issuer's URL"


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
def test_a_header_pointing_at_the_attackers_key(rt, victim, attacker, caplog, header):
    request_id, nonce, email = victim
    alg, key = attacker.keys["evil-1"]
    value = {
        "jku": attacker.url, "x5u": attacker.url.replace("jwks.json", "cert.pem"),
        "jwk": public_jwk(alg, key, "evil-1"), "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    }[header]
    token = attacker.mint(attacker.claims(nonce, now(), email=email), "evil-1", {header: value})
    refused(rt, request_id, token, caplog, nonce)
    assert attacker.hits == []


def test_a_jku_header_on_a_token_the_issuer_signed_is_refused_too(rt, victim, provider, attacker, caplog):
    """Not even a good signature makes a key-pointing header acceptable: we never honour them."""
    request_id, nonce, email = victim
    token = provider.mint(provider.claims(nonce, now(), email=email), "rsa-1", {"jku": attacker.url})
    refused(rt, request_id, token, caplog, nonce)
    assert attacker.hits == []


def test_a_tampered_payload(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    header, _, signature = provider.token(nonce, now(), "rsa-1", email="someone@example.fi").split(".")
    payload = _b64(json.dumps(provider.claims(nonce, now(), email=email)).encode())
    refused(rt, request_id, f"{header}.{payload}.{signature}", caplog, nonce)


# Audience and issuer ----------------------------------------------------------------------

@pytest.mark.parametrize("aud", ["another-client", "dsar-test-client-2", "dsar-test", ["another-client"],
                                 ["dsar-test-client", "another-client"]])
def test_a_token_for_another_audience(rt, victim, provider, caplog, aud):
    request_id, nonce, email = victim
    refused(rt, request_id, provider.token(nonce, now(), "rsa-1", email=email, aud=aud), caplog, nonce)


def test_a_token_authorised_for_another_party(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    token = provider.token(nonce, now(), "rsa-1", email=email, azp="another-client")
    refused(rt, request_id, token, caplog, nonce)


@pytest.mark.parametrize("iss", ["https://idp.example.fi/", "https://IDP.example.fi", "https://evil.example",
                                 "https://idp.example.fi.evil.example"])
def test_a_token_from_another_issuer(rt, victim, provider, caplog, iss):
    request_id, nonce, email = victim
    refused(rt, request_id, provider.token(nonce, now(), "rsa-1", email=email, iss=iss), caplog, nonce)


# The email address and the nonce ------------------------------------------------------------

@pytest.mark.parametrize("verified", [False, None, "true", 1])
def test_an_email_the_provider_has_not_verified(rt, victim, provider, caplog, verified):
    request_id, nonce, email = victim
    token = provider.token(nonce, now(), "rsa-1", email=email, email_verified=verified)
    refused(rt, request_id, token, caplog, nonce)


def test_a_token_without_an_email(rt, victim, provider, caplog):
    request_id, nonce, _ = victim
    refused(rt, request_id, provider.token(nonce, now(), "rsa-1", email=None), caplog, nonce)


@pytest.mark.parametrize("claimed", [
    "attacker@evil.example",
    "tiina.karkkainen+x@example.fi",  # plus-addressing is another mailbox until the mail system says otherwise
    "TIINA.KARKKAINEN@example.fi",  # the local part is not ours to fold
    "SUBJECT_WITH_KELVIN",  # the Kelvin sign (U+212A) lower-cases to k
    "SUBJECT_WITH_CYRILLIC",  # Cyrillic а (U+0430) looks like a
    "SUBJECT_FULLWIDTH",  # fullwidth ｅ (U+FF45) folds to e under NFKC
    "SUBJECT_LOOKALIKE_DOMAIN",  # exarnple.fi
])
def test_a_verified_email_for_another_or_a_look_alike_address(rt, victim, provider, caplog, claimed):
    request_id, nonce, email = victim
    local, _, domain = email.partition("@")
    claimed = {
        "SUBJECT_WITH_KELVIN": email.replace("k", "\u212a", 1),
        "SUBJECT_WITH_CYRILLIC": email.replace("a", "\u0430", 1),
        "SUBJECT_FULLWIDTH": email.replace("e", "\uff45", 1),
        "SUBJECT_LOOKALIKE_DOMAIN": f"{local}@{domain.replace('m', 'rn', 1)}",
    }.get(claimed, claimed)
    assert claimed != email
    refused(rt, request_id, provider.token(nonce, now(), "rsa-1", email=claimed), caplog, nonce)


def test_a_nonce_from_another_request(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    other = stages.register(rt, "attacker@evil.example", "en")
    their_nonce = start_login(rt, other.id)
    token = provider.token(their_nonce, now(), "rsa-1", email=email)
    refused(rt, request_id, token, caplog, nonce)
    stages.close(rt, other.id, "withdrawn")


def test_a_token_for_an_earlier_login_of_the_same_request(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    old = provider.token(nonce, now(), "rsa-1", email=email)
    new_nonce = start_login(rt, request_id)  # the requester logs in again; the first login is void
    refused(rt, request_id, old, caplog, nonce, new_nonce)


def test_a_failed_token_spends_the_login_so_no_second_guess_uses_it(rt, victim, provider, caplog):
    request_id, nonce, email = victim
    with pytest.raises(VerificationFailed):
        submit_id_token(rt, request_id, provider.token(nonce, now(), "rsa-1", email="attacker@evil.example"))
    good = provider.token(nonce, now(), "rsa-1", email=email)
    refused(rt, request_id, good, caplog, nonce, error=IdentityNotVerified)
    failures = [e.detail for e in rt.ledger.events(request_id) if e.action == "identity_failed"]
    assert failures == [{"method": "oidc", "error": "VerificationFailed"}]


def test_a_replayed_token(rt, victim, provider, company, caplog):
    """The subject's own good token, captured: it verified its request once and never verifies another."""
    request_id, nonce, email = victim
    token = provider.token(nonce, now(), "rsa-1", email=email, **claims_on_record(company[0], email))
    submit_id_token(rt, request_id, token)
    with pytest.raises(AlreadyVerified):
        submit_id_token(rt, request_id, token)
    assert [e.action for e in rt.ledger.events(request_id)].count("identity_verified") == 1

    # The subject's next request, once this one is closed: the captured token does not verify it.
    stages.close(rt, request_id, "withdrawn")
    demo, _ = company
    later = stages.register(rt, demo.subject_email, "fi")
    later_nonce = start_login(rt, later.id)
    refused(rt, later.id, token, caplog, nonce, later_nonce)
    stages.close(rt, later.id, "withdrawn")


@pytest.mark.parametrize("claim", ["name", "birthdate"])
def test_a_login_for_someone_else_than_the_customer_of_this_address(rt, victim, provider, company, caplog, claim):
    """The provider vouches for the address, but the person it identified is not the customer on record
    (another family member who reads the same mailbox, say)."""
    request_id, nonce, email = victim
    someone_else = {"name": "Matti Meikäläinen", "birthdate": "1970-01-01"}
    other = {**claims_on_record(company[0], email), claim: someone_else[claim]}
    refused(rt, request_id, provider.token(nonce, now(), "rsa-1", email=email, **other), caplog, nonce)


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "x" * 20_000, "..", "e30.e30.", "e30.e30"])
def test_garbage_instead_of_a_token(rt, victim, caplog, token):
    request_id, nonce, _ = victim
    with pytest.raises(IdentityError):
        submit_id_token(rt, request_id, token)
    assert_nothing_leaves(rt, request_id, caplog, nonce)
