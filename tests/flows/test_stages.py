"""Stages without Prefect: failing closed, failing without personal data, resuming."""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
from flows.errors import RequestClosed, StageFailed
from flows.runtime import open_runtime
from identity.errors import VerificationFailed


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("stages") / "demo")


@pytest.fixture
def rt(company):
    demo, _ = company
    # No Mailchimp endpoint listens on port 9: the marketing source is unreachable.
    return open_runtime(write_demo_config(demo, "http://127.0.0.1:9/3.0"))


@pytest.fixture
def request_id(rt, company):
    demo, _ = company
    request = stages.register(rt, demo.subject_email, "fi", name=demo.subject_name)
    yield request.id
    rt.store.set_status(request.id, "closed", rt.clock())


def test_without_verified_identity_nothing_is_extracted(rt, request_id):
    with pytest.raises(StageFailed, match="identity not verified"):
        stages.verify_identity(rt, request_id)
    assert rt.store.get(request_id).status == "failed"
    assert not rt.work_dir(request_id).exists()


def test_a_wrong_code_spends_a_try_and_discloses_nothing(rt, request_id):
    stages.send_code(rt, request_id)
    for tries_left in (4, 3):
        with pytest.raises(VerificationFailed):
            stages.submit_code(rt, request_id, "00000000")
        assert rt.store.get_challenge(request_id)["attempts_left"] == tries_left
    assert rt.store.get(request_id).evidence is None
    failures = [e for e in rt.ledger.events(request_id) if e.action == "identity_failed"]
    assert [(e.detail["attempts_left"], e.detail["exhausted"]) for e in failures] == [(4, False), (3, False)]


def test_the_code_runs_out(rt, request_id):
    key = stages.send_code(rt, request_id)
    for _ in range(5):
        with pytest.raises(VerificationFailed):
            stages.submit_code(rt, request_id, "00000000")
    found = re.search(r"\b(\d{8})\b", rt.mailer.read(key))
    assert found is not None
    with pytest.raises(VerificationFailed):
        stages.submit_code(rt, request_id, found.group(1))
    assert rt.store.get(request_id).evidence is None


def test_a_failure_is_recorded_without_personal_data(rt, request_id, company):
    demo, _ = company

    def leaky(request):
        raise KeyError(f"{request.email} {request.name}")  # a library error quoting what it saw

    with pytest.raises(StageFailed) as failure:
        stages.run_stage(rt, request_id, "package", leaky)
    assert str(failure.value) == f"{request_id}: package failed: internal error (KeyError)"
    assert failure.value.__suppress_context__
    stored = rt.store.get(request_id)
    assert stored.status == "failed" and stored.reason == "package: internal error (KeyError)"
    ledger = json.dumps([e.detail for e in rt.ledger.events(request_id)])
    assert demo.subject_email not in ledger.lower() and "Mäkinen" not in ledger


def test_an_unreachable_source_stops_the_request_naming_the_source(rt, request_id):
    verify_by_outbox(rt, request_id)
    stages.verify_identity(rt, request_id)
    with pytest.raises(StageFailed, match=r"source marketing: .*unreachable"):
        stages.extract(rt, request_id, "marketing")
    assert rt.store.get(request_id).reason.startswith("extract:marketing: source marketing")


def test_a_rerun_skips_finished_stages_and_resumes(rt, request_id, company):
    demo, secrets = company
    verify_by_outbox(rt, request_id)
    stages.verify_identity(rt, request_id)
    first = stages.extract(rt, request_id, "customers")
    (rt.work_dir(request_id) / "extracted" / "customers.jsonl").write_text("")  # would be noticed if redone
    assert stages.extract(rt, request_id, "customers") == first
    assert (rt.work_dir(request_id) / "extracted" / "customers.jsonl").read_text() == ""
    with pytest.raises(StageFailed):
        stages.extract(rt, request_id, "marketing")

    # The source comes back: the same request resumes where it stopped.
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        rt = open_runtime(write_demo_config(demo, mailchimp.base_url))
        assert stages.extract(rt, request_id, "marketing")["records"] > 0
    events = [e.action for e in rt.ledger.events(request_id)]
    assert events.count("extract:customers_done") == 1
    assert events.count("extract:marketing_done") == 1
    assert rt.store.get(request_id).status == "running", "a resumed request still reads as failed"


