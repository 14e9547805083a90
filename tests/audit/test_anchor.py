import dataclasses
import hashlib
import json

import pytest

from audit.anchor import HEAD_KIND, Head, sign_head, verify_head
from audit.errors import InvalidSignature
from audit.event import canonical_json
from audit.signing import generate_key, public_key

from .conftest import T0


def _last(filled):
    return list(filled.events())[-1]


def test_head_names_the_last_event_and_verifies(filled, key):
    last = _last(filled)
    head = sign_head(key, last, at=T0)
    assert (head.seq, head.hash) == (6, last.hash)
    verify_head(head, public_key(key))


def test_head_survives_json_and_an_auditor_can_check_it_without_dsar(filled, key):
    head = sign_head(key, _last(filled), at=T0)
    text = json.dumps(head.to_json())
    again = Head.from_json(json.loads(text))
    assert again == head
    # What an auditor recomputes by hand: sha256 of the canonical JSON without `sig`.
    body = {k: v for k, v in json.loads(text).items() if k != "sig"}
    assert body["kind"] == HEAD_KIND
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    digest = hashlib.sha256(canonical_json(body).encode()).digest()
    Ed25519PublicKey.from_public_bytes(public_key(key)).verify(bytes.fromhex(head.sig), digest)


@pytest.mark.parametrize("change", [{"seq": 5}, {"hash": "0" * 64}, {"at": T0.replace(year=2030)}])
def test_an_altered_head_does_not_verify(filled, key, change):
    head = dataclasses.replace(sign_head(key, _last(filled), at=T0), **change)
    with pytest.raises(InvalidSignature):
        verify_head(head, public_key(key))


def test_another_key_does_not_verify(filled, key):
    head = sign_head(key, _last(filled), at=T0)
    with pytest.raises(InvalidSignature):
        verify_head(head, public_key(generate_key()))


@pytest.mark.parametrize("value", [
    None, [], {"kind": "other"}, {"kind": HEAD_KIND, "seq": 0, "hash": "0" * 64, "at": "x", "sig": "0" * 128},
    {"kind": HEAD_KIND, "seq": True, "hash": "0" * 64, "at": "2025-03-01T09:30:00.000000Z", "sig": "0" * 128},
    {"kind": HEAD_KIND, "seq": 1, "hash": "ZZ", "at": "2025-03-01T09:30:00.000000Z", "sig": "0" * 128},
    {"kind": HEAD_KIND, "seq": 1, "hash": "0" * 64, "at": "2025-03-01 09:30", "sig": "0" * 128},
    {"kind": HEAD_KIND, "seq": 1, "hash": "0" * 64, "at": "2025-03-01T09:30:00.000000Z", "sig": "0"},
])
def test_malformed_heads_are_refused(value):
    with pytest.raises(ValueError):
        Head.from_json(value)
