import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt
import pytest

from exports.errors import InvalidLink
from exports.links import LinkClaims, issue_link, verify_link

SECRET = b"s" * 32
OTHER = b"o" * 32
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def valid_claims() -> dict:
    """Claims that verify_link accepts when signed with SECRET (HS256)."""
    return {"sub": "REQ-ABC", "obj": "REQ-ABC/x.age", "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 3600, "jti": "x"}
BASE = "https://dsar.example.fi"


def token_of(url: str) -> str:
    prefix = f"{BASE}/download/"
    assert url.startswith(prefix)
    return url[len(prefix) :]


def issue(**kw) -> str:
    args: dict[str, Any] = {
        "request_id": "REQ-ABC",
        "object_key": "REQ-ABC/REQ-ABC.zip.age",
        "secret": SECRET,
        "now": NOW,
        "lifetime": timedelta(days=7),
        "base_url": BASE + "/",
    }
    return token_of(issue_link(**(args | kw)))


def test_valid_link():
    claims = verify_link(issue(), SECRET, NOW + timedelta(days=6))
    assert claims == LinkClaims("REQ-ABC", "REQ-ABC/REQ-ABC.zip.age", NOW, NOW + timedelta(days=7), claims.jti)
    assert len(claims.jti) >= 16
    assert issue() != issue()  # a fresh jti each time


def test_expired_when_now_moves():
    token = issue()
    verify_link(token, SECRET, NOW + timedelta(days=7) - timedelta(seconds=1))
    for later in [timedelta(days=7), timedelta(days=30)]:
        with pytest.raises(InvalidLink):
            verify_link(token, SECRET, NOW + later)


def test_tampered_payload():
    header, payload, sig = issue().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["obj"] = "REQ-OTHER/REQ-OTHER.zip.age"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidLink):
        verify_link(f"{header}.{forged}.{sig}", SECRET, NOW)


def test_flipped_signature():
    token = issue()
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidLink):
        verify_link(flipped, SECRET, NOW)


def test_alg_none():
    claims = valid_claims()
    # PyJWT types the key without the None that algorithm "none" requires.
    token = jwt.encode(claims, cast(str, None), algorithm="none")
    with pytest.raises(InvalidLink):
        verify_link(token, SECRET, NOW)
    with pytest.raises(InvalidLink):
        verify_link(token + "AAAA", SECRET, NOW)


def test_other_algorithm_with_same_secret():
    claims = valid_claims()
    secret = b"k" * 64  # HS512 wants 64 bytes; HS256 accepts it too
    with pytest.raises(InvalidLink):
        verify_link(jwt.encode(claims, secret, algorithm="HS512"), secret, NOW)


def test_signed_with_another_secret():
    with pytest.raises(InvalidLink):
        verify_link(issue(secret=OTHER), SECRET, NOW)


@pytest.mark.parametrize("missing", ["exp", "sub", "obj", "iat", "jti"])
def test_required_claims(missing):
    claims = valid_claims()
    del claims[missing]
    with pytest.raises(InvalidLink):
        verify_link(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET, NOW)


def test_hostile_object_key_in_signed_token():
    claims = valid_claims() | {"obj": "../../etc/passwd"}
    with pytest.raises(InvalidLink):
        verify_link(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET, NOW)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "....", "ä"])
def test_malformed(token):
    with pytest.raises(InvalidLink) as info:
        verify_link(token, SECRET, NOW)
    assert token not in str(info.value) or not token


def test_short_secret_is_misuse():
    with pytest.raises(ValueError):
        issue(secret=b"short")
    with pytest.raises(ValueError):
        verify_link(issue(), b"x" * 31, NOW)


def test_bad_arguments_are_misuse():
    with pytest.raises(ValueError):
        issue(lifetime=timedelta(0))
    with pytest.raises(ValueError):
        issue(object_key="../x")
    with pytest.raises(ValueError):
        issue(now=datetime(2025, 1, 1))


def test_the_claims_the_negative_tests_start_from_are_valid():
    claims = verify_link(jwt.encode(valid_claims(), SECRET, algorithm="HS256"), SECRET, NOW)
    assert (claims.request_id, claims.object_key) == ("REQ-ABC", "REQ-ABC/x.age")
