import dataclasses

import pytest
from sqlalchemy import text

from audit import signing
from audit.errors import LedgerTampered
from audit.event import event_hash
from audit.ledger import Ledger
from audit.signing import generate_key, public_key
from audit.verify import verify_ledger


def test_untouched_ledger_verifies(filled, key):
    assert verify_ledger(filled.events(), public_key(key)) == 6


def test_empty_ledger_verifies(ledger, key):
    assert verify_ledger(ledger.events(), public_key(key)) == 0


def _tampered_at(events, key):
    with pytest.raises(LedgerTampered) as caught:
        verify_ledger(events, public_key(key))
    return caught.value


def test_updated_detail_is_a_hash_mismatch(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET detail = :d WHERE seq = 4"), {"d": '{"records":0}'})
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (4, "hash mismatch")
    assert str(error) == "ledger tampered at seq 4: hash mismatch"


def test_updated_time_is_a_hash_mismatch(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 2"))
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (2, "hash mismatch")


def test_deleted_row_is_a_gap(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (3, "gap in sequence")


def test_deleted_first_row_is_a_gap(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (1, "gap in sequence")


def test_deleted_and_renumbered_rows_fail(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
        conn.execute(text("UPDATE audit_events SET seq = seq - 1 WHERE seq > 3"))
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (3, "hash mismatch")


def test_swapped_rows_fail(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET seq = 100 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 5"))
        conn.execute(text("UPDATE audit_events SET seq = 5 WHERE seq = 100"))
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (2, "hash mismatch")


def test_events_out_of_order_fail(filled, key):
    events = list(filled.events())
    events[2], events[3] = events[3], events[2]
    error = _tampered_at(events, key)
    assert (error.seq, error.reason) == (3, "gap in sequence")
    error = _tampered_at(events[:2] + events[1:], key)
    assert (error.seq, error.reason) == (2, "out of order")


def test_rehashed_edit_is_a_broken_chain_or_bad_signature(filled, key):
    events = list(filled.events())
    e = events[2]
    prev = "f" * 64
    forged = dataclasses.replace(
        e, prev_hash=prev, hash=event_hash(e.seq, e.at, e.request_id, e.actor, e.action, e.detail, prev)
    )
    error = _tampered_at([*events[:2], forged, *events[3:]], key)
    assert (error.seq, error.reason) == (3, "broken chain")

    detail = {"records": 0}
    digest = event_hash(e.seq, e.at, e.request_id, e.actor, e.action, detail, e.prev_hash)
    forged = dataclasses.replace(e, detail=detail, hash=digest)
    error = _tampered_at([*events[:2], forged, *events[3:]], key)
    assert (error.seq, error.reason) == (3, "bad signature")


def test_ledger_resigned_with_another_key_fails(filled, engine, key):
    other = generate_key()
    with engine.begin() as conn:
        for (seq, digest) in conn.execute(text("SELECT seq, hash FROM audit_events")).all():
            sig = signing.sign(other, bytes.fromhex(digest)).hex()
            conn.execute(text("UPDATE audit_events SET sig = :sig WHERE seq = :seq"), {"sig": sig, "seq": seq})
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (1, "bad signature")
    # ...and with the forger's key it verifies: only the published key tells them apart.
    assert verify_ledger(filled.events(), public_key(other)) == 6


def test_garbage_signature_is_a_bad_signature(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET sig = 'zz' WHERE seq = 5"))
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (5, "bad signature")


def test_unreadable_row_names_its_seq(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET detail = 'not json' WHERE seq = 6"))
    error = _tampered_at(filled.events(), key)
    assert (error.seq, error.reason) == (6, "unreadable event")


def test_tampered_message_carries_no_data(filled, engine, key):
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET request_id = 'secret-value' WHERE seq = 2"))
    error = _tampered_at(filled.events(), key)
    assert "secret" not in str(error)


def test_malformed_public_key_is_misuse(filled):
    with pytest.raises(ValueError, match="32 raw bytes"):
        verify_ledger(filled.events(), b"short")


def test_per_request_subset_does_not_verify_as_a_whole_ledger(filled, key):
    # Chain verification needs the full ledger; a filtered view has gaps by design.
    with pytest.raises(LedgerTampered, match="gap in sequence"):
        verify_ledger(filled.events("REQ-2"), public_key(key))


class TestKeys:
    def test_round_trip_through_base64(self):
        raw = generate_key()
        encoded = signing.encode_key(raw)
        assert signing.load_private_key(encoded) == raw
        urlsafe = encoded.replace("+", "-").replace("/", "_").rstrip("=")
        assert signing.load_private_key(urlsafe) == raw
        assert signing.load_public_key(signing.encode_key(public_key(raw))) == public_key(raw)

    @pytest.mark.parametrize("bad", ["", "not base64!!", "QUJD", signing.encode_key(b"x" * 31) + "AAAA"])
    def test_malformed_key_is_refused_without_echo(self, bad):
        with pytest.raises(ValueError, match="malformed") as caught:
            signing.load_private_key(bad)
        if bad:
            assert bad not in str(caught.value)

    def test_sign_and_verify(self):
        raw = generate_key()
        sig = signing.sign(raw, b"data")
        signing.verify(public_key(raw), b"data", sig)  # returns None, raises InvalidSignature
        with pytest.raises(signing.InvalidSignature):
            signing.verify(public_key(raw), b"other", sig)
        with pytest.raises(signing.InvalidSignature):
            signing.verify(public_key(generate_key()), b"data", sig)


def test_ledger_accepts_a_loaded_key(engine):
    raw = generate_key()
    ledger = Ledger(engine, signing.load_private_key(signing.encode_key(raw)))
    ledger.append_event("REQ-1", "cli", "x", {})
    assert verify_ledger(ledger.events(), public_key(raw)) == 1