def extract_all(rt, request_id, secrets, demo):
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        rt = open_runtime(write_demo_config(demo, mailchimp.base_url))
        for source in rt.config.sources:
            stages.extract(rt, request_id, source.name)
    return rt


def test_lost_staging_is_noticed_and_extracted_anew(rt, request_id, company):
    demo, secrets = company
    verify_by_outbox(rt, request_id)
    stages.verify_identity(rt, request_id)
    rt = extract_all(rt, request_id, secrets, demo)
    # The request resumes on a worker whose disk does not have the staged files.
    (rt.work_dir(request_id) / "extracted" / "support_mail.jsonl").unlink()
    with pytest.raises(StageFailed, match=r"staged data is missing or changed \(extract:support_mail\)"):
        stages.redact(rt, request_id)
    assert rt.store.stage_done(request_id, "extract:customers") is None
    assert not rt.work_dir(request_id).exists()

    rt = extract_all(rt, request_id, secrets, demo)
    summary = stages.redact(rt, request_id)
    assert summary["emails_replaced"] > 0
    # A package built from the staging it checked, not from an empty directory.
    assert stages.package(rt, request_id)["records"]["support_mail"]["messages"] >= 15


def test_redaction_trusts_the_customer_row_not_what_the_requester_typed(rt, company):
    demo, secrets = company
    # The requester types the neighbour's name and number as their own.
    request = stages.register(rt, demo.subject_email, "fi", name="Pekka Virtanen", phone=demo.third_party_phone)
    try:
        verify_by_outbox(rt, request.id)
        stages.verify_identity(rt, request.id)
        rt = extract_all(rt, request.id, secrets, demo)
        stages.redact(rt, request.id)
        redacted = rt.work_dir(request.id) / "redacted"
        customer = json.loads((redacted / "customers" / "customer.jsonl").read_text())["data"]
        assert customer["phone"] == "040 123 4567", "the subject's own number was redacted"
        messages = (redacted / "support_mail" / "messages.jsonl").read_text()
        local = demo.third_party_phone.removeprefix("+358")
        assert local not in re.sub(r"[ -]", "", messages), "a typed number let a third party through"
        assert "Virtanen" not in messages and not re.search(r"\bPekka\b", messages), "a typed name let him through"
    finally:
        rt.store.set_status(request.id, "closed", rt.clock())


def test_a_duplicate_or_closed_request_runs_nothing(rt, request_id, company):
    demo, _ = company
    verify_by_outbox(rt, request_id)  # only a verified request makes another a duplicate
    duplicate = stages.register(rt, demo.subject_email, "en")
    assert duplicate.duplicate_of == request_id
    with pytest.raises(RequestClosed, match="is duplicate"):
        stages.verify_identity(rt, duplicate.id)
    with pytest.raises(RequestClosed):
        stages.send_code(rt, duplicate.id)
    assert rt.store.get(duplicate.id).status == "duplicate"

    stages.close(rt, request_id, "withdrawn")
    with pytest.raises(RequestClosed, match="is closed"):
        stages.extract(rt, request_id, "customers")
    assert [e.detail for e in rt.ledger.events(request_id) if e.action == "closed"] == [{"reason": "withdrawn"}]
    again = stages.register(rt, demo.subject_email, "fi")
    assert again.status == "received", "a closed request still blocks the subject"
    stages.close(rt, again.id, "withdrawn")


def test_a_resumed_delivery_sends_one_link(rt, request_id, company):
    rt = prepared(rt, request_id, company)
    for stage in (stages.redact, stages.package, stages.encrypt_and_store, stages.deliver):
        stage(rt, request_id)
    outbox = rt.config.base_dir / "outbox"
    first = (outbox / f"{request_id}-link.eml").read_bytes()
    # A crash after the link went out but before the stage was recorded: the re-run sends nothing new.
    rt.store.reset_stages(request_id, ["deliver"])
    rt.store.set_status(request_id, "failed", rt.clock())
    rt.clock = lambda: datetime.now(UTC) + timedelta(hours=5)  # resumed hours later
    again = stages.deliver(rt, request_id)
    assert (outbox / f"{request_id}-link.eml").read_bytes() == first
    assert len(list(outbox.glob(f"{request_id}-link*"))) == 1
    expiries = {e.detail["link_expires"] for e in rt.ledger.events(request_id) if e.action == "deliver_done"}
    assert expiries == {again["link_expires"]}, "the ledger records a link nobody received"


