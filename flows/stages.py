"""The stages of one request, as plain functions over a Runtime.

Each Prefect task in `flows.fulfil` calls one of these. A stage that completed
is recorded in the request store and skipped on a re-run; every stage appends
an event to the audit ledger. Only ids, counts, names of configured sources
and hashes leave this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import Connection

from audit.event import format_at, parse_at
from audit.signing import encode_key
from exports.encrypt import new_passphrase, seal_to
from exports.package import Category, Contents, PackageInfo, build_package
from exports.readme import render_readme
from exports.zip_aes import seal_zip_aes
from extractors.mail import MESSAGES
from extractors.records import (
    REQUESTED,
    WITHHELD,
    Identifier,
    NotingSource,
    PeopleSource,
    Record,
    Subject,
    check_name,
    read_jsonl,
    write_jsonl,
)
from extractors.registry import make_source
from flows import expansion, faults
from flows.assurance import evidence_of
from flows.config import SourceSpec
from flows.downloads import link_ref, send_link
from flows.errors import SAFE_ERRORS, InvalidRequest, RequestClosed, StageFailed, StagingLost
from flows.labels import PackageLabels
from flows.lapse import refuse_if_lapsed
from flows.pages import page_link
from flows.readme_info import readme_info, searched_identifiers, unverified_identifiers
from flows.runtime import Runtime
from flows.stage_record import StageRun
from flows.store import CLOSED, Request
from flows.sweeper import delete_package, delete_staging
from flows.texts import text
from identity.address import canonical_address
from identity.email_code import CodeChallenge, check_code, issue_code, spend_attempt
from identity.errors import (
    AlreadyVerified,
    IdentityError,
    IdentityNotVerified,
    StrongerIdentityNeeded,
    VerificationFailed,
)
from identity.evidence import IdentityEvidence
from identity.policy import may_deliver_elsewhere, meets, skip_reason, stronger_needed
from redaction.redactor import Redactor


def safe_reason(exc: BaseException) -> str:
    if isinstance(exc, SAFE_ERRORS):
        return str(exc)
    return f"internal error ({type(exc).__name__})"


def run_stage(rt: Runtime, request_id: str, stage: str, work: Callable[[Request], dict[str, Any]],
              status: str | None = None) -> dict[str, Any]:
    """Run `work` once per request and stage; record it, or the failure, in the store and the ledger.

    The store's record (and `status`, if given) and the ledger's event commit in
    one transaction: after a crash both are there or neither, so a resume
    neither skips a stage the ledger lacks nor records one twice.
    """
    done = rt.store.stage_done(request_id, stage)
    if done is not None:
        return done
    run = StageRun.start(rt)
    request = open_request(rt, request_id)
    if request.status != "running":  # a resumed request leaves its failed state
        rt.store.set_status(request_id, "running", rt.clock())
    faults.point(f"{stage}:start")
    try:
        detail = work(request)
    except Exception as exc:
        reason = safe_reason(exc)
        rt.ledger.append_event(
            request_id, "dsar", "stage_failed", {"stage": stage, "error": type(exc).__name__, **run.fields()},
            alongside=lambda conn: rt.store.set_status(request_id, "failed", rt.clock(),
                                                       reason=f"{stage}: {reason}"[:200], conn=conn))
        raise StageFailed(request_id, stage, reason) from None
    faults.point(f"{stage}:worked")

    def record(conn: Connection) -> None:
        rt.store.complete_stage(request_id, stage, detail, rt.clock(), conn=conn)
        if status is not None:
            rt.store.set_status(request_id, status, rt.clock(), conn=conn)

    rt.ledger.append_event(request_id, "dsar", f"{stage}_done", {**detail, **run.fields()}, alongside=record)
    faults.point(f"{stage}:recorded")
    return detail


def open_request(rt: Runtime, request_id: str) -> Request:
    """The request, if it is still open; RequestClosed otherwise."""
    request = rt.store.get(request_id)
    if not request.is_open:
        raise RequestClosed(request_id, request.status)
    return request


# Registration and identity ---------------------------------------------------

# What a request asks for: a copy (Art. 15), and the data in a machine-readable form too (Art. 20).
RIGHTS = ("access", "portability")


def register(rt: Runtime, email: str, language: str, name: str | None = None, phone: str | None = None,
             right: str = "access", channel: str = "cli") -> Request:
    """Record a new request under its canonical address; one for a subject with a verified open request is
    kept as a duplicate. InvalidAddress (nothing recorded) for anything but one plain address. `channel`:
    how it arrived ("cli" when staff registered it, "portal"), for the auditor's replay."""
    if right not in RIGHTS:
        raise InvalidRequest(f"a request is for one of {', '.join(RIGHTS)}, not {right!r}")
    address = canonical_address(email, allow_smtputf8=rt.config.identity.allow_smtputf8)
    request = rt.store.create(address, language, rt.clock(), name=name, phone=phone)
    if request.duplicate_of:
        rt.ledger.append_event(request.id, "dsar", "duplicate", {"duplicate_of": request.duplicate_of})
    else:
        rt.ledger.append_event(request.id, "dsar", "received", {"language": language, "right": right,
                                                                  "channel": channel})
    return request


