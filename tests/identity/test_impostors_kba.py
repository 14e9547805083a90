"""Impostors against knowledge match and manual checks: each case ends with nothing disclosed.

The demo company's subject (Aino Mäkinen) and her neighbour Pekka, whose name,
street, postal code and some orders an impostor next door could know. Nothing
disclosed means: no evidence on the request, the identity stage fails closed,
nothing is staged or extracted, no link or passphrase is mailed.
"""

import contextlib
import itertools
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from flows import stages
from flows.demo.run import prepare_demo, write_demo_config
from flows.errors import InvalidRequest, StageFailed
from flows.knowledge_check import submit_knowledge
from flows.manual_check import record_manual_check
from flows.runtime import open_runtime
from identity.errors import UnknownStaff, VerificationFailed

HETU = "140587-2386"  # a valid identity code (checksum included) of no real person


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("impostors-kba") / "demo")


_windows = itertools.count()


@pytest.fixture
def rt(company):
    demo, _ = company
    rt = open_runtime(write_demo_config(demo, "http://127.0.0.1:9/3.0"))  # never reached
    # Knowledge tries are the subject's over a window of days, and every test here asks for the same subject:
    # each test lives in a window of its own, so the tries one spends are not another's.
    knowledge = rt.config.identity.knowledge
    assert knowledge is not None
    start = datetime.now(UTC) + next(_windows) * timedelta(days=knowledge.lockout_days + 1)
    rt.clock = lambda: start
    return rt


@pytest.fixture
def request_of(rt):
    """Registers a request for an address; closes it after the test."""
    made = []

    def register(email):
        request = stages.register(rt, email, "fi")
        made.append(request.id)
        return request.id

    yield register
    for request_id in made:
        if rt.store.get(request_id).is_open:
            rt.store.set_status(request_id, "closed", rt.clock())


def orders_of(demo, email) -> list[int]:
    with sqlite3.connect(demo.customers_db) as db:
        return [row[0] for row in db.execute(
            "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE lower(c.email) = ? "
            "ORDER BY o.id", (email.lower(),))]


def assert_nothing_disclosed(rt, request_id):
    stored = rt.store.get(request_id)
    assert stored.evidence is None and stored.status != "verified"
    with pytest.raises(StageFailed, match="identity not verified"):
        stages.verify_identity(rt, request_id)
    assert not rt.work_dir(request_id).exists()
    assert rt.store.stage_done(request_id, "identity") is None
    for mail in ("link", "passphrase"):
        assert not rt.mailer.was_sent(f"{request_id}-{mail}")
    assert "identity_verified" not in [e.action for e in rt.ledger.events(request_id)]


def subject_facts(demo) -> dict[str, object]:
    return {"name": demo.subject_name, "phone": demo.subject_phone,
            "order_number": orders_of(demo, demo.subject_email)[-1]}


def test_public_facts_only_never_verify(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    # Everything on the envelope of a letter to her, in every spelling.
    for stated in ({"name": demo.subject_name, "postal_code": "33720"},
                   {"name": demo.subject_name.upper(), "postal_code": " 33 720 "},
                   {"name": demo.subject_name}):
        with pytest.raises(VerificationFailed):
            submit_knowledge(rt, request_id, stated)
    assert_nothing_disclosed(rt, request_id)


def test_a_wrong_order_number_fails_despite_the_right_phone(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, request_id, {**subject_facts(demo), "order_number": "99999"})
    assert_nothing_disclosed(rt, request_id)


def test_an_order_number_of_another_customer_fails(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    neighbours = orders_of(demo, demo.third_party_email)
    assert neighbours and not set(neighbours) & set(orders_of(demo, demo.subject_email))
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, request_id, {**subject_facts(demo), "order_number": f"#{neighbours[0]}"})
    assert_nothing_disclosed(rt, request_id)


def test_a_phone_of_another_customer_fails(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, request_id, {**subject_facts(demo), "phone": demo.third_party_phone})
    assert_nothing_disclosed(rt, request_id)


def test_the_neighbours_own_facts_do_not_open_the_subjects_request(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    # Pekka states his own, true facts on Aino's request: they are checked against her record.
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, request_id, {"name": "Pekka Virtanen", "phone": demo.third_party_phone,
                                          "order_number": orders_of(demo, demo.third_party_email)[0]})
    assert_nothing_disclosed(rt, request_id)


def test_brute_forced_answers_lock_the_method(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    attempts = rt.config.identity.knowledge.attempts
    for guess in range(attempts):
        with pytest.raises(VerificationFailed):
            submit_knowledge(rt, request_id, {**subject_facts(demo), "order_number": 90000 + guess})
    # The right answers after the tries ran out: still no.
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, request_id, subject_facts(demo))
    failures = [e.detail for e in rt.ledger.events(request_id) if e.action == "identity_failed"]
    assert [d["exhausted"] for d in failures] == [False] * attempts + [True]
    assert_nothing_disclosed(rt, request_id)


def test_a_new_request_brings_no_new_guesses(rt, company, request_of):
    """Tries are the subject's over every request of the window: registering again does not reset them."""
    demo, _ = company
    first = request_of(demo.subject_email)
    for guess in range(rt.config.identity.knowledge.attempts):
        with pytest.raises(VerificationFailed):
            submit_knowledge(rt, first, {**subject_facts(demo), "order_number": 80000 + guess})
    rt.store.set_status(first, "closed", rt.clock())
    again = request_of(demo.subject_email)
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, again, subject_facts(demo))
    assert rt.store.get(again).evidence is None
    assert_nothing_disclosed(rt, again)


