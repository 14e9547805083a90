import itertools
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from audit.event import ZERO_HASH, event_hash
from audit.ledger import Ledger
from audit.signing import encode_key, generate_key, public_key
from audit.verify import verify_ledger

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_first_event_starts_the_chain(ledger):
    event = ledger.append_event("REQ-1", "cli", "request_received", {"language": "fi"}, at=T0)
    assert event.seq == 1
    assert event.prev_hash == ZERO_HASH
    assert event.at == T0
    assert len(event.hash) == 64 and len(event.sig) == 128


def test_events_link_by_hash(filled):
    events = list(filled.events())
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash


def test_hash_is_sha256_of_canonical_json(ledger):
    import hashlib
    import json

    event = ledger.append_event("REQ-1", "cli", "opened", {"b": 1, "a": [1.5, None, True]}, at=T0)
    body = {
        "seq": 1, "at": "2025-03-01T09:30:00.000000Z", "request_id": "REQ-1", "actor": "cli",
        "action": "opened", "detail": {"a": [1.5, None, True], "b": 1}, "prev_hash": "0" * 64,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert event.hash == hashlib.sha256(text.encode()).hexdigest()


def test_stored_events_equal_returned_events(ledger):
    appended = ledger.append_event("REQ-1", "cli", "x", {"n": (1, 2)}, at=T0)
    (stored,) = ledger.events()
    assert stored == appended
    assert stored.detail == {"n": [1, 2]}


def test_non_utc_time_is_stored_as_utc(ledger):
    helsinki = timezone(timedelta(hours=2))
    event = ledger.append_event("REQ-1", "cli", "x", {}, at=datetime(2025, 3, 1, 11, 30, tzinfo=helsinki))
    assert event.at == T0
    assert next(ledger.events()).at == T0


def test_naive_time_is_refused(ledger):
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.append_event("REQ-1", "cli", "x", {}, at=datetime(2025, 3, 1))


def test_filter_by_request(filled):
    assert [e.seq for e in filled.events("REQ-1")] == [1, 3, 5]
    assert [e.seq for e in filled.events("REQ-2")] == [2, 4, 6]
    assert list(filled.events("REQ-9")) == []


def test_events_from_a_seq(filled):
    assert [e.seq for e in filled.events(from_seq=4)] == [4, 5, 6]
    assert [e.seq for e in filled.events("REQ-1", from_seq=2)] == [3, 5]
    assert list(filled.events(from_seq=7)) == []


def test_events_page_through_long_ledgers(ledger, monkeypatch):
    import audit.ledger

    monkeypatch.setattr(audit.ledger, "_PAGE", 3)
    for i in range(8):
        ledger.append_event(f"REQ-{i % 2}", "cli", "x", {"i": i}, at=T0)
    assert [e.seq for e in ledger.events()] == list(range(1, 9))
    assert [e.seq for e in ledger.events("REQ-1")] == [2, 4, 6, 8]


def test_creates_only_its_own_table(engine, key):
    Ledger(engine, key)
    Ledger(engine, key)  # idempotent on an existing database
    assert inspect(engine).get_table_names() == ["audit_events"]


def test_reopened_ledger_continues_the_chain(engine, key, filled):
    again = Ledger(engine, key)
    event = again.append_event("REQ-1", "cli", "closed", {}, at=T0)
    assert event.seq == 7
    assert verify_ledger(again.events(), public_key(key)) == 7


def test_read_only_ledger_reads_but_cannot_append(engine, filled):
    reader = Ledger(engine)
    assert len(list(reader.events())) == 6
    with pytest.raises(ValueError, match="signing key"):
        reader.append_event("REQ-1", "cli", "x", {})


def test_malformed_signing_key_is_refused(engine):
    with pytest.raises(ValueError, match="32 raw bytes"):
        Ledger(engine, b"short")


@pytest.mark.parametrize(
    ("detail", "where"),
    [
        ({"requester": "matti.meikalainen@example.fi"}, "detail.requester"),
        ({"phone": "+358 40 123 4567"}, "detail.phone"),
        ({"note": "Asiakas soitti, ja kertoi osoitteensa."}, "detail.note"),
        ({"note": "x" * 201}, "detail.note"),
        ({"to": ["crm", "a@b.fi"]}, r"detail.to\[1\]"),
        ({"who": {"email": "a@b.fi"}}, "detail.who.email"),
        ({"blob": b"bytes"}, "detail.blob"),
        ({"when": datetime(2025, 1, 1, tzinfo=UTC)}, "detail.when"),
        ({"ratio": float("nan")}, "detail.ratio"),
    ],
)
def test_personal_or_unknown_detail_is_refused(ledger, detail, where):
    with pytest.raises(ValueError, match=where) as caught:
        ledger.append_event("REQ-1", "cli", "x", detail)
    assert "@" not in str(caught.value)
    assert list(ledger.events()) == []


def test_personal_detail_key_is_refused_without_echo(ledger):
    with pytest.raises(ValueError, match="key number 2") as caught:
        ledger.append_event("REQ-1", "cli", "x", {"ok": 1, "anna@example.fi": 1})
    assert "anna" not in str(caught.value)


@pytest.mark.parametrize("field", ["request_id", "actor", "action"])
@pytest.mark.parametrize("value", ["anna@example.fi", "", "has space", "x" * 101])
def test_names_are_validated(ledger, field, value):
    names = {"request_id": "REQ-1", "actor": "cli", "action": "x"}
    names[field] = value
    with pytest.raises(ValueError, match=field) as caught:
        ledger.append_event(names["request_id"], names["actor"], names["action"], {})
    if value:
        assert value not in str(caught.value)


def test_safe_detail_is_accepted(ledger):
    detail = {
        "source": "support_mail",
        "records": 12,
        "ratio": 0.25,
        "complete": True,
        "reason": None,
        "sha256": "ab" * 32,
        "path": "data/crm/orders.json",
        "counts": {"email": 3, "phone": 1},
        "withheld": ["msg:17", "msg:18"],
    }
    event = ledger.append_event("REQ-2025-0001", "staff:privacy_officer", "redacted", detail)
    assert event.detail == detail


def test_concurrent_appends_are_gapless(ledger, key):
    errors = []

    def worker(n):
        try:
            for i in range(50):
                ledger.append_event(f"REQ-{n}", f"thread:{n}", "tick", {"i": i})
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events = list(ledger.events())
    assert [e.seq for e in events] == list(range(1, 201))
    assert verify_ledger(events, public_key(key)) == 200
    for n in range(4):
        assert [e.detail["i"] for e in ledger.events(f"REQ-{n}")] == list(range(50))


def test_separate_instances_race_and_retry(tmp_path, key):
    """Two instances share no lock: the seq primary key and the retry keep the chain linear."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engines = [create_engine(url, connect_args={"timeout": 30}) for _ in range(2)]
    ledgers = [Ledger(e, key) for e in engines]
    errors = []

    def worker(ledger, n):
        try:
            for i in range(25):
                ledger.append_event("REQ-1", f"worker:{n}", "tick", {"i": i})
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(ledgers[n % 2], n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert errors == []
    reader = Ledger(create_engine(url))
    assert verify_ledger(reader.events(), public_key(key)) == 100


def test_event_hash_covers_every_field():
    base: dict[str, Any] = dict(
        seq=1, at=T0, request_id="REQ-1", actor="a", action="b", detail={"k": 1}, prev_hash=ZERO_HASH,
    )
    reference = event_hash(**base)
    changes: dict[str, Any] = dict(
        seq=2, at=T0 + timedelta(microseconds=1), request_id="REQ-2", actor="c", action="d",
        detail={"k": 2}, prev_hash="1" * 64,
    )
    for field, value in changes.items():
        assert event_hash(**{**base, field: value}) != reference, field


def test_chain_continues_across_instances(engine, tmp_path):
    first = Ledger(engine, generate_key()).append_event("REQ-1", "cli", "x", {}, at=T0)
    other_engine = create_engine(engine.url)
    second = Ledger(other_engine, generate_key()).append_event("REQ-1", "cli", "x", {}, at=T0)
    other_engine.dispose()
    assert second.seq == 2 and second.prev_hash == first.hash


_APPENDER = """
import sys
from sqlalchemy import create_engine
from audit.ledger import Ledger
from audit.signing import load_private_key
ledger = Ledger(create_engine(sys.argv[1], connect_args={"timeout": 30}), load_private_key(sys.argv[2]))
for i in range(40):
    ledger.append_event("REQ-1", "proc:" + sys.argv[3], "tick", {"i": i})
"""


def test_separate_processes_append_gaplessly(tmp_path, key):
    url = f"sqlite:///{tmp_path / 'procs.db'}"
    Ledger(create_engine(url), key)  # create the table before the race
    procs = [
        subprocess.Popen([sys.executable, "-c", _APPENDER, url, encode_key(key), str(n)]) for n in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    engine = create_engine(url)
    assert verify_ledger(Ledger(engine).events(), public_key(key)) == 120
    engine.dispose()
