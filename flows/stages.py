"""The stages of one request, as plain functions over a Runtime.

Each Prefect task in `flows.fulfil` calls one of these. A stage that completed
is recorded in the request store and skipped on a re-run; every stage appends
an event to the audit ledger. Only ids, counts, names of configured sources
and hashes leave this module.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import phonenumbers

from exports.encrypt import new_passphrase, seal_file
from exports.errors import ExportError
from exports.links import issue_link
from exports.package import build_package
from extractors.errors import ExtractionError
from extractors.records import Record, Subject, read_jsonl, write_jsonl
from extractors.registry import make_source
from flows.errors import DsarError, StageFailed
from flows.runtime import Runtime
from flows.store import Request
from flows.texts import text
from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import IdentityError, IdentityNotVerified
from redaction.errors import RedactionError
from redaction.redactor import Redactor

# Errors of ours carry messages written to be free of personal data; anything
# else (a library's exception may quote SQL parameters or addresses) is named by its type only.
SAFE_ERRORS = (DsarError, ExtractionError, IdentityError, RedactionError, ExportError)


def safe_reason(exc: BaseException) -> str:
    if isinstance(exc, SAFE_ERRORS):
        return str(exc)
    return f"internal error ({type(exc).__name__})"


def run_stage(rt: Runtime, request_id: str, stage: str, work: Callable[[Request], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` once per request and stage; record it, or the failure, in the store and the ledger."""
    done = rt.store.stage_done(request_id, stage)
    if done is not None:
        return done
    request = rt.store.get(request_id)
    if request.status != "running":  # a resumed request leaves its failed state
        rt.store.set_status(request_id, "running", rt.clock())
    try:
        detail = work(request)
    except Exception as exc:
        reason = safe_reason(exc)
        rt.store.set_status(request_id, "failed", rt.clock(), reason=f"{stage}: {reason}"[:200])
        rt.ledger.append_event(request_id, "dsar", "stage_failed", {"stage": stage, "error": type(exc).__name__})
        raise StageFailed(request_id, stage, reason) from None
    rt.store.complete_stage(request_id, stage, detail, rt.clock())
    rt.ledger.append_event(request_id, "dsar", f"{stage}_done", detail)
    return detail


def subject_of(request: Request) -> Subject:
    phones: tuple[str, ...] = ()
    if request.phone:
        try:
            number = phonenumbers.parse(request.phone, "FI")
            phones = (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),)
        except phonenumbers.NumberParseException:
            phones = ()
    return Subject(email=request.email, name=request.name, phones=phones)


# Registration and identity ---------------------------------------------------

def register(rt: Runtime, email: str, language: str, name: str | None = None, phone: str | None = None) -> Request:
    """Record a new request; one for a subject with an open request is kept as a duplicate."""
    request = rt.store.create(email, language, rt.clock(), name=name, phone=phone)
    if request.duplicate_of:
        rt.ledger.append_event(request.id, "dsar", "duplicate", {"duplicate_of": request.duplicate_of})
    else:
        rt.ledger.append_event(request.id, "dsar", "received", {"language": language})
    return request


def send_code(rt: Runtime, request_id: str) -> str:
    """Issue a one-time code and mail it to the address on record; returns the message's key."""
    request = rt.store.get(request_id)
    identity = rt.config.identity
    code, challenge = issue_code(rt.clock(), timedelta(minutes=identity.code_ttl_minutes), identity.code_attempts)
    rt.store.put_challenge(request_id, challenge.to_dict())
    key = f"{request_id}-code-{challenge.issued_at:%Y%m%dT%H%M%S%f}"
    rt.mailer.send(
        key, request.email, text("code_subject", request.language),
        text("code_body", request.language, request_id=request_id, code=code, minutes=identity.code_ttl_minutes),
    )
    rt.store.set_status(request_id, "awaiting_identity", rt.clock())
    rt.ledger.append_event(request_id, "dsar", "identity_code_sent", {"method": "email_code"})
    return key


def submit_code(rt: Runtime, request_id: str, code: str) -> None:
    """Check a code the requester typed; raises VerificationFailed (one opaque error) when it is wrong."""
    stored = rt.store.get_challenge(request_id)
    if stored is None:
        raise IdentityNotVerified(request_id)
    # Spend the attempt before checking, so that a crash never grants a free try.
    challenge = CodeChallenge.from_dict(stored)
    spent = spend_attempt(challenge)
    rt.store.put_challenge(request_id, spent.to_dict())
    try:
        evidence = check_code(challenge, code, rt.clock())
    except IdentityError:
        rt.ledger.append_event(request_id, "requester", "identity_failed",
                               {"method": "email_code", "attempts_left": spent.attempts_left})
        raise
    rt.store.delete_challenge(request_id)
    rt.store.save_evidence(request_id, evidence.to_dict(), rt.clock())
    rt.ledger.append_event(request_id, "requester", "identity_verified",
                           {"method": evidence.method, "level": evidence.level})