def test_editing_the_request_store_gives_no_new_tries(rt, company, request_of):
    """Someone who can write the database moves the failed request out of the window and changes its address:
    the tries are counted from the ledger, by a keyed hash of the subject, so nothing comes back."""
    demo, _ = company
    request_id = request_of(demo.subject_email)
    for guess in range(rt.config.identity.knowledge.attempts):
        with pytest.raises(VerificationFailed):
            submit_knowledge(rt, request_id, {**subject_facts(demo), "order_number": 90000 + guess})
    with rt.store.engine.begin() as conn:
        conn.execute(text("UPDATE requests SET received_at = :old, email = 'someone@else.example', status = 'closed' "
                          "WHERE id = :id"), {"id": request_id, "old": rt.clock() - timedelta(days=400)})
    again = request_of(demo.subject_email)
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, again, subject_facts(demo))
    assert rt.store.get(again).evidence is None
    assert_nothing_disclosed(rt, again)


def test_answers_at_the_same_moment_on_many_requests_get_no_more_tries_than_allowed(rt, company, request_of,
                                                                                    monkeypatch):
    import flows.knowledge_check

    demo, _ = company
    attempts, racers = rt.config.identity.knowledge.attempts, 8
    requests = [request_of(demo.subject_email) for _ in range(racers)]
    # Every answer reaches the counting of tries at the same moment: right after the record was read.
    together = threading.Barrier(racers)
    read_record = flows.knowledge_check.known_facts

    def read_then_wait(*args):
        facts = read_record(*args)
        together.wait()
        return facts

    monkeypatch.setattr(flows.knowledge_check, "known_facts", read_then_wait)
    checked: list[bool] = []

    def race(request_id: str, guess: int) -> None:
        with contextlib.suppress(VerificationFailed):
            submit_knowledge(rt, request_id, {**subject_facts(demo), "order_number": 70000 + guess})
        checked.append(True)

    threads = [threading.Thread(target=race, args=(r, i)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == racers
    failures = [e.detail for r in requests for e in rt.ledger.events(r) if e.action == "identity_failed"]
    assert sum(not d["exhausted"] for d in failures) == attempts, "more answers were checked than allowed"
    monkeypatch.setattr(flows.knowledge_check, "known_facts", read_record)
    last = request_of(demo.subject_email)
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, last, subject_facts(demo))
    for request_id in (*requests, last):
        assert_nothing_disclosed(rt, request_id)


def test_an_address_with_no_customer_record_cannot_pass_by_knowledge(rt, company, request_of):
    demo, _ = company
    request_id = request_of("aino.makinen@example.com")  # a look-alike address of no customer
    with pytest.raises(VerificationFailed):
        submit_knowledge(rt, request_id, subject_facts(demo))
    assert_nothing_disclosed(rt, request_id)


def test_an_unknown_staff_id_records_nothing(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    for who in ("mallory", "ANNA.K", "anna.k ", ""):
        with pytest.raises(UnknownStaff) as refused:
            record_manual_check(rt, request_id, "id-document", who, note="passport checked")
        assert str(refused.value) == "unknown staff id: use one listed in [identity] staff_ids of the config"
    assert rt.store.check_notes(request_id) == ()
    assert_nothing_disclosed(rt, request_id)


def test_a_manual_check_for_one_request_does_not_verify_another(rt, company, request_of):
    demo, _ = company
    checked = request_of(demo.subject_email)
    other = request_of(demo.third_party_email)
    record_manual_check(rt, checked, "signed-letter", "ville.n")
    assert rt.store.get(checked).evidence["level"] == "substantial"
    assert_nothing_disclosed(rt, other)
    assert [e.action for e in rt.ledger.events(other)] == ["received", "stage_failed"]


def test_a_note_with_an_identity_code_is_refused_and_kept_nowhere(rt, company, request_of):
    demo, _ = company
    request_id = request_of(demo.subject_email)
    for note in (f"passport ok, hetu {HETU}", f"checked ({HETU})", "ｈｅｔｕ １４０５８７－２３８６"):
        with pytest.raises(InvalidRequest, match="holds an identity code"):
            record_manual_check(rt, request_id, "id-document", "anna.k", note=note)
    assert rt.store.check_notes(request_id) == ()
    assert_nothing_disclosed(rt, request_id)
    # Neither the ledger nor any table of the store holds it.
    with sqlite3.connect(rt.config.base_dir / "dsar.db") as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            rows = repr(db.execute(f"SELECT * FROM {table}").fetchall())
            assert HETU not in rows and "１４０５８７" not in rows, table
