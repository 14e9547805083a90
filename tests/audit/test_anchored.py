"""Every tampering an attacker with the data directory (and the stolen key) can do is named, against a signed
head and write-once copies kept outside the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, text

from audit import signing
from audit.anchor import Head, sign_head
from audit.anchored import Copy, check_anchored
from audit.event import Event, event_hash, format_at
from audit.ledger import Ledger, events_table
from audit.signing import generate_key, public_key
from tests.audit.conftest import T0
from tests.audit.tampering import rechain_without


class Kept:
    """An anchor that keeps what a WORM bucket would: every head and a copy of every event."""

    def __init__(self) -> None:
        self.heads: list[Head] = []
        self.copies: list[Copy] = []

    def record(self, event: Event, head: Head) -> None:
        self.heads.append(head)
        self.copies.append(Copy(event.seq, event.hash, head.at))

    @property
    def head(self) -> Head:
        return max(self.heads, key=lambda h: h.seq)


@pytest.fixture
def kept():
    return Kept()


@pytest.fixture
def anchored(engine, key, kept):
    """120 events over 12 requests (REQ-0 ... REQ-11), each recorded by `kept`."""
    ledger = Ledger(engine, key, [kept])
    for i in range(120):
        ledger.append_event(f"REQ-{i % 12}", "flow:fulfil_request", "stage_done", {"stage": f"s{i}"},
                            at=T0 + timedelta(seconds=i))
    return ledger


def messages(ledger, key, kept, head=None, copies=True):
    report = check_anchored(ledger.events(), public_key(key), [("checkpoint", head or kept.head)],
                            kept.copies if copies else None)
    return [(p.tampered, p.message) for p in report.problems]


def test_an_untouched_ledger_has_no_problem_and_every_head_is_its_last_event(anchored, key, kept):
    assert [h.seq for h in kept.heads] == list(range(1, 121))
    report = check_anchored(anchored.events(), public_key(key), [("checkpoint", kept.head)], kept.copies)
    assert (report.count, report.last_seq, report.problems, report.tampered) == (120, 120, [], False)


def test_truncating_the_last_50_events_is_named(anchored, engine, key, kept):
    with engine.begin() as conn:
        conn.execute(delete(events_table).where(events_table.c.seq > 70))
    at = format_at(kept.head.at)
    assert messages(anchored, key, kept) == [
        (True, f"truncated: the ledger ends at seq 70 but the checkpoint written at {at} is at seq 120"),
        (True, f"truncated: the ledger ends at seq 70 but WORM copies reach seq 120 (written at {at})"),
    ]


def test_a_request_deleted_and_the_rest_re_signed_with_the_stolen_key_differs_from_the_worm_copies(
        anchored, engine, key, kept):
    last = rechain_without(engine, key, "REQ-5")  # seq 6, 18, ... 114: ten events
    forged = sign_head(key, last, at=kept.head.at + timedelta(seconds=1))  # the checkpoint forged too
    report = check_anchored(anchored.events(), public_key(key), [("checkpoint", forged)], kept.copies)
    assert report.count == 110  # the chain itself is flawless
    first, last_written = format_at(kept.copies[5].written_at), format_at(kept.copies[109].written_at)
    assert [(p.tampered, p.message) for p in report.problems] == [
        (True, f"rewritten at seq 6-110: each differs from its WORM copy (written {first} to {last_written})"),
        (True, f"truncated: the ledger ends at seq 110 but WORM copies reach seq 120 "
               f"(written at {format_at(kept.head.at)})"),
    ]


def test_the_stolen_key_cannot_pass_against_a_checkpoint_written_before(anchored, engine, key, kept):
    old = kept.heads[99]  # the head at seq 100, kept before the theft
    rechain_without(engine, key, "REQ-5")
    assert messages(anchored, key, kept, head=old, copies=False) == [
        (True, f"rewritten at seq 100: differs from the checkpoint written at {format_at(old.at)}")]


def test_a_checkpoint_signed_by_another_key_is_forged(anchored, key, kept):
    head = kept.head
    forged = sign_head(generate_key(), Event(head.seq, head.at, "REQ-0", "a", "b", {}, "0" * 64, head.hash, ""),
                       at=head.at)
    assert messages(anchored, key, kept, head=forged) == [
        (True, "forged checkpoint: its head at seq 120 has a bad signature")]


@pytest.mark.parametrize(("sql", "expected"), [
    ("UPDATE audit_events SET detail = '{\"stage\":\"x\"}' WHERE seq = 40", "ledger tampered at seq 40: hash mismatch"),
    ("UPDATE audit_events SET seq = -seq WHERE seq IN (40, 41); UPDATE audit_events SET seq = 41 WHERE seq = -40; "
     "UPDATE audit_events SET seq = 40 WHERE seq = -41", "ledger tampered at seq 40: hash mismatch"),
    ("DELETE FROM audit_events WHERE seq = 40", "ledger tampered at seq 40: gap in sequence"),
])
def test_edits_reorders_and_deletions_in_the_middle_are_named(anchored, engine, key, kept, sql, expected):
    with engine.begin() as conn:
        for statement in sql.split("; "):
            conn.execute(text(statement))
    problems = messages(anchored, key, kept)
    assert problems[0] == (True, expected)


def test_an_inserted_event_breaks_the_chain_and_differs_from_its_copy(anchored, engine, key, kept):
    with engine.begin() as conn:  # room for one more at seq 61, signed with the stolen key
        conn.execute(text("UPDATE audit_events SET seq = seq + 1000 WHERE seq > 60"))
        conn.execute(text("UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000"))
    prev = next(e for e in anchored.events() if e.seq == 60)
    at = T0 + timedelta(minutes=30)
    digest = event_hash(61, at, "REQ-1", "dsar", "request_closed", {}, prev.hash)
    with engine.begin() as conn:
        conn.execute(insert(events_table).values(
            seq=61, at=format_at(at), request_id="REQ-1", actor="dsar", action="request_closed", detail="{}",
            prev_hash=prev.hash, hash=digest, sig=signing.sign(key, bytes.fromhex(digest)).hex()))
    problems = messages(anchored, key, kept)
    # The event after it was renumbered, so its own hash no longer fits; every copy from 61 on differs.
    assert problems[0] == (True, "ledger tampered at seq 62: hash mismatch")
    assert problems[1] == (True, f"rewritten at seq 120: differs from the checkpoint written at "
                                 f"{format_at(kept.head.at)}")
    assert problems[2][1].startswith("rewritten at seq 61-120: each differs from its WORM copy")
    assert problems[3:] == [
        (False, "no WORM copy of seq 121: an anchor write failed or the copies were enabled later")]


def test_missing_worm_copies_are_a_warning_naming_the_seqs(anchored, key, kept):
    kept.copies = [c for c in kept.copies if c.seq not in (3, 4, 5, 90)]
    assert messages(anchored, key, kept) == [
        (False, "no WORM copy of seq 3-5, 90: an anchor write failed or the copies were enabled later")]


def test_an_anchor_that_fails_leaves_the_event_committed(engine, key, caplog):
    class Broken:
        def record(self, event, head):
            raise OSError("disk full at /secret/path")

    ledger = Ledger(engine, key, [Broken()])
    event = ledger.append_event("REQ-1", "dsar", "request_received", {})
    assert [e.seq for e in ledger.events()] == [event.seq] == [1]
    assert caplog.messages == ["ledger anchor Broken failed at seq 1 (OSError)"]
