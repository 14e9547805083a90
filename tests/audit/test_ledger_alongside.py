"""An event and the caller's own writes in one transaction: both commit or neither, races retried whole."""

import threading

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from audit.errors import LedgerBusy
from audit.ledger import Ledger
from audit.signing import generate_key, public_key
from audit.verify import verify_ledger

_metadata = MetaData()
records = Table("records", _metadata, Column("id", String(20), primary_key=True), Column("n", Integer))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("postgres_db")


@pytest.fixture
def engine(url):
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    _metadata.create_all(engine)
    yield engine
    engine.dispose()


def _record(name, n=0):
    return lambda conn: conn.execute(insert(records).values(id=name, n=n))


def _count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(records)).scalar_one()


def test_the_callers_write_commits_with_the_event(engine, key):
    ledger = Ledger(engine, key)
    event = ledger.append_event("REQ-1", "dsar", "package_done", {"files": 3}, alongside=_record("a", 1))
    assert [e.hash for e in ledger.events()] == [event.hash]
    with engine.connect() as conn:
        assert conn.execute(select(records.c.id, records.c.n)).all() == [("a", 1)]


def test_a_failed_event_takes_the_callers_write_with_it(engine, key, url):
    ledger = Ledger(engine, key)
    ledger.append_event("REQ-1", "dsar", "received", {})
    # The database refuses the event itself (here a trigger; in life a full disk, a lost connection).
    with engine.begin() as conn:
        if url.startswith("sqlite"):
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON audit_events WHEN NEW.action = 'package_done' "
                              "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            conn.execute(text("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.action = 'package_done' "
                              "THEN RAISE unique_violation; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON audit_events FOR EACH ROW "
                              "EXECUTE FUNCTION refuse()"))
    calls = []

    def write(conn):
        calls.append(1)
        _record("a")(conn)

    with pytest.raises(IntegrityError):
        ledger.append_event("REQ-1", "dsar", "package_done", {"files": 3}, alongside=write)
    assert _count(engine) == 0, "the record committed without its event"
    assert [e.action for e in ledger.events()] == ["received"]
    assert calls == [1], "a refusal that is no seq race was retried"


def test_a_failed_write_appends_no_event(engine, key):
    ledger = Ledger(engine, key)
    ledger.append_event("REQ-1", "dsar", "x", {}, alongside=_record("a"))
    with pytest.raises(IntegrityError):  # the caller's own constraint: the same record twice
        ledger.append_event("REQ-1", "dsar", "y", {}, alongside=_record("a"))
    assert [e.action for e in ledger.events()] == ["x"]


def test_racing_instances_retry_the_whole_transaction(engine, url, key):
    """Four instances share no lock: each lost race for a seq is retried with its write, never half of it."""
    engines = [create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {}) for _ in range(4)]
    ledgers = [Ledger(e, key) for e in engines]
    errors = []

    def worker(n):
        try:
            for i in range(25):
                ledgers[n].append_event("REQ-1", f"worker:{n}", "tick", {"record": f"{n}-{i}"},
                                        alongside=_record(f"{n}-{i}", i))
        except (IntegrityError, LedgerBusy) as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert errors == []
    events = list(Ledger(engine).events())
    assert verify_ledger(events, public_key(key)) == 100
    with engine.connect() as conn:
        stored = set(conn.execute(select(records.c.id)).scalars())
    assert stored == {e.detail["record"] for e in events} and len(stored) == 100


@pytest.fixture
def key():
    return generate_key()