def prepared(rt, request_id, company):
    """A verified request with every source extracted."""
    demo, secrets = company
    verify_by_outbox(rt, request_id)
    stages.verify_identity(rt, request_id)
    return extract_all(rt, request_id, secrets, demo)


def test_a_resumed_store_keeps_the_one_passphrase_that_opens_the_file(rt, request_id, company, tmp_path):
    from exports.encrypt import open_file

    rt = prepared(rt, request_id, company)
    stages.redact(rt, request_id)
    stages.package(rt, request_id)
    stored = stages.encrypt_and_store(rt, request_id)
    assert not list(rt.work_dir(request_id).rglob("*.age")), "sealed to staging, then copied into storage"
    obj = rt.storage.path(stored["object_key"])
    assert rt.store.stage_done(request_id, "store:sealed")["sha256"] == hashlib.sha256(obj.read_bytes()).hexdigest()
    before = obj.read_bytes()
    # A crash after the passphrase went out but before the stage was recorded.
    rt.store.reset_stages(request_id, ["store"])
    assert stages.encrypt_and_store(rt, request_id) == stored
    assert obj.read_bytes() == before, "the stored file was replaced after its passphrase went out"
    passphrases = list((rt.config.base_dir / "outbox").glob(f"{request_id}-passphrase*"))
    assert len(passphrases) == 1
    passphrase = rt.mailer.read(passphrases[0].stem).strip().splitlines()[-1].strip()
    open_file(obj, tmp_path / "p.zip", passphrase=passphrase)  # raises if the passphrase does not open it


def test_a_lost_plaintext_package_is_built_again_not_encrypted_blind(rt, request_id, company):
    rt = prepared(rt, request_id, company)
    stages.redact(rt, request_id)
    stages.package(rt, request_id)
    (rt.work_dir(request_id) / f"{request_id}.zip").unlink()
    with pytest.raises(StageFailed, match=r"staged data is missing or changed \(package\)"):
        stages.encrypt_and_store(rt, request_id)
    assert rt.store.stage_done(request_id, "package") is None
    assert not list((rt.config.base_dir / "outbox").glob(f"{request_id}-passphrase*"))


def test_a_message_that_cannot_be_parsed_is_listed_as_withheld_not_delivered(tmp_path):
    import zipfile

    demo, secrets = prepare_demo(tmp_path / "demo")
    unparseable = (f"From: {demo.subject_email}\nTo: asiakaspalvelu@demokauppa.example\n"
                   "Message-ID: <broken-1@example.fi>\nContent-Type: text/plain; charset*\n\n"
                   "Terveysasioitani, joita ei saa lukea kukaan muu.\n")
    with demo.mail_archive.open("a", encoding="utf-8") as mbox:
        mbox.write(f"\nFrom {demo.subject_email} Mon Jan  1 00:00:00 2024\n{unparseable}\n")
    rt = open_runtime(write_demo_config(demo, "http://127.0.0.1:9/3.0"))
    request = stages.register(rt, demo.subject_email, "fi")
    rt = prepared(rt, request.id, (demo, secrets))
    stages.redact(rt, request.id)
    assert stages.package(rt, request.id)["withheld"] == 1
    with zipfile.ZipFile(rt.work_dir(request.id) / f"{request.id}.zip") as package:
        index = json.loads(package.read(f"{request.id}/index.json"))
        everything = b"".join(package.read(name) for name in package.namelist())
    assert [(w["source"], w["reason"], w["message_id"]) for w in index["withheld"]] == [
        ("support_mail", "unparsed", "broken-1@example.fi")]
    assert b"Terveysasioitani" not in everything
    assert all("withheld" not in f["path"] for f in index["files"])


