"""MACs over stored identity records: HKDF against RFC 5869's vectors, and every edit detected."""

import hashlib
import hmac

import pytest

from identity.errors import RecordRejected
from identity.sealing import derive_key, email_digest, seal, unseal

KEY = derive_key(b"\x01" * 32)
RECORD = {"method": "email_code", "level": "low", "identifiers": ["email"]}


@pytest.mark.parametrize(("ikm", "salt", "info", "length", "okm"), [
    # RFC 5869 Appendix A.1, A.3 (SHA-256)
    (bytes.fromhex("0b" * 22), bytes.fromhex("000102030405060708090a0b0c"), bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"), 42,
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
    (bytes.fromhex("0b" * 22), b"", b"", 42,
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
])
def test_hkdf_matches_rfc_5869(ikm, salt, info, length, okm):
    assert derive_key(ikm, info, salt, length).hex() == okm


def test_distinct_info_gives_an_independent_key():
    assert derive_key(b"secret", b"a") != derive_key(b"secret", b"b")


def test_a_sealed_record_unseals_for_its_own_request_and_kind():
    sealed = seal(RECORD, "REQ-A", "evidence", KEY)
    expected = hmac.new(KEY, b"evidence\0REQ-A\0" + b'{"identifiers":["email"],"level":"low","method":"email_code"}',
                        hashlib.sha256).hexdigest()
    assert sealed["mac"] == expected
    assert unseal(sealed, "REQ-A", "evidence", KEY) == RECORD


@pytest.mark.parametrize(("change", "request_id", "kind", "key"), [
    ({"level": "high"}, "REQ-A", "evidence", KEY),          # a raised level
    ({}, "REQ-B", "evidence", KEY),                           # moved to another request
    ({}, "REQ-A", "challenge", KEY),                          # read as another kind of record
    ({}, "REQ-A", "evidence", derive_key(b"\x02" * 32)),      # another controller's key
    ({"mac": "0" * 64}, "REQ-A", "evidence", KEY),
    ({"mac": None}, "REQ-A", "evidence", KEY),
])
def test_any_change_is_rejected(change, request_id, kind, key):
    sealed = {**seal(RECORD, "REQ-A", "evidence", KEY), **change}
    with pytest.raises(RecordRejected, match=f"stored identity {kind} failed its integrity check"):
        unseal(sealed, request_id, kind, key)


def test_email_digest_tells_any_change():
    assert email_digest("a@example.fi") != email_digest("A@example.fi")
    assert email_digest("a@example.fi") == hashlib.sha256(b"a@example.fi").hexdigest()
