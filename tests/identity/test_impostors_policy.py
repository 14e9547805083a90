"""Impostors against levels of assurance and the sealed identity records: every case ends with nothing disclosed.

Each attacker gets as far as an email code, a copy of the database, or write
access to it; the real demo company, its SQLite store and the outbox are the
parts under attack. "Nothing disclosed" means no link or passphrase mail, no
link row, no package stage and no extracted records for the request attacked.
"""

import re
import zipfile

import pytest
from sqlalchemy import text

from flows import stages
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.errors import StageFailed
from flows.notify import Outbox
from flows.runtime import Runtime, open_runtime
from identity.errors import AlreadyVerified, IdentityNotVerified, VerificationFailed
from tests.flows.assurance import (
    copy_evidence,
    counting_server,
    disclosed,
    edit_json,
    policy_config,
    run_through,
    set_email,
)

ATTACKER = "attacker@evil.example"


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    demo, _ = prepare_demo(tmp_path_factory.mktemp("impostors-policy") / "demo")
    return demo


@pytest.fixture(scope="module")
def marketing(company):
    with counting_server() as server:
        yield server


@pytest.fixture
def opened():
    made: list[tuple[Runtime, str]] = []

    def register(rt: Runtime, email: str) -> str:
        request = stages.register(rt, email, "en")
        assert request.duplicate_of is None
        made.append((rt, request.id))
        return request.id

    yield register
    for rt, request_id in made:
        if rt.store.get(request_id).is_open:
            stages.close(rt, request_id, "test done")


def runtime(company, marketing, name, levels=None, minimum="low") -> Runtime:
    return open_runtime(policy_config(write_demo_config(company, marketing.url), name, levels or {}, minimum))


def mailed_code(rt: Runtime, key: str) -> str:
    mailer = rt.mailer
    assert isinstance(mailer, Outbox)
    found = re.search(r"\b(\d{8})\b", mailer.read(key))
    assert found is not None
    return found.group(1)


def rejections(rt: Runtime, request_id: str) -> list[str]:
    return [e.detail["record"] for e in rt.ledger.events(request_id) if e.action == "identity_record_rejected"]


def test_an_email_code_never_reads_a_source_that_needs_substantial(company, marketing, opened):
    # The attacker controls the victim's mailbox for a moment: a code is all they have.
    rt = runtime(company, marketing, "customers-substantial.toml", {"customers": "substantial", "marketing": "high"})
    request_id = opened(rt, company.subject_email)
    verify_by_outbox(rt, request_id)
    hits = marketing.hits
    run_through(rt, request_id, until="package")
    with zipfile.ZipFile(rt.work_dir(request_id) / f"{request_id}.zip") as package:
        names = package.namelist()
    assert not [n for n in names if "/customers/" in n or "/marketing/" in n]
    assert not (rt.work_dir(request_id) / "extracted" / "customers.jsonl").exists()
    assert marketing.hits == hits
    skipped = {s: (rt.store.stage_done(request_id, f"extract:{s}") or {}).get("skipped")
               for s in ("customers", "marketing")}
    assert skipped == {"customers": "identity level low below substantial",
                       "marketing": "identity level low below high"}


def test_a_level_raised_in_the_database_is_rejected(company, marketing, opened):
    rt = runtime(company, marketing, "minimum-substantial.toml", minimum="substantial")
    request_id = opened(rt, company.subject_email)
    verify_by_outbox(rt, request_id)
    edit_json(rt, "requests", "evidence", request_id, lambda e: {**e, "level": "high"})
    with pytest.raises(StageFailed, match="identity not verified"):
        run_through(rt, request_id)
    assert rt.store.get(request_id).evidence is None
    assert disclosed(rt, request_id) == []
    assert "evidence" in rejections(rt, request_id)


@pytest.mark.parametrize("also_rewrite_request_id", [False, True])
def test_evidence_copied_from_the_attackers_request_never_satisfies_the_victims(
        company, marketing, opened, also_rewrite_request_id):
    rt = runtime(company, marketing, "all-low.toml", {"marketing": "substantial"})
    own = opened(rt, ATTACKER)
    verify_by_outbox(rt, own)  # the attacker proves their own address
    victim = opened(rt, company.subject_email)
    copy_evidence(rt, own, victim)
    if also_rewrite_request_id:
        edit_json(rt, "requests", "evidence", victim, lambda e: {**e, "request_id": victim})
    with pytest.raises(StageFailed, match="identity not verified"):
        run_through(rt, victim)
    assert disclosed(rt, victim) == []
    assert "evidence" in rejections(rt, victim)