def close(rt: Runtime, request_id: str, reason: str) -> None:
    """End a request that is open, or delivered: its links die, its stored package and staging are deleted.

    A request closed before delivery leaves no sealed file behind.
    """
    request = rt.store.get(request_id)
    if request.status in CLOSED and request.status != "delivered":
        raise RequestClosed(request_id, request.status)
    rt.ledger.append_event(request_id, "privacy_team", "closed", {"reason": reason},
                           alongside=lambda conn: rt.store.set_status(request_id, "closed", rt.clock(), reason=reason,
                                                                      conn=conn))
    rt.store.delete_challenge(request_id)
    revoked = rt.store.revoke_links(request_id, rt.clock())
    if revoked:
        rt.ledger.append_event(request_id, "privacy_team", "links_revoked", {"count": revoked})
    delete_package(rt, request_id, "closed")
    delete_staging(rt, request_id, "closed")


def send_code(rt: Runtime, request_id: str) -> str:
    """Issue a one-time code and mail it to the address on record; returns the message's key."""
    request = open_request(rt, request_id)
    refuse_if_lapsed(rt, request)
    identity = rt.config.identity
    # The very address sources are matched with; re-parsed so a row stored before parsing existed
    # (a list, a CR/LF) is refused rather than mailed.
    to = canonical_address(request.email, allow_smtputf8=identity.allow_smtputf8)
    code, challenge = issue_code(rt.clock(), timedelta(minutes=identity.code_ttl_minutes), identity.code_attempts)
    rt.store.put_challenge(request_id, challenge.to_dict())
    # On the ledger before the mail: the ledger's count of tries is what lets the code be checked
    # (`tries_allowed`), so a crash after the mail must not leave the requester a code that never works.
    rt.ledger.append_event(request_id, "dsar", "identity_code_sent", {
        "method": "email_code", "challenge": challenge_ref(challenge), "attempts": challenge.attempts_left},
        alongside=lambda conn: rt.store.set_status(request_id, "awaiting_identity", rt.clock(), conn=conn))
    key = f"{request_id}-code-{challenge.issued_at:%Y%m%dT%H%M%S%f}"
    rt.mailer.send(
        key, to, text("code_subject", request.language),
        text("code_body", request.language, request_id=request_id, code=code, minutes=identity.code_ttl_minutes,
             verify_url=f"{page_link(rt, request, 'verify')}?code={code}", status_url=page_link(rt, request, "status")),
    )
    faults.point("send_code:mailed")
    return key


# The ledger actions that issue a code and record a wrong one: the request's own, and a further identifier's.
CODE_SENT = ("identity_code_sent", "identifier_code_sent")
CODE_FAILED = ("identity_failed", "identifier_failed")


def challenge_ref(challenge: CodeChallenge) -> str:
    """How the ledger names a challenge: a hash of its random salt, which tells nothing about the code."""
    return hashlib.sha256(b"dsar challenge\0" + challenge.salt).hexdigest()[:16]


