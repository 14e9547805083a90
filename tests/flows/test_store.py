"""The request store on a real SQLite file and on a real PostgreSQL server (as in production)."""

import hashlib
import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from flows.deadlines import DeadlineCalendar, add_months
from flows.errors import InvalidRequest, RequestClosed, RequestNotFound
from flows.store import Extension, Link, RequestStore, RunClaim, make_engine

NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
RECORD_KEY = bytes(range(32))


@pytest.fixture
def rejected() -> list[tuple[str, str]]:
    return []


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, rejected):
    # On PostgreSQL a fresh database of its own, whose time zone is Europe/Helsinki.
    url = f"sqlite:///{tmp_path / 'dsar.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_db")
    engine = make_engine(url)
    yield RequestStore(engine, RECORD_KEY, lambda request_id, kind: rejected.append((request_id, kind)))
    engine.dispose()


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
    # 28 Feb 2026 is a Saturday: due Monday 2 March, to the end of that day in Helsinki (UTC+2).
    assert request.due_at == datetime(2026, 3, 2, 21, 59, 59, 999999, tzinfo=UTC)
    assert store.get(request.id) == request


def test_ids_are_unguessable(store):
    ids = {store.create(f"p{i}@example.fi", "en", NOW).id for i in range(50)}
    assert len(ids) == 50


EVIDENCE = {"method": "email_code", "identifiers": ["email"], "level": "low",
            "verified_at": "2026-01-31T09:30:00.000000Z"}


def test_an_unverified_request_never_makes_another_a_duplicate(store):
    # Anyone can type Aino's address; her own request must still get its own code.
    squatter = store.create("aino@example.fi", "fi", NOW)
    own = store.create("aino@example.fi", "fi", NOW + timedelta(hours=1))
    assert own.status == "received" and own.duplicate_of is None and own.is_open
    assert store.get(squatter.id).is_open


def test_only_a_verified_open_request_makes_a_new_one_a_duplicate(store):
    first = store.create("aino@example.fi", "fi", NOW)
    assert store.save_evidence(first.id, EVIDENCE, NOW).status == "verified"
    second = store.create(" AINO@example.FI", "en", NOW)  # ASCII case is the same subject
    assert second.status == "duplicate" and second.duplicate_of == first.id
    assert not second.is_open


def test_a_look_alike_address_is_another_subject(store):
    first = store.create("aino.makinen@example.fi", "fi", NOW)
    store.save_evidence(first.id, EVIDENCE, NOW)
    kelvin = store.create("aino.ma\u212ainen@example.fi", "fi", NOW)  # str.lower() would make it the same
    assert kelvin.status == "received" and kelvin.duplicate_of is None


def test_a_request_verified_while_another_of_the_subject_is_verified_becomes_its_duplicate(store):
    first, second = (store.create("aino@example.fi", "fi", NOW) for _ in range(2))
    store.save_evidence(first.id, EVIDENCE, NOW)
    again = store.save_evidence(second.id, EVIDENCE, NOW)
    assert again.status == "duplicate" and again.duplicate_of == first.id
    assert again.evidence is not None and {k: again.evidence[k] for k in EVIDENCE} == EVIDENCE


def test_evidence_decided_on_an_old_read_never_overwrites_what_landed_meanwhile(store):
    """Two methods finishing at once: the weaker one, checked against the request as it was, must not win."""
    request = store.create("race@example.fi", "fi", NOW)
    strong = {**EVIDENCE, "method": "manual", "level": "high"}
    store.save_evidence(request.id, strong, NOW)
    with pytest.raises(InvalidRequest, match="changed meanwhile"):
        store.save_evidence(request.id, EVIDENCE, NOW, replaces=None)  # decided before the strong one landed
    held = store.get(request.id).evidence
    assert held is not None and held["level"] == "high"
    upgraded = store.save_evidence(request.id, {**EVIDENCE, "level": "high", "method": "oidc"}, NOW, replaces=held)
    assert upgraded.evidence is not None and upgraded.evidence["method"] == "oidc"