@pytest.mark.parametrize("how", ["edited", "older copy put back"])
def test_a_challenge_given_its_tries_back_in_the_database_grants_nothing(company, marketing, opened, how):
    rt = runtime(company, marketing, "all-low.toml", {"marketing": "substantial"})
    request_id = opened(rt, company.subject_email)
    key = stages.send_code(rt, request_id)
    with rt.store.engine.connect() as conn:
        fresh = conn.execute(text("SELECT challenge FROM identity_challenges WHERE request_id = :id"),
                             {"id": request_id}).scalar_one()
    for _ in range(5):  # the attacker guesses until the code is used up
        with pytest.raises(VerificationFailed):
            stages.submit_code(rt, request_id, "00000000")
    if how == "edited":
        edit_json(rt, "identity_challenges", "challenge", request_id, lambda c: {**c, "attempts_left": 5})
    else:
        with rt.store.engine.begin() as conn:
            conn.execute(text("UPDATE identity_challenges SET challenge = :c WHERE request_id = :id"),
                         {"c": fresh, "id": request_id})
    # Even the right code (the attacker's lucky guess) verifies nothing now.
    with pytest.raises((VerificationFailed, IdentityNotVerified)):
        stages.submit_code(rt, request_id, mailed_code(rt, key))
    assert rt.store.get(request_id).evidence is None
    with pytest.raises(StageFailed, match="identity not verified"):
        run_through(rt, request_id)
    assert disclosed(rt, request_id) == []
    assert "challenge" in rejections(rt, request_id)


@pytest.mark.parametrize("when", ["before the run", "before delivery"])
def test_a_changed_delivery_address_stops_the_request(company, marketing, opened, when):
    rt = runtime(company, marketing, "all-low.toml", {"marketing": "substantial"})
    if when == "before the run":
        # The attacker verifies their own address, then points the request at the victim's.
        request_id = opened(rt, ATTACKER)
        verify_by_outbox(rt, request_id)
        set_email(rt, request_id, company.subject_email)
        with pytest.raises(StageFailed, match="email on record changed"):
            run_through(rt, request_id)
        assert disclosed(rt, request_id) == []
    else:
        # The victim verifies; the address on record is switched to the attacker's before the package goes out.
        request_id = opened(rt, company.subject_email)
        verify_by_outbox(rt, request_id)
        run_through(rt, request_id, until="package")
        set_email(rt, request_id, ATTACKER)
        with pytest.raises(StageFailed, match="email on record changed"):
            stages.encrypt_and_store(rt, request_id)
        with pytest.raises(StageFailed, match="email on record changed"):
            stages.deliver(rt, request_id)
        assert rt.store.links_of(request_id) == ()
        assert [p.name for p in (rt.config.base_dir / "outbox").glob(f"{request_id}-*") if "-code-" not in p.name] == []
    outbox = rt.config.base_dir / "outbox"
    assert not any(ATTACKER.encode() in p.read_bytes() for p in outbox.glob(f"{request_id}-*")
                   if "-code-" not in p.name)


def test_a_replayed_code_gains_nothing_here_or_on_another_request(company, marketing, opened):
    rt = runtime(company, marketing, "all-low.toml", {"marketing": "substantial"})
    own = opened(rt, ATTACKER)
    code = mailed_code(rt, stages.send_code(rt, own))
    stages.submit_code(rt, own, code)
    before = rt.store.get(own)
    with pytest.raises(AlreadyVerified, match="already verified"):
        stages.submit_code(rt, own, code)
    assert rt.store.get(own) == before
    victim = opened(rt, company.subject_email)
    stages.send_code(rt, victim)
    with pytest.raises(VerificationFailed):
        stages.submit_code(rt, victim, code)  # a code for the attacker's request typed into the victim's
    assert rt.store.get(victim).evidence is None
    with pytest.raises(StageFailed, match="identity not verified"):
        run_through(rt, victim)
    assert disclosed(rt, victim) == []