def tries_allowed(rt: Runtime, request_id: str) -> dict[str, int]:
    """For each code issued for the request (by its ref), the tries its recorded failures leave it: the request's
    own code and those of the further identifiers it names (flows/identifiers.py) alike.

    The MAC stops a challenge being edited, not an older sealed copy being put
    back; the ledger (hash-chained) counts the failures since the code was
    issued, so a copy from before them has more tries than this allows. Read
    before the challenge: a spend is stored before its failure is recorded,
    so honestly the stored tries never exceed what the ledger allowed earlier.
    """
    issued: dict[str, int] = {}
    failed: dict[str, int] = {}
    for event in rt.ledger.events(request_id):
        ref = str(event.detail.get("challenge"))
        if event.action in CODE_SENT and isinstance(event.detail.get("attempts"), int):
            issued[ref] = event.detail["attempts"]
        elif event.action in CODE_FAILED:
            failed[ref] = failed.get(ref, 0) + 1
    return {ref: max(n - failed.get(ref, 0), 0) for ref, n in issued.items()}


def submit_code(rt: Runtime, request_id: str, code: str) -> Request:
    """Check a code the requester typed; raises VerificationFailed (one opaque error) when it is wrong.

    The request as verified: `duplicate` when its subject's other request was verified first.
    """
    request = open_request(rt, request_id)
    refuse_if_lapsed(rt, request)
    allowed = tries_allowed(rt, request_id)
    stored = rt.store.get_challenge(request_id)
    if stored is None or "kind" in stored:  # none outstanding, or an OIDC login's nonce
        # A verified request has no code outstanding: a replayed code gets told so, and gains nothing.
        if request.evidence is not None:
            raise AlreadyVerified(request_id)
        raise IdentityNotVerified(request_id)
    challenge = CodeChallenge.from_dict(stored)
    if challenge.attempts_left > allowed.get(challenge_ref(challenge), -1):  # an older copy put back
        rt.ledger.append_event(request_id, "dsar", "identity_record_rejected", {"record": "challenge"})
        raise VerificationFailed()
    # Spend the attempt before checking, so that a crash never grants a free try.
    spent = spend_attempt(challenge)
    if not rt.store.swap_challenge(request_id, stored, spent.to_dict()):
        raise VerificationFailed()  # another guess spent this try at the same moment
    try:
        evidence = check_code(challenge, code, rt.clock())
    except IdentityError:
        record_code_failure(rt, request_id, "identity_failed",
                            {"method": "email_code", "challenge": challenge_ref(challenge)}, challenge, spent)
        raise
    rt.store.delete_challenge(request_id)
    return record_evidence(rt, request_id, "requester", evidence)


def record_code_failure(rt: Runtime, request_id: str, action: str, detail: Mapping[str, Any],
                        challenge: CodeChallenge, spent: CodeChallenge) -> None:
    """Put a wrong code on the ledger (`action` of CODE_FAILED, `detail` naming its challenge): what
    `tries_allowed` counts."""
    rt.ledger.append_event(request_id, "requester", action, {
        **detail, "attempts_left": spent.attempts_left, "exhausted": challenge.attempts_left <= 0})


def record_evidence(rt: Runtime, request_id: str, actor: str, evidence: IdentityEvidence,
                    extra: Mapping[str, Any] | None = None) -> Request:
    """Keep `evidence` (and `extra`, hashes only) with the request and put its method, level and kinds on the
    ledger (never values); the request as verified, `duplicate` when its subject's other request was verified
    first. Every method of verification ends here.

    Evidence already on record is replaced only by a higher level: a weaker method never lowers it. A lapsed
    request takes no evidence.
    """
    request = open_request(rt, request_id)
    refuse_if_lapsed(rt, request)
    if request.evidence and meets(request.evidence["level"], evidence.level):
        raise InvalidRequest(f"{request_id} is already verified ({request.evidence['level']}); "
                             "only a stronger method replaces that")
    verified = rt.store.save_evidence(request_id, {**evidence.to_dict(), **(extra or {})}, rt.clock(),
                                      replaces=request.evidence)
    detail: dict[str, Any] = {"method": evidence.method, "level": evidence.level, "kinds": list(evidence.identifiers)}
    if evidence.method == "manual":
        detail |= {"check": evidence.check, "by": evidence.checked_by}
    rt.ledger.append_event(request_id, actor, "identity_verified", detail)
    if verified.duplicate_of:
        rt.ledger.append_event(request_id, "dsar", "duplicate", {"duplicate_of": verified.duplicate_of})
    return verified


