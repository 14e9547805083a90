"""ID tokens verified against a JWKS served over HTTP on 127.0.0.1: each algorithm, the key cache, the nonce."""

from datetime import UTC, datetime, timedelta

import pytest

from identity.errors import IssuerUnavailable, VerificationFailed
from identity.oidc import (
    ALGORITHMS,
    JwksCache,
    OidcChallenge,
    OidcSettings,
    claim_digest,
    issue_nonce,
    same_address,
    verify_id_token,
)
from tests.identity.oidc_provider import CLIENT_ID, SUBJECT_EMAIL, Provider, serve_jwks

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SETTINGS = OidcSettings(issuer="https://idp.example.fi", audience=CLIENT_ID,
                        claims_to_match=("name", "birthdate", "hetu"))


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def provider():
    idp = Provider()
    for alg in ALGORITHMS:
        idp.add_key(alg)
    with serve_jwks(idp):
        yield idp


@pytest.fixture
def keys(provider):
    cache = JwksCache(provider.url, SETTINGS.algorithms, clock=Clock())
    yield cache
    cache.close()


@pytest.fixture
def login():
    return issue_nonce(NOW - timedelta(seconds=20))


@pytest.mark.parametrize("alg", list(ALGORITHMS))
def test_a_token_signed_with_each_allowed_algorithm_verifies(provider, keys, login, alg):
    nonce, challenge = login
    kid = next(kid for kid, (a, _) in provider.keys.items() if a == alg)
    identity = verify_id_token(provider.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
    assert identity.evidence.method == "oidc" and identity.evidence.level == "high"
    assert identity.evidence.identifiers == ("email", "sub", "birthdate", "hetu", "name")
    assert identity.evidence.verified_at == NOW
    assert identity.claims == {"name": "Tiina Kärkkäinen", "birthdate": "1984-02-29", "hetu": "290284-922B"}


def test_the_domain_of_the_address_is_compared_in_ascii_case_only(provider, keys, login):
    nonce, challenge = login
    kid = next(iter(provider.keys))
    token = provider.token(nonce, NOW, kid, email="tiina.karkkainen@EXAMPLE.fi")
    assert verify_id_token(token, SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW).evidence.identifiers[0] == "email"
    assert same_address("a@Example.FI", "a@example.fi")
    assert not same_address("A@example.fi", "a@example.fi"), "a local part is the mail system's to fold, not ours"
    assert not same_address("a@exampl\u212a.fi", "a@example.fi"), "the Kelvin sign is not a k"


def test_an_unverified_email_is_not_vouched_for_but_the_rest_of_the_token_is(provider, keys, login):
    nonce, challenge = login
    kid = next(iter(provider.keys))
    token = provider.token(nonce, NOW, kid, email_verified=False)
    evidence = verify_id_token(token, SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW).evidence
    assert "email" not in evidence.identifiers


def test_the_evidence_and_its_repr_hold_no_claim_value(provider, keys, login):
    nonce, challenge = login
    kid = next(iter(provider.keys))
    identity = verify_id_token(provider.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
    shown = repr(identity) + str(identity.evidence.to_dict())
    for value in ("Tiina", "290284", "1984", SUBJECT_EMAIL, nonce, "user-8f2c"):
        assert value not in shown


def test_claim_digests_match_the_customer_record_without_holding_the_value(provider, keys, login):
    nonce, challenge = login
    kid = next(iter(provider.keys))
    identity = verify_id_token(provider.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
    salt, other_salt = b"s" * 16, b"t" * 16
    digests = identity.claim_digests(salt)
    assert digests["name"] == claim_digest(salt, "name", "TIINA  KÄRKKÄINEN")  # as a customer row may spell it
    assert digests["hetu"] != claim_digest(salt, "hetu", "290284-922C")
    assert digests["hetu"] != identity.claim_digests(other_salt)["hetu"]
    assert all("Tiina" not in d and "290284" not in d for d in digests.values())


def test_keys_are_fetched_once_and_cached(provider, keys, login):
    nonce, challenge = login
    before = len(provider.hits)
    for kid in provider.keys:
        verify_id_token(provider.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
    assert len(provider.hits) == before + 1


def test_an_unknown_kid_refreshes_once_then_never_sooner_than_the_minimum_interval(login):
    nonce, challenge = login
    idp = Provider()
    old = idp.add_key("ES256")
    idp.published = [old]
    clock = Clock()
    with serve_jwks(idp):
        keys = JwksCache(idp.url, SETTINGS.algorithms, clock=clock, min_refresh=timedelta(seconds=60))
        verify_id_token(idp.token(nonce, NOW, old), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
        assert len(idp.hits) == 1

        # The issuer rotates its keys: the first token with the new kid refreshes the set, once.
        new = idp.add_key("RS256")
        idp.published = [old, new]
        clock.now += 61
        verify_id_token(idp.token(nonce, NOW, new), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
        assert len(idp.hits) == 2

        # Made-up kids right after that ask the issuer nothing.
        for kid in ("nope-1", "nope-2", "nope-3"):
            with pytest.raises(VerificationFailed):
                verify_id_token(_with_kid(idp, old, nonce, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
        assert len(idp.hits) == 2

        # A minute on, one more unknown kid may refresh once more; the one after it may not.
        clock.now += 61
        for kid in ("nope-4", "nope-5"):
            with pytest.raises(VerificationFailed):
                verify_id_token(_with_kid(idp, old, nonce, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
        assert len(idp.hits) == 3
        keys.close()


def _with_kid(idp, signing_kid, nonce, kid):
    """A token signed by a real key but naming another kid."""
    return idp.mint(idp.claims(nonce, NOW), signing_kid, {"kid": kid})


def test_keys_older_than_their_maximum_age_are_fetched_again(provider, login):
    nonce, challenge = login
    clock = Clock()
    keys = JwksCache(provider.url, SETTINGS.algorithms, clock=clock, max_age=timedelta(minutes=10))
    kid = next(iter(provider.keys))
    before = len(provider.hits)
    verify_id_token(provider.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
    clock.now += 599
    verify_id_token(provider.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
    assert len(provider.hits) == before + 1
    clock.now += 2
    verify_id_token(provider.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
    assert len(provider.hits) == before + 2
    keys.close()


def test_an_issuer_that_cannot_be_reached_is_told_apart_and_not_asked_again_at_once(login):
    nonce, challenge = login
    idp = Provider()
    kid = idp.add_key("RS256")
    with serve_jwks(idp):
        dead = idp.url.replace("/jwks.json", "/gone.json")  # a 404
        clock = Clock()
        keys = JwksCache(dead, SETTINGS.algorithms, clock=clock)
        for _ in range(3):
            with pytest.raises(IssuerUnavailable):
                verify_id_token(idp.token(nonce, NOW, kid), SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW)
        assert len(idp.hits) == 1
        keys.close()


def test_keys_of_a_type_or_algorithm_not_allowed_are_dropped(login):
    nonce, challenge = login
    idp = Provider()
    rsa_kid, ed_kid = idp.add_key("RS256"), idp.add_key("EdDSA")
    only_ed = OidcSettings(issuer=idp.issuer, audience=CLIENT_ID, algorithms=("EdDSA",))
    with serve_jwks(idp):
        keys = JwksCache(idp.url, only_ed.algorithms, clock=Clock())
        verify_id_token(idp.token(nonce, NOW, ed_kid), only_ed, keys, challenge, SUBJECT_EMAIL, NOW)
        with pytest.raises(VerificationFailed):
            verify_id_token(idp.token(nonce, NOW, rsa_kid), only_ed, keys, challenge, SUBJECT_EMAIL, NOW)
        keys.close()


def test_a_nonce_challenge_round_trips_and_tells_itself_from_an_email_code():
    nonce, challenge = issue_nonce(NOW, timedelta(minutes=10))
    assert len(nonce) >= 43 and challenge.expires_at == NOW + timedelta(minutes=10)
    assert OidcChallenge.from_dict(challenge.to_dict()) == challenge
    with pytest.raises(ValueError, match="OIDC challenge is malformed"):
        OidcChallenge.from_dict({"kdf": "scrypt:n=16384,r=8,p=1,dklen=32", "salt": "", "attempts_left": 5})
    assert issue_nonce(NOW)[0] != nonce


@pytest.mark.parametrize(("change", "message"), [
    ({"algorithms": ("HS256",)}, "algorithms must be some of RS256, ES256, EdDSA"),
    ({"algorithms": ("none",)}, "algorithms must be some of"),
    ({"leeway_seconds": 61}, "leeway must be 0 to 60 seconds"),
    ({"level": "very high"}, "level must be one of low, substantial, high"),
    ({"claims_to_match": ("../x",)}, "claim names"),
])
def test_settings_refuse_what_would_weaken_verification(change, message):
    values = {"issuer": "https://idp.example.fi", "audience": CLIENT_ID, **change}
    with pytest.raises(ValueError, match=message):
        OidcSettings(**values)


def test_naive_times_are_misuse(provider, keys, login):
    _, challenge = login
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_id_token("x", SETTINGS, keys, challenge, SUBJECT_EMAIL, NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_nonce(NOW.replace(tzinfo=None))
