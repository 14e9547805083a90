"""The request store on a real SQLite file."""

import re
import threading
from datetime import UTC, datetime

import pytest

from flows.deadlines import add_months
from flows.errors import InvalidRequest, RequestNotFound
from flows.store import RequestStore, make_engine

NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    return RequestStore(make_engine(f"sqlite:///{tmp_path / 'dsar.db'}"))


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 15, tzinfo=UTC)),
        (datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC)),
    ],
)
def test_due_one_calendar_month_after_receipt(received, due):
    assert add_months(received, 1) == due


def test_a_new_request_is_received_and_due_in_a_month(store):
    request = store.create("Aino.Makinen@Example.fi", "fi", NOW, name="Aino Mäkinen")
    assert re.fullmatch(r"REQ-[A-Z2-7]{16}", request.id)
    assert request.status == "received" and request.is_open
    assert request.received_at == NOW
    assert request.due_at == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert store.get(request.id) == request


def test_ids_are_unguessable(store):
    ids = {store.create(f"p{i}@example.fi", "en", NOW).id for i in range(50)}
    assert len(ids) == 50


def test_a_second_open_request_for_the_same_subject_is_a_duplicate(store):
    first = store.create("aino@example.fi", "fi", NOW)
    second = store.create(" AINO@example.FI", "en", NOW)
    assert second.status == "duplicate" and second.duplicate_of == first.id
    assert not second.is_open


def test_once_delivered_the_subject_may_ask_again(store):
    first = store.create("aino@example.fi", "fi", NOW)
    store.set_status(first.id, "delivered", NOW)
    again = store.create("aino@example.fi", "fi", NOW)
    assert again.status == "received" and again.duplicate_of is None


def test_concurrent_requests_for_one_subject_open_exactly_one(store):
    results = []

    def ask():
        results.append(store.create("race@example.fi", "fi", NOW))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results).count("received") == 1
    opened = next(r.id for r in results if r.status == "received")
    assert {r.duplicate_of for r in results if r.status == "duplicate"} == {opened}


def test_bad_input_is_refused(store):
    with pytest.raises(InvalidRequest, match="language"):
        store.create("a@example.fi", "sv", NOW)
    with pytest.raises(InvalidRequest, match="email"):
        store.create("not an address", "fi", NOW)
    with pytest.raises(RequestNotFound):
        store.get("REQ-NOPE")
    with pytest.raises(RequestNotFound):
        store.set_status("REQ-NOPE", "failed", NOW)


def test_stages_complete_once(store):
    request = store.create("a@example.fi", "fi", NOW)
    assert store.stage_done(request.id, "redact") is None
    store.complete_stage(request.id, "redact", {"emails_replaced": 3}, NOW)
    assert store.stage_done(request.id, "redact") == {"emails_replaced": 3}