def require_minimum_level(rt: Runtime, request_id: str) -> None:
    """Stop a request whose evidence is below the policy's minimum: it waits for a stronger method.

    Nothing is searched; the request goes to `awaiting_identity` with the level
    to ask for as its reason, and StrongerIdentityNeeded is raised.
    """
    request = open_request(rt, request_id)
    level = request.evidence.get("level") if request.evidence else None
    wanted = stronger_needed(level, rt.config.identity_policy()) if level is not None else None
    if wanted is None:
        return
    rt.ledger.append_event(request_id, "dsar", "identity_insufficient", {"level": level, "required": wanted},
                           alongside=lambda conn: rt.store.set_status(
                               request_id, "awaiting_identity", rt.clock(),
                               reason=f"stronger identification needed: {wanted}", conn=conn))
    raise StrongerIdentityNeeded(request_id, wanted)


def verify_identity(rt: Runtime, request_id: str) -> dict[str, Any]:
    """The identity stage: evidence that holds and meets the minimum level, or nothing goes further.

    Raises StrongerIdentityNeeded (the request waits, not failed) when the
    level is too low, StageFailed when there is no evidence that holds.
    """
    if rt.store.stage_done(request_id, "identity") is None:
        require_minimum_level(rt, request_id)

    def work(request: Request) -> dict[str, Any]:
        # Fails closed: no evidence on record, no disclosure (Art. 12(6)).
        evidence = evidence_of(request)
        return {"method": evidence.method, "level": evidence.level}

    return run_stage(rt, request_id, "identity", work)


# Extract, redact ---------------------------------------------------------------
#
# Staged files live on the worker's disk and may be gone when a request resumes
# elsewhere. Each stage records the digest of what it staged, and the next one
# checks it: a package is never built from missing or altered staging.

def _extracted(rt: Runtime, request_id: str, source: str) -> Path:
    return rt.work_dir(request_id) / "extracted" / f"{source}.jsonl"


def extract(rt: Runtime, request_id: str, source_name: str) -> dict[str, Any]:
    """Search one source and stage what it holds about the subject.

    A trusted source is searched with the verified identifiers alone (`requested_subject`); every other
    source with the subject as the trusted sources expand it (`subject_of`),
    so they are extracted first if they are not yet.
    """
    spec = next(s for s in rt.config.sources if s.name == source_name)
    stage = f"extract:{source_name}"
    if not spec.trusted and rt.store.stage_done(request_id, stage) is None:
        for trusted in rt.config.sources:
            if trusted.trusted:
                extract(rt, request_id, trusted.name)

    def work(request: Request) -> dict[str, Any]:
        # The evidence as it is now, not as the identity stage saw it: a resumed run re-checks it.
        level = evidence_of(request).level
        required = rt.config.identity_policy().required(spec.name)
        if not meets(level, required):
            return {"source": spec.name, "records": 0, "skipped": skip_reason(level, required)}
        subject = requested_subject(rt, request) if spec.trusted else subject_of(rt, request_id, request)
        source = make_source(spec.name, spec.kind, spec.settings, rt.config.base_dir, rt.config.environ)
        path = _extracted(rt, request_id, spec.name)
        count = write_jsonl(path, source.records(subject))
        # Counts only: the identifiers themselves are the subject's data.
        detail = {"source": spec.name, "records": count, "sha256": _file_sha256(path),
                  "searched": expansion.searched(subject)}
        notes = dict(source.notes()) if isinstance(source, NotingSource) else {}
        if notes:
            detail["notes"] = notes
        if spec.trusted:
            # What this source added: not the identifiers the requester verified, which it was searched for.
            detail["expanded"] = expansion.counts(i for i in _expanded(rt, spec, subject, path).also
                                                  if i.source == spec.name)
        return detail

    return run_stage(rt, request_id, stage, work)


def requested_subject(rt: Runtime, request: Request) -> Subject:
    """The subject as the requester named and verified them: the request's address, then each further identifier
    whose own code was typed right (source `request`), in the order named. One named but not verified is not
    searched for, and redaction does not keep it."""
    verified = (Identifier(i.kind, i.value, REQUESTED) for i in rt.store.identifiers(request.id) if i.verified_at)
    return expansion.expanded(Subject(email=request.email), verified)


