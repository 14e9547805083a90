import json
from datetime import UTC, datetime, timedelta

import pytest

from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import IdentityNotVerified, VerificationFailed
from identity.evidence import IdentityEvidence

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def issued():
    return issue_code(NOW)


def test_a_code_is_eight_digits(issued):
    code, _ = issued
    assert len(code) == 8 and code.isdigit() and code.isascii()


def test_right_code_verifies(issued):
    code, challenge = issued
    evidence = check_code(challenge, code, NOW + timedelta(minutes=1))
    assert evidence == IdentityEvidence("email_code", ("email",), "low", NOW + timedelta(minutes=1))


@pytest.mark.parametrize("shape", ["{a} {b}", " {a}-{b} ", "{a}\t{b}\n", "{a}–{b}"])
def test_typed_spaces_and_dashes_are_ignored(issued, shape):
    code, challenge = issued
    typed = shape.format(a=code[:4], b=code[4:])
    assert check_code(challenge, typed, NOW).method == "email_code"


def _other(code):
    return f"{(int(code) + 1) % 10**8:08d}"


@pytest.mark.parametrize("typed", ["", "1234", "abcdefgh", "123456789", None])
def test_malformed_input_fails(issued, typed):
    _, challenge = issued
    with pytest.raises(VerificationFailed):
        check_code(challenge, typed, NOW)


def test_wrong_code_fails(issued):
    code, challenge = issued
    with pytest.raises(VerificationFailed) as caught:
        check_code(challenge, _other(code), NOW)
    assert str(caught.value) == "identity verification failed"


def test_expired_code_fails(issued):
    code, challenge = issued
    check_code(challenge, code, NOW + timedelta(minutes=14, seconds=59))
    with pytest.raises(VerificationFailed):
        check_code(challenge, code, NOW + timedelta(minutes=15))
    with pytest.raises(VerificationFailed):
        check_code(challenge, code, NOW + timedelta(days=1))


def test_code_before_issue_fails(issued):
    code, challenge = issued
    with pytest.raises(VerificationFailed):
        check_code(challenge, code, NOW - timedelta(seconds=1))


def test_custom_lifetime_and_attempts():
    code, challenge = issue_code(NOW, ttl=timedelta(minutes=2), attempts=1)
    assert challenge.expires_at == NOW + timedelta(minutes=2)
    assert challenge.attempts_left == 1
    with pytest.raises(VerificationFailed):
        check_code(challenge, code, NOW + timedelta(minutes=3))


def test_failures_are_indistinguishable(issued):
    code, challenge = issued
    exhausted = CodeChallenge(challenge.salt, challenge.code_hash, NOW, NOW + timedelta(minutes=15), 0)
    messages = set()
    for chal, typed, now in [
        (challenge, _other(code), NOW),
        (challenge, code, NOW + timedelta(hours=1)),
        (exhausted, code, NOW),
    ]:
        with pytest.raises(VerificationFailed) as caught:
            check_code(chal, typed, now)
        messages.add((type(caught.value), str(caught.value)))
    assert len(messages) == 1


def test_exhausted_fails_even_with_the_right_code(issued):
    code, challenge = issued
    tries = 0
    current = challenge
    while True:
        loaded, current = current, spend_attempt(current)  # persist the spend, then check what was loaded
        try:
            check_code(loaded, _other(code), NOW)
        except VerificationFailed:
            tries += 1
        if current.attempts_left == 0:
            break
    assert tries == 5
    assert spend_attempt(current).attempts_left == 0
    with pytest.raises(VerificationFailed):
        check_code(current, code, NOW)


def test_spend_attempt_returns_a_copy(issued):
    _, challenge = issued
    spent = spend_attempt(challenge)
    assert (challenge.attempts_left, spent.attempts_left) == (5, 4)
    assert (spent.salt, spent.code_hash, spent.expires_at) == (
        challenge.salt, challenge.code_hash, challenge.expires_at,
    )


def test_challenge_holds_no_trace_of_the_code(issued):
    code, challenge = issued
    stored = json.dumps(challenge.to_dict())
    assert code not in stored
    assert code not in repr(challenge)
    assert code.encode() not in challenge.salt + challenge.code_hash
    assert "code" not in challenge.to_dict() and set(challenge.to_dict()) == {
        "kdf", "salt", "code_hash", "issued_at", "expires_at", "attempts_left",
    }


def test_two_issues_differ():
    _, a = issue_code(NOW)
    _, b = issue_code(NOW)
    assert a.salt != b.salt and a.code_hash != b.code_hash
    assert len(a.salt) == 16 and len(a.code_hash) == 32


def test_challenge_round_trips_through_json(issued):
    code, challenge = issued
    restored = CodeChallenge.from_dict(json.loads(json.dumps(challenge.to_dict())))
    assert restored == challenge
    assert check_code(restored, code, NOW).identifiers == ("email",)


@pytest.mark.parametrize(
    "change",
    [
        {"salt": "not base64!"},
        {"attempts_left": "5"},
        {"kdf": "pbkdf2"},
        {"expires_at": "tomorrow"},
    ],
)
def test_malformed_stored_challenge_is_refused(issued, change):
    _, challenge = issued
    with pytest.raises(ValueError, match="malformed"):
        CodeChallenge.from_dict({**challenge.to_dict(), **change})
    data = challenge.to_dict()
    del data["salt"]
    with pytest.raises(ValueError, match="malformed"):
        CodeChallenge.from_dict(data)


def test_naive_times_are_misuse(issued):
    code, challenge = issued
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_code(datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        check_code(challenge, code, datetime(2025, 3, 1))


@pytest.mark.parametrize(("ttl", "attempts"), [(timedelta(0), 5), (timedelta(minutes=1), 0)])
def test_nonsense_parameters_are_misuse(ttl, attempts):
    with pytest.raises(ValueError):
        issue_code(NOW, ttl=ttl, attempts=attempts)


class TestEvidence:
    def test_round_trip(self):
        evidence = IdentityEvidence("oidc", ("email", "national_id"), "substantial", NOW)
        data = evidence.to_dict()
        assert data == {
            "method": "oidc",
            "identifiers": ["email", "national_id"],
            "level": "substantial",
            "verified_at": "2025-03-01T09:30:00.000000Z",
        }
        assert IdentityEvidence.from_dict(json.loads(json.dumps(data))) == evidence

    @pytest.mark.parametrize(
        ("method", "identifiers", "level", "at"),
        [
            ("password", ("email",), "low", NOW),
            ("oidc", ("email",), "medium", NOW),
            ("oidc", (), "low", NOW),
            ("oidc", ("anna@example.fi",), "low", NOW),
            ("oidc", ["email"], "low", NOW),
            ("oidc", ("email",), "low", datetime(2025, 3, 1)),
        ],
    )
    def test_invalid_evidence_is_refused(self, method, identifiers, level, at):
        with pytest.raises(ValueError) as caught:
            IdentityEvidence(method, identifiers, level, at)
        assert "anna" not in str(caught.value)

    @pytest.mark.parametrize("data", [{}, {"method": "oidc"}, {"method": "oidc", "identifiers": "email",
                                                                "level": "low", "verified_at": "x"}])
    def test_malformed_stored_evidence_is_refused(self, data):
        with pytest.raises(ValueError, match="malformed"):
            IdentityEvidence.from_dict(data)


def test_identity_not_verified_names_the_request():
    error = IdentityNotVerified("REQ-2025-0007")
    assert str(error) == "identity not verified for REQ-2025-0007"
    assert error.request_id == "REQ-2025-0007"