def test_once_delivered_the_subject_may_ask_again(store):
    first = store.create("aino@example.fi", "fi", NOW)
    store.set_status(first.id, "delivered", NOW)
    again = store.create("aino@example.fi", "fi", NOW)
    assert again.status == "received" and again.duplicate_of is None


def test_concurrent_verifications_for_one_subject_leave_exactly_one_verified(store):
    requests = [store.create("race@example.fi", "fi", NOW) for _ in range(8)]
    assert {r.status for r in requests} == {"received"}
    results = []

    def verify(request_id):
        results.append(store.save_evidence(request_id, EVIDENCE, NOW))

    threads = [threading.Thread(target=verify, args=(r.id,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results).count("verified") == 1
    opened = next(r.id for r in results if r.status == "verified")
    assert {r.duplicate_of for r in results if r.status == "duplicate"} == {opened}


def test_unverified_requests_lapse_and_verified_ones_do_not(store):
    old = store.create("old@example.fi", "fi", NOW - timedelta(days=8))
    old_verified = store.create("kept@example.fi", "fi", NOW - timedelta(days=8))
    store.save_evidence(old_verified.id, EVIDENCE, NOW - timedelta(days=7, hours=23))
    recent = store.create("new@example.fi", "fi", NOW - timedelta(days=6))
    assert store.lapse_unverified(NOW - timedelta(days=7), NOW) == (old.id,)
    lapsed = store.get(old.id)
    assert (lapsed.status, lapsed.reason, lapsed.is_open) == ("closed", "lapsed", False)
    assert store.get(old_verified.id).status == "verified" and store.get(recent.id).status == "received"
    assert store.lapse_unverified(NOW - timedelta(days=7), NOW) == ()  # once


def test_evidence_never_reopens_a_lapsed_request(store):
    old = store.create("old@example.fi", "fi", NOW - timedelta(days=8))
    store.lapse_unverified(NOW - timedelta(days=7), NOW)
    with pytest.raises(RequestClosed):
        store.save_evidence(old.id, EVIDENCE, NOW)
    assert store.get(old.id).evidence is None and store.get(old.id).status == "closed"


def test_an_unverified_request_from_an_older_store_does_not_block(store):
    # Before verified-only keys, every open request held its subject's key.
    from flows.store import _subject_key, requests_table

    squatter = store.create("aino@example.fi", "fi", NOW)
    with store.engine.begin() as conn:
        conn.execute(requests_table.update().where(requests_table.c.id == squatter.id)
                     .values(open_key=_subject_key("aino@example.fi")))
    own = store.create("aino@example.fi", "fi", NOW)
    assert store.save_evidence(own.id, EVIDENCE, NOW).status == "verified"


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


def test_times_come_back_as_the_same_instants_whatever_the_servers_time_zone(store):
    # On PostgreSQL the database's time zone is Europe/Helsinki (UTC+2 in winter, +3 in summer).
    summer = datetime(2026, 7, 31, 22, 15, tzinfo=UTC)  # already 1 August in Helsinki
    for now in (NOW, summer):
        request = store.create(f"tz{now.month}@example.fi", "fi", now)
        again = store.get(request.id)
        assert again.received_at == now and again.due_at == DeadlineCalendar().due_at(now)
        assert again.received_at.utcoffset() is not None
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW timezone").scalar() == "Europe/Helsinki"
            stored = conn.exec_driver_sql(
                "SELECT received_at::text FROM requests WHERE email = 'tz7@example.fi'").scalar()
        assert stored == "2026-08-01 01:15:00+03"  # the server really works in Helsinki time


def test_times_read_back_are_in_utc(store):
    # Callers format them as UTC (`dsar request show` prints "%H:%M UTC").
    request = store.get(store.create("utc@example.fi", "fi", NOW).id)
    assert request.received_at.utcoffset() == timedelta(0)
    assert request.due_at.utcoffset() == timedelta(0)


def test_a_failed_or_verified_request_still_holds_the_subject(store):
    first = store.create("aino@example.fi", "fi", NOW)
    store.save_evidence(first.id, EVIDENCE, NOW)
    store.set_status(first.id, "failed", NOW, reason="source marketing unreachable")
    assert store.create("aino@example.fi", "fi", NOW).duplicate_of == first.id
    assert store.get(first.id).reason == "source marketing unreachable"


def test_reset_stages_forgets_only_the_named_stages(store):
    request = store.create("a@example.fi", "fi", NOW)
    other = store.create("b@example.fi", "fi", NOW)
    for stage in ("verify", "extract", "redact"):
        store.complete_stage(request.id, stage, {"stage": stage}, NOW)
    store.complete_stage(other.id, "extract", {}, NOW)
    store.reset_stages(request.id, ["extract", "redact"])
    assert store.stage_done(request.id, "verify") == {"stage": "verify"}
    assert store.stage_done(request.id, "extract") is None and store.stage_done(request.id, "redact") is None
    assert store.stage_done(other.id, "extract") == {}
    store.complete_stage(request.id, "extract", {"records": 2}, NOW)  # a re-run completes it again
    assert store.stage_done(request.id, "extract") == {"records": 2}


def test_swap_challenge_replaces_only_the_expected_value(store):
    request = store.create("a@example.fi", "fi", NOW)
    assert store.get_challenge(request.id) is None
    store.put_challenge(request.id, {"tries": 3, "hash": "x"})
    assert store.swap_challenge(request.id, {"hash": "x", "tries": 3}, {"tries": 2, "hash": "x"})
    assert not store.swap_challenge(request.id, {"tries": 3, "hash": "x"}, {"tries": 2, "hash": "x"})
    assert store.get_challenge(request.id) == {"tries": 2, "hash": "x"}
    store.delete_challenge(request.id)
    assert store.get_challenge(request.id) is None
    assert not store.swap_challenge(request.id, {"tries": 2, "hash": "x"}, {"tries": 1, "hash": "x"})


def test_concurrent_guesses_spend_one_try_each(store):
    request = store.create("a@example.fi", "fi", NOW)
    store.put_challenge(request.id, {"tries": 3})
    won = []
    barrier = threading.Barrier(8)

    def guess():
        barrier.wait()
        won.append(store.swap_challenge(request.id, {"tries": 3}, {"tries": 2}))

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won.count(True) == 1
    assert store.get_challenge(request.id) == {"tries": 2}


def _edit(store, table: str, column: str, request_id: str, change) -> None:
    """What someone with write access to the database does: rewrite a stored JSON value."""
    key = "id" if table == "requests" else "request_id"
    with store.engine.begin() as conn:
        value = conn.execute(text(f"SELECT {column} FROM {table} WHERE {key} = :id"), {"id": request_id}).scalar_one()
        conn.execute(text(f"UPDATE {table} SET {column} = :v WHERE {key} = :id"),
                     {"v": json.dumps(change(json.loads(value))), "id": request_id})


def test_evidence_is_bound_to_its_request_and_the_email_on_record(store, rejected):
    request = store.create("a@example.fi", "fi", NOW)
    store.save_evidence(request.id, {"method": "email_code", "level": "low"}, NOW)
    evidence = store.get(request.id).evidence
    assert evidence == {"method": "email_code", "level": "low", "request_id": request.id,
                        "email_sha256": hashlib.sha256(b"a@example.fi").hexdigest()}
    assert rejected == []


@pytest.mark.parametrize("edit", [
    lambda e: {**e, "level": "high"},
    lambda e: {**e, "email_sha256": "0" * 64},
    lambda e: {k: v for k, v in e.items() if k != "mac"},
])
def test_edited_evidence_reads_as_none_and_is_reported(store, rejected, edit):
    request = store.create("a@example.fi", "fi", NOW)
    store.save_evidence(request.id, {"method": "email_code", "level": "low"}, NOW)
    _edit(store, "requests", "evidence", request.id, edit)
    assert store.get(request.id).evidence is None
    assert rejected == [(request.id, "evidence")]


def test_evidence_copied_to_another_request_reads_as_none(store, rejected):
    a = store.create("a@example.fi", "fi", NOW)
    b = store.create("b@example.fi", "fi", NOW)
    store.save_evidence(a.id, {"method": "email_code", "level": "low"}, NOW)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE requests SET evidence = (SELECT evidence FROM requests WHERE id = :a) "
                          "WHERE id = :b"), {"a": a.id, "b": b.id})
    assert store.get(b.id).evidence is None
    assert store.get(a.id).evidence is not None
    assert rejected == [(b.id, "evidence")]