def subject_of(rt: Runtime, request_id: str, request: Request) -> Subject:
    """The subject as the trusted sources' staged records expand it: the verified identifiers (`requested_subject`),
    then every identifier they hold for the subject, in config and record order, so that a resumed run searches
    for the same.

    Recomputed from staging (whose digests are checked) wherever it is needed: the identifiers never pass through
    Prefect. A trusted source the request's identity level did not open adds nothing.
    """
    subject = requested_subject(rt, request)
    for spec in rt.config.sources:
        if spec.trusted:
            path = _staged(rt, request_id, spec)
            if path is not None:
                subject = _expanded(rt, spec, subject, path)
    return subject


def _expanded(rt: Runtime, spec: SourceSpec, subject: Subject, path: Path) -> Subject:
    return expansion.expanded(subject, expansion.identifiers_in(
        spec, read_jsonl(path), rt.config.redaction.region, rt.config.identity.allow_smtputf8))


def _staged(rt: Runtime, request_id: str, spec: SourceSpec) -> Path | None:
    """The source's staged records as its extract stage recorded them, None if the stage skipped it; staging
    that is missing or altered is extracted anew (`_restage`)."""
    path = _extracted(rt, request_id, spec.name)
    done = rt.store.stage_done(request_id, f"extract:{spec.name}")
    if done is not None and "skipped" in done:
        return None
    if done is None or not path.is_file() or _file_sha256(path) != done["sha256"]:
        _restage(rt, request_id, f"extract:{spec.name}")
    return path


def redact(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        # Every extraction has finished: the package states its data as of now, and a rebuilt one says the same.
        as_of = rt.clock().astimezone(UTC).replace(microsecond=0)
        staged = [(spec, _staged(rt, request_id, spec)) for spec in rt.config.sources]
        searched = [spec for spec, path in staged if path is not None]
        paths = [path for _, path in staged if path is not None]

        def records() -> Iterator[Record]:
            for path in paths:
                yield from read_jsonl(path)

        # The subject's own names and phone numbers come from the records that describe them, never from what
        # a requester typed: keeping a typed name or number would reveal whichever third party's was typed.
        # The identifiers trusted sources hold for them (another address, a second phone) are theirs too.
        subject = subject_of(rt, request_id, request)
        policy = rt.config.redaction.policy(rt.config.controller)
        known = tuple(_known_people(rt, searched))
        redactor = Redactor(subject, dataclasses.replace(policy, known_people=known))
        redactor.learn_all(records)
        out_dir = rt.work_dir(request_id) / "redacted"
        _write_by_category(out_dir, (redactor.redact(r) for r in records()))
        return {**redactor.summary(), "sha256": _tree_sha256(out_dir), "as_of": format_at(as_of)}

    return run_stage(rt, request_id, "redact", work)


def _known_people(rt: Runtime, sources: Iterable[SourceSpec]) -> Iterator[str]:
    """The names of everyone the searched sources hold (other customers): redaction finds them anywhere. A source
    the identity level did not allow is not opened even for this."""
    for spec in sources:
        source = make_source(spec.name, spec.kind, spec.settings, rt.config.base_dir, rt.config.environ)
        if isinstance(source, PeopleSource):
            yield from source.people()


def _write_by_category(out_dir: Path, records: Iterator[Record]) -> None:
    """Split a record stream into `<source>/<category>.jsonl` files."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    files: dict[tuple[str, str], Any] = {}
    try:
        for record in records:
            out = files.get((record.source, record.category))
            if out is None:
                source, category = check_name("source", record.source), check_name("category", record.category)
                path = out_dir / source / f"{category}.jsonl"
                path.parent.mkdir(exist_ok=True)
                out = files[(record.source, record.category)] = path.open("w", encoding="utf-8")
            out.write(record.to_json() + "\n")
    finally:
        for out in files.values():
            out.close()


def staging_stages(rt: Runtime) -> list[str]:
    """The stages whose work lives in staging. They are forgotten together, review included: a reviewer
    approved what was staged, and anything extracted anew is reviewed anew."""
    return [f"extract:{s.name}" for s in rt.config.sources] + ["redact", "review", "package"]


def _restage(rt: Runtime, request_id: str, what: str) -> NoReturn:
    """Forget the staging stages and their files, so that the next run extracts anew; raises StagingLost."""
    staged = staging_stages(rt)
    # One transaction: the ledger shows why these stages may be done (and recorded) a second time.
    rt.ledger.append_event(request_id, "dsar", "staging_lost", {"stage": what},
                           alongside=lambda conn: rt.store.reset_stages(request_id, staged, conn=conn))
    shutil.rmtree(rt.work_dir(request_id), ignore_errors=True)
    raise StagingLost(request_id, what)


def _file_sha256(path: Path) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def _tree_sha256(root: Path) -> str:
    """One digest over every file under `root`, its relative path included."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(root).as_posix()}\0{_file_sha256(path)}\n".encode())
    return digest.hexdigest()