def test_guesses_at_the_same_moment_get_no_extra_tries(rt, request_id):
    import threading

    stages.send_code(rt, request_id)
    outcomes = []

    def guess(code):
        try:
            stages.submit_code(rt, request_id, code)
            outcomes.append("verified")
        except VerificationFailed:
            outcomes.append("failed")

    threads = [threading.Thread(target=guess, args=(f"{n:08d}",)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = [e.detail for e in rt.ledger.events(request_id) if e.action == "identity_failed"]
    checked = [f["attempts_left"] for f in failures if not f["exhausted"]]
    assert outcomes.count("failed") == 20
    assert sorted(checked, reverse=True) == [4, 3, 2, 1, 0][:len(checked)], "two guesses spent one try"
    assert rt.store.get_challenge(request_id)["attempts_left"] == 5 - len(checked)


def test_an_older_demo_workdir_gets_the_secrets_it_lacks(tmp_path):
    from flows.demo.run import _demo_secrets

    env = tmp_path / "dsar.env"
    env.write_text("DSAR_PACKAGE_KEY=kept\n")
    env.chmod(0o600)
    secrets = _demo_secrets(env)
    assert secrets["DSAR_PACKAGE_KEY"] == "kept"
    assert set(secrets) == {"DSAR_LINK_SECRET", "DSAR_PACKAGE_KEY", "MAILCHIMP_API_KEY"}  # the ledger key: a file
    assert _demo_secrets(env) == secrets  # made once


def sealed_and_delivered(rt, request_id, company, sealing):
    rt = prepared(rt, request_id, company)
    rt.store.set_sealing(request_id, sealing)
    for stage in (stages.redact, stages.package):
        stage(rt, request_id)
    plain = (rt.work_dir(request_id) / f"{request_id}.zip").read_bytes()
    for stage in (stages.encrypt_and_store, stages.deliver):
        stage(rt, request_id)
    return rt, plain


def test_a_package_sealed_to_the_requesters_age_key_needs_the_policys_level_then_opens_with_it(
        rt, request_id, company, tmp_path):
    from flows.store import Sealing
    from tests.exports.age_cli import age_decrypt_with_identity, age_keygen

    identity, recipient = age_keygen(tmp_path)
    rt = prepared(rt, request_id, company)
    rt.store.set_sealing(request_id, Sealing("age-recipient", recipient))
    for stage in (stages.redact, stages.package):
        stage(rt, request_id)
    plain = (rt.work_dir(request_id) / f"{request_id}.zip").read_bytes()
    # The email code is "low"; a package for a key other than the verified address needs "high" by default.
    with pytest.raises(StageFailed, match="stronger identification needed: high"):
        stages.encrypt_and_store(rt, request_id)
    assert not list(rt.storage.keys(request_id)), "something was stored for a recipient the level does not allow"
    # A controller that accepts the email code for it says so in its policy.
    config = rt.config.path.read_text(encoding="utf-8")
    rt.config.path.write_text(config.replace('other_recipient_level = "high"', 'other_recipient_level = "low"'),
                              encoding="utf-8")
    rt = open_runtime(rt.config.path)
    for stage in (stages.encrypt_and_store, stages.deliver):
        stage(rt, request_id)
    stored = rt.store.stage_done(request_id, "store")
    assert stored["sealing"] == "age-recipient"
    assert age_decrypt_with_identity(rt.storage.path(stored["object_key"]), identity) == plain
    outbox = rt.config.base_dir / "outbox"
    assert not list(outbox.glob(f"{request_id}-passphrase*")), "a passphrase went out for a key-sealed package"
    assert "age -d -i" in rt.mailer.read(f"{request_id}-link")


def test_a_zip_aes_package_opens_in_7zip_with_the_mailed_passphrase(rt, request_id, company, tmp_path):
    import io
    import subprocess
    import zipfile

    from flows.store import Sealing
    from tests.support import need_command

    rt, plain = sealed_and_delivered(rt, request_id, company, Sealing("zip-aes"))
    stored = rt.store.stage_done(request_id, "store")
    assert stored["object_key"] == f"{request_id}/{request_id}.zip"
    passphrase = rt.mailer.read(f"{request_id}-passphrase").strip().splitlines()[-1].strip()
    out = tmp_path / "out"
    done = subprocess.run([need_command("7z"), "x", f"-p{passphrase}", f"-o{out}", "-y",
                           str(rt.storage.path(stored["object_key"]))], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(io.BytesIO(plain)) as original:
        for name in original.namelist():
            assert (out / name).read_bytes() == original.read(name), name
    assert "7-Zip" in rt.mailer.read(f"{request_id}-link")
    assert not list((rt.config.base_dir / "work").rglob("*.aes.zip")), "the unstored AES zip was left behind"