def test_a_challenge_with_its_tries_reset_reads_as_none(store, rejected):
    request = store.create("a@example.fi", "fi", NOW)
    store.put_challenge(request.id, {"attempts_left": 1})
    _edit(store, "identity_challenges", "challenge", request.id, lambda c: {**c, "attempts_left": 5})
    assert store.get_challenge(request.id) is None
    assert not store.swap_challenge(request.id, {"attempts_left": 5}, {"attempts_left": 4})
    assert rejected == [(request.id, "challenge")]


def _claim(request_id: str, run_id: str, at: datetime, lease: timedelta = timedelta(seconds=60)) -> RunClaim:
    return RunClaim(request_id, run_id, "host-1", 4242, "123456", at + lease)


def test_one_run_at_a_time_holds_a_request(store):
    request = store.create("run@example.fi", "fi", NOW)
    second = timedelta(seconds=1)
    assert store.claim_run(_claim(request.id, "run-a", NOW), NOW)
    assert not store.claim_run(_claim(request.id, "run-b", NOW + 59 * second), NOW + 59 * second)
    assert store.renew_run(request.id, "run-a", NOW + 90 * second), "the holder renews"
    assert not store.renew_run(request.id, "run-b", NOW + 90 * second), "only the holder renews"
    assert not store.claim_run(_claim(request.id, "run-b", NOW + 89 * second), NOW + 89 * second)
    assert store.claim_run(_claim(request.id, "run-b", NOW + 91 * second), NOW + 91 * second), \
        "a crashed run's claim lapses"
    assert store.run_claim(request.id) == _claim(request.id, "run-b", NOW + 91 * second)
    assert not store.renew_run(request.id, "run-a", NOW + 92 * second), "the old holder learns it lost the claim"
    assert not store.release_run(request.id, "run-a"), "not the holder any more: changes nothing"
    assert not store.claim_run(_claim(request.id, "run-a", NOW + 92 * second), NOW + 92 * second)
    assert store.claim_run(_claim(request.id, "run-c", NOW + 92 * second), NOW + 92 * second, replacing="run-b"), \
        "a run the caller found gone is replaced at once"
    assert store.run_claims() == {request.id: _claim(request.id, "run-c", NOW + 92 * second)}
    assert store.release_run(request.id, "run-c")
    assert store.run_claim(request.id) is None and store.run_claims() == {}
    assert store.claim_run(_claim(request.id, "run-a", NOW + 93 * second), NOW + 93 * second)