# Package, encrypt, store, deliver ---------------------------------------------------

def package(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        evidence_of(request)  # the email on record is still the verified one
        staged = rt.work_dir(request_id) / "redacted"
        redaction = rt.store.stage_done(request_id, "redact")
        # A redaction recorded before `as_of` existed is redone rather than dated by the clock.
        if (redaction is None or "as_of" not in redaction or not staged.is_dir()
                or _tree_sha256(staged) != redaction["sha256"]):
            _restage(rt, request_id, "redact")

        paths = sorted(staged.glob("*/*.jsonl"))
        provided = {spec.name: spec.provided_by_subject for spec in rt.config.sources}
        labels = PackageLabels.of(rt.config.sources, request.language)

        def category(path: Path) -> Category:
            source, name = path.parent.name, path.stem
            label, columns = labels.category(source, name)
            return Category(source, name, lambda: (r.data for r in read_jsonl(path)),
                            provided=provided.get(source, False), messages=name == MESSAGES, label=label,
                            column_labels=columns)

        withheld = [{"source": r.source, **r.data} for path in paths if path.stem == WITHHELD
                    for r in read_jsonl(path)]
        # Every time in the package (index.json, zip members, README) is the redaction's `as_of`: a package
        # rebuilt after a crash is byte-identical, so the manifest hash in the ledger still names it.
        now, public_key = parse_at(redaction["as_of"]), encode_key(rt.package_public_key)
        subject = subject_of(rt, request_id, request)  # README.html tells the requester what was searched for
        identifiers = {
            "searched": [{"kind": k, "value": v, "found_in": s} for k, v, s in searched_identifiers(subject)],
            "not_verified": [{"kind": k, "value": v} for k, v in unverified_identifiers(rt, request_id)]}
        info = PackageInfo(request_id, rt.config.controller.name, request.language, now,
                           {k: v for k, v in redaction.items() if k not in ("sha256", "as_of")}, withheld,
                           identifiers=identifiers,
                           source_labels={spec.name: labels.source(spec.name) for spec in rt.config.sources})

        def readme(contents: Contents) -> bytes:
            return render_readme(readme_info(rt, request, contents.record_counts, withheld, public_key,
                                             generated_at=now, subject=subject, columns=contents.columns))

        result = build_package(rt.work_dir(request_id) / f"{request_id}.zip", info,
                               [category(p) for p in paths if p.stem != WITHHELD], rt.package_key, readme)
        return {"manifest_sha256": result.manifest_sha256, "zip_sha256": result.sha256,
                "files": len(result.files), "records": result.record_counts, "withheld": len(withheld)}

    return run_stage(rt, request_id, "package", work)


def stretch_ahead(rt: Runtime, request_id: str) -> None:
    """Start stretching the package's passphrase now, so that sealing does not wait for scrypt."""
    if rt.store.sealing(request_id).method == "age-passphrase" and rt.store.stage_done(request_id, "store") is None:
        rt.passphrases.start(request_id)


def encrypt_and_store(rt: Runtime, request_id: str) -> dict[str, Any]:
    """Seal the package as the request asks (see `Sealing`), store it, then send the passphrase, if one opens it.

    Order and records make a resume safe: the sealed object is recorded before
    its passphrase goes out, and once the passphrase has gone out the stored
    object is never replaced, so the requester never holds a passphrase that
    opens nothing. age output goes from the writer to storage with no copy on
    disk; its sha256 is taken on the way. A WinZip AES zip is written beside
    the package first (pyzipper writes files), then stored and removed.
    """

    def work(request: Request) -> dict[str, Any]:
        evidence = evidence_of(request)  # the passphrase goes only to the address identity was verified for
        sealing = rt.store.sealing(request_id)
        policy = rt.config.identity_policy()
        if sealing.recipient and not may_deliver_elsewhere(evidence.level, policy):
            raise StrongerIdentityNeeded(request_id, policy.other_recipient_level)
        key = f"{request_id}/{request_id}.zip" + ("" if sealing.method == "zip-aes" else ".age")
        passphrase_key = f"{request_id}-passphrase"
        sealed = rt.store.stage_done(request_id, "store:sealed")
        if sealed is not None and (not sealing.passphrase or rt.mailer.was_sent(passphrase_key)):
            return sealed
        plain = rt.work_dir(request_id) / f"{request_id}.zip"
        packaged = rt.store.stage_done(request_id, "package")
        if packaged is None or not plain.is_file() or _file_sha256(plain) != packaged["zip_sha256"]:
            _restage(rt, request_id, "package")
        # age's passphrase was stretched ahead (see stretch_ahead); the AES zip's takes no scrypt.
        stretched = rt.passphrases.take(request_id) if sealing.method == "age-passphrase" else None
        passphrase = stretched.passphrase if stretched else new_passphrase() if sealing.passphrase else None
        # The tags let the bucket's own tools (lifecycle rules, an operator) tell whose object it is and when
        # it is due to go; the sweeper goes by the request store.
        expires = rt.clock() + timedelta(hours=rt.config.delivery.link_hours)
        tags = {"request_id": request_id, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if sealing.method == "zip-aes":
            assert passphrase is not None
            aes = plain.with_name(f"{request_id}.aes.zip")
            try:
                seal_zip_aes(plain, aes, passphrase)
                sealed = {"object_key": key, "sha256": _file_sha256(aes), "sealing": sealing.method}
                rt.storage.put(aes, key, tags)
                faults.point("store:put")
            finally:
                aes.unlink(missing_ok=True)
        else:
            with rt.storage.writer(key, tags) as out:
                digest = seal_to(plain, out, passphrase=stretched, recipient=sealing.recipient)
            faults.point("store:put")
            sealed = {"object_key": key, "sha256": digest, "sealing": sealing.method}
        rt.store.reset_stages(request_id, ["store:sealed"])
        rt.store.complete_stage(request_id, "store:sealed", sealed, rt.clock())
        rt.store.set_status(request_id, "running", rt.clock(), package_ref=rt.storage.ref(key))
        faults.point("store:sealed")
        if passphrase is not None:
            rt.mailer.send(  # apart from the link
                passphrase_key, request.email, text("passphrase_subject", request.language),
                text("passphrase_body", request.language, request_id=request_id, passphrase=passphrase),
            )
        return sealed

    return run_stage(rt, request_id, "store", work)


def deliver(rt: Runtime, request_id: str) -> dict[str, Any]:
    def work(request: Request) -> dict[str, Any]:
        evidence_of(request)  # first: a changed email on record stops delivery whatever else is amiss
        stored = rt.store.stage_done(request_id, "store")
        assert stored is not None
        # The link's claims are kept before it is sent, so a resumed delivery sends the same link.
        claims = rt.store.stage_done(request_id, "deliver:link")
        if claims is None:
            claims = {"issued_at": rt.clock().isoformat(), "jti": secrets.token_urlsafe(16)}
            rt.store.complete_stage(request_id, "deliver:link", claims, rt.clock())
        faults.point("deliver:link_recorded")
        link = send_link(rt, request, claims["jti"], datetime.fromisoformat(claims["issued_at"]),
                         f"{request_id}-link")
        faults.point("deliver:link_mailed")
        shutil.rmtree(rt.work_dir(request_id), ignore_errors=True)
        return {"object_key": stored["object_key"], "link": link_ref(link.jti),
                "downloads_left": link.downloads_left, "link_expires": link.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")}

    # `delivered` commits with deliver_done: a crash cannot leave a delivered request without its event.
    return run_stage(rt, request_id, "deliver", work, status="delivered")