def verify_identity(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        # Fails closed: no evidence on record, no disclosure (Art. 12(6)).
        if not request.evidence:
            raise IdentityNotVerified(request_id)
        return {"method": request.evidence["method"], "level": request.evidence["level"]}

    return run_stage(rt, request_id, "identity", work)


# Extract, redact ---------------------------------------------------------------

def extract(rt: Runtime, request_id: str, source_name: str) -> dict[str, Any]:
    spec = next(s for s in rt.config.sources if s.name == source_name)

    def work(request: Request) -> dict[str, Any]:
        source = make_source(spec.name, spec.kind, spec.settings, rt.config.base_dir, rt.config.environ)
        path = rt.work_dir(request_id) / "extracted" / f"{spec.name}.jsonl"
        count = write_jsonl(path, source.records(subject_of(request)))
        return {"source": spec.name, "records": count}

    return run_stage(rt, request_id, f"extract:{source_name}", work)


def redact(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        extracted = sorted((rt.work_dir(request_id) / "extracted").glob("*.jsonl"))
        redactor = Redactor(subject_of(request), keep=rt.config.redaction.keep)

        def records() -> Iterator[Record]:
            for path in extracted:
                yield from read_jsonl(path)

        for record in records():
            redactor.learn(record)
        out_dir = rt.work_dir(request_id) / "redacted"
        _write_by_category(out_dir, (redactor.redact(r) for r in records()))
        return dict(redactor.summary())

    return run_stage(rt, request_id, "redact", work)


def _write_by_category(out_dir: Path, records: Iterator[Record]) -> None:
    """Split a record stream into `<source>/<category>.jsonl` files."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    files: dict[tuple[str, str], Any] = {}
    try:
        for record in records:
            out = files.get((record.source, record.category))
            if out is None:
                path = out_dir / record.source / f"{record.category}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                out = files[(record.source, record.category)] = path.open("w", encoding="utf-8")
            out.write(record.to_json() + "\n")
    finally:
        for out in files.values():
            out.close()


# Package, encrypt, store, deliver ---------------------------------------------------

def package(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        staged = rt.work_dir(request_id) / "redacted"
        redaction = rt.store.stage_done(request_id, "redact") or {}

        def categories() -> Iterator[tuple[str, str, Iterator[Mapping[str, Any]]]]:
            for path in sorted(staged.glob("*/*.jsonl")):
                yield path.parent.name, path.stem, (r.data for r in read_jsonl(path))

        result = build_package(
            rt.work_dir(request_id) / f"{request_id}.zip", request_id, rt.config.controller.name,
            rt.clock(), categories(), redaction,
        )
        return {"manifest_sha256": result.manifest_sha256, "zip_sha256": result.sha256,
                "files": len(result.files), "records": result.record_counts}

    return run_stage(rt, request_id, "package", work)


def encrypt_and_store(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        plain = rt.work_dir(request_id) / f"{request_id}.zip"
        sealed = plain.with_name(plain.name + ".age")
        passphrase = new_passphrase()
        seal_file(plain, sealed, passphrase)
        digest = _sha256(sealed)
        # The passphrase travels apart from the link; its key names this ciphertext,
        # so a re-encryption after a crash sends the passphrase that opens the stored file.
        rt.mailer.send(
            f"{request_id}-passphrase-{digest[:16]}", request.email, text("passphrase_subject", request.language),
            text("passphrase_body", request.language, request_id=request_id, passphrase=passphrase),
        )
        key = f"{request_id}/{request_id}.zip.age"
        ref = rt.storage.put(sealed, key)
        rt.store.set_status(request_id, "running", rt.clock(), package_ref=ref)
        return {"object_key": key, "sha256": digest}

    return run_stage(rt, request_id, "store", work)


def deliver(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        stored = rt.store.stage_done(request_id, "store")
        assert stored is not None
        now = rt.clock()
        lifetime = timedelta(hours=rt.config.delivery.link_hours)
        url = issue_link(request_id, stored["object_key"], rt.link_secret, now, lifetime,
                         rt.config.delivery.public_url.rstrip("/"))
        expires = (now + lifetime).strftime("%Y-%m-%d %H:%M UTC")
        rt.mailer.send(
            f"{request_id}-link", request.email, text("link_subject", request.language),
            text("link_body", request.language, request_id=request_id, url=url, expires=expires),
        )
        shutil.rmtree(rt.work_dir(request_id), ignore_errors=True)
        rt.store.set_status(request_id, "delivered", rt.clock())
        return {"object_key": stored["object_key"], "link_expires": (now + lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")}

    return run_stage(rt, request_id, "deliver", work)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()