def _link(request_id: str, jti: str = "jti-1", downloads: int = 3) -> Link:
    return Link(jti=jti, request_id=request_id, object_key=f"{request_id}/{request_id}.zip.age",
                package_sha256="ab" * 32, issued_at=NOW, expires_at=NOW + timedelta(days=7), downloads_left=downloads)


def test_a_link_is_spent_download_by_download_until_none_is_left(store):
    request = store.create("link@example.fi", "fi", NOW)
    store.add_link(_link(request.id))
    store.add_link(_link(request.id))  # a resumed delivery records the same link again: no second row
    assert store.links_of(request.id) == (_link(request.id),)
    left = [store.take_download("jti-1", NOW + timedelta(hours=n)) for n in range(4)]
    assert [taken.downloads_left if taken else None for taken in left] == [2, 1, 0, None]
    assert store.take_download("no-such-link", NOW) is None


def test_an_expired_or_revoked_link_gives_nothing(store):
    first = store.create("expiry@example.fi", "fi", NOW)
    store.add_link(_link(first.id, "a"))
    expires = NOW + timedelta(days=7)
    assert store.take_download("a", expires) is None, "valid while now < expires_at, not at it"
    assert store.take_download("a", expires - timedelta(seconds=1)) is not None
    store.add_link(_link(first.id, "b"))
    assert store.revoke_links(first.id, NOW) == 2
    assert store.revoke_links(first.id, NOW) == 0, "revoking twice counts nothing new"
    assert store.take_download("b", NOW) is None
    assert all(link.revoked_at == NOW and not link.is_live(NOW) for link in store.links_of(first.id))


def test_downloads_at_the_same_moment_never_exceed_the_limit(store):
    request = store.create("race@example.fi", "fi", NOW)
    store.add_link(_link(request.id, downloads=5))
    taken = []

    def download():
        taken.append(store.take_download("jti-1", NOW))

    threads = [threading.Thread(target=download) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(t.downloads_left for t in taken if t is not None) == [0, 1, 2, 3, 4]
    assert store.links_of(request.id)[0].downloads_left == 0


def test_a_store_made_before_further_identifiers_gains_their_table(store):
    """`create_all` adds the new table to a live store; nothing else changes."""
    request = store.create("aino@example.fi", "fi", NOW)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE request_identifiers"))
    reopened = RequestStore(store.engine, RECORD_KEY)
    assert reopened.get(request.id).email == "aino@example.fi"
    assert reopened.add_identifier(request.id, "email", "aino@tyo.example", NOW)
    assert not reopened.add_identifier(request.id, "email", "aino@tyo.example", NOW)  # named once
    [named] = reopened.identifiers(request.id)
    assert (named.kind, named.value, named.verified_at) == ("email", "aino@tyo.example", None)


def test_an_identifier_challenge_is_swapped_only_while_it_is_what_the_caller_read(store):
    request = store.create("aino@example.fi", "fi", NOW)
    store.add_identifier(request.id, "phone", "+358401112233", NOW)
    store.put_identifier_challenge(request.id, "phone", "+358401112233", {"attempts_left": 5})
    read = store.identifier_challenge(request.id, "phone", "+358401112233")
    assert read == {"attempts_left": 5}
    assert store.swap_identifier_challenge(request.id, "phone", "+358401112233", read, {"attempts_left": 4})
    assert not store.swap_identifier_challenge(request.id, "phone", "+358401112233", read, {"attempts_left": 4})
    store.verify_identifier(request.id, "phone", "+358401112233", NOW)
    assert store.identifier_challenge(request.id, "phone", "+358401112233") is None  # a code verifies once
    assert store.identifiers(request.id)[0].verified_at == NOW
    with pytest.raises(InvalidRequest, match="names no such identifier"):
        store.put_identifier_challenge(request.id, "email", "x@example.fi", {"attempts_left": 5})


def test_an_extension_is_recorded_once_and_keeps_its_reason_as_typed(store):
    request = store.create("jatko@example.fi", "fi", NOW)
    extended_to = store.calendar.due_at(NOW, 3)
    reason = "Pyyntö koskee laajaa aineistoa: sähköpostit ja äänitallenteet"
    store.extend(request.id, Extension(NOW, 2, reason), extended_to)
    again = store.get(request.id)
    assert again.extended_to == again.deadline == extended_to
    assert store.extension(request.id) == Extension(NOW, 2, reason)
    with pytest.raises(InvalidRequest, match="was extended or closed meanwhile"):
        store.extend(request.id, Extension(NOW, 1, "toinen"), store.calendar.due_at(NOW, 2))
    assert store.extension(request.id) == Extension(NOW, 2, reason)
    closed = store.create("suljettu@example.fi", "fi", NOW)
    store.set_status(closed.id, "closed", NOW, reason="withdrawn")
    with pytest.raises(InvalidRequest):
        store.extend(closed.id, Extension(NOW, 1, "x"), extended_to)
    assert store.extension(closed.id) is None and store.get(closed.id).extended_to is None


def test_of_extensions_at_once_one_wins(store):
    request = store.create("kilpa@example.fi", "fi", NOW)
    won: list[int] = []
    barrier = threading.Barrier(4)

    def extend(months: int) -> None:
        barrier.wait()
        try:
            store.extend(request.id, Extension(NOW, months, f"syy {months}"), store.calendar.due_at(NOW, 1 + months))
            won.append(months)
        except InvalidRequest:
            pass

    threads = [threading.Thread(target=extend, args=(1 + i % 2,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [months] = won
    assert store.extension(request.id) == Extension(NOW, months, f"syy {months}")
    assert store.get(request.id).extended_to == store.calendar.due_at(NOW, 1 + months)
