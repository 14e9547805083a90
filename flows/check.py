"""`dsar check`: the config, its secrets, every source, SMTP and storage, checked without a subject.

Each check gives `Finding`s (ok, warning, error) that say what was checked and how it went, never a value,
a password, an address or a path that could name a person. `dsar request new` runs the same checks and
sends no code while one gives an error: a config mistake shows before a customer receives a code.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from pathlib import Path

from exports.errors import StorageError
from exports.storage import LocalStorage, Storage
from extractors.errors import ExtractionError
from extractors.records import CheckingSource, Finding
from extractors.registry import make_source
from flows.config import Config, load_config
from flows.errors import ConfigError
from flows.secrets import check_secrets, smtp_login

SMTP_TIMEOUT = 10  # seconds per step: a server that does not answer is an error, not a hang


def check_file(path: Path | str) -> list[Finding]:
    """Every check of the config at `path`; a config that does not load is one error."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return [Finding("error", "config", f"{exc.key}: {exc.message}")]
    return [Finding("ok", "config", "loaded"), *check_config(config)]


def check_config(config: Config) -> list[Finding]:
    """Every check of a loaded config: secrets, sources, SMTP, storage, the ledger's WORM copies."""
    return [*check_secrets(config), *check_sources(config), *check_smtp(config), *check_storage(config),
            *check_worm(config)]


def failed(findings: list[Finding]) -> bool:
    return any(f.status == "error" for f in findings)


def line(finding: Finding) -> str:
    """How `dsar check` prints a finding."""
    return f"{finding.status:<7} {finding.what}: {finding.message}"


def check_sources(config: Config, only: str | None = None, min_rows: int | None = None, *,
                  kinds: Mapping[str, type] | None = None) -> Iterator[Finding]:
    """Each source built and asked to check itself (`CheckingSource`); `min_rows` overrides a sql source's
    threshold for a full scan worth a warning; `kinds` replaces the entry points (see `make_source`)."""
    from extractors.sql import SqlSource  # sqlalchemy: only when sources are checked

    for index, spec in enumerate(config.sources):
        if only not in (None, spec.name):
            continue
        what = f"source {spec.name}"
        try:
            source = make_source(spec.name, spec.kind, spec.settings, config.base_dir, config.environ, kinds=kinds)
        except ExtractionError as exc:
            yield Finding("error", what, f"sources.{index}: {str(exc).removeprefix(f'source {spec.name}: ')}")
            continue
        except Exception as exc:  # a plugin's constructor: its type only, its text may hold anything
            yield Finding("error", what, f"could not be built ({type(exc).__name__})")
            continue
        if not isinstance(source, CheckingSource):
            yield Finding("ok", what, f"loaded (kind {spec.kind} does not check itself)")
            continue
        try:
            found = source.check(min_rows) if isinstance(source, SqlSource) else source.check()
            for finding in found:
                yield Finding(finding.status, f"{what} {finding.what}", finding.message)
        except ExtractionError as exc:
            yield Finding("error", what, str(exc).removeprefix(f"source {spec.name}: "))
        except Exception as exc:  # a plugin's own failure: its type only, its text may hold anything
            yield Finding("error", what, f"check failed ({type(exc).__name__})")


def check_smtp(config: Config) -> list[Finding]:
    """Connect, EHLO, STARTTLS when configured, log in when credentials are; no mail is sent."""
    smtp = config.mail.smtp
    if smtp is None:
        return [Finding("ok", "smtp", "not configured: messages are written to the outbox directory")]
    try:
        login = smtp_login(config)
    except ConfigError:
        return [Finding("error", "smtp", "not checked: its credentials are missing (see the secret above)")]
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT) as client:
            client.ehlo()
            if smtp.starttls:
                if not client.has_extn("starttls"):
                    return [Finding("error", "smtp", f"{where} does not offer STARTTLS (set starttls = false "
                                                     "only for a server on this host)")]
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if login is not None:
                client.login(*login)
    except smtplib.SMTPAuthenticationError as exc:
        return [Finding("error", "smtp", f"{where} refused the login ({exc.smtp_code}): check the user name "
                                         "and password")]
    except smtplib.SMTPNotSupportedError:
        return [Finding("error", "smtp", f"{where} does not offer a login (AUTH)")]
    except ssl.SSLError as exc:
        return [Finding("error", "smtp", f"{where}: TLS failed ({type(exc).__name__})")]
    except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timed out, closed
        return [Finding("error", "smtp", f"cannot talk to {where} ({type(exc).__name__})")]
    how = ", STARTTLS" if smtp.starttls else ""
    return [Finding("ok", "smtp", f"{where} answered{how}{', login accepted' if login else ''}; no mail sent")]


def check_storage(config: Config) -> list[Finding]:
    """Write a probe object and delete it again."""
    return [probe_storage(config.storage.open(config.base_dir))]


def probe_storage(storage: Storage) -> Finding:
    """A probe object written and deleted: the storage takes packages. A local directory is not named (its
    path may hold a person's name), a bucket and prefix are."""
    key = f"dsar-check-{secrets.token_hex(8)}"
    where = "local directory" if isinstance(storage, LocalStorage) else storage.ref(key).removesuffix(f"/{key}")
    try:
        with storage.writer(key) as out:
            out.write(b"dsar check\n")
        storage.delete(key)
    except StorageError as exc:
        return Finding("error", "storage", str(exc))
    except OSError as exc:
        return Finding("error", "storage", f"{where}: cannot write ({type(exc).__name__})")
    return Finding("ok", "storage", f"{where}: a probe object was written and deleted")


def check_worm(config: Config) -> list[Finding]:
    """The WORM bucket has Object Lock on; with S3 storage and no WORM copies, a warning."""
    url = config.audit.worm_url
    if url is None:
        if config.storage.url.startswith("s3://"):
            return [Finding("warning", "worm", "storage is S3 but [audit] worm_url is not set: nothing outside the "
                                               "database shows a ledger truncated or re-signed with a stolen key")]
        return []
    from flows.worm import worm_from_config  # boto3: only when WORM copies are configured

    worm = worm_from_config(config)
    assert worm is not None
    try:
        locked = worm.object_lock_enabled()
    except StorageError as exc:
        return [Finding("error", "worm", str(exc))]
    if not locked:
        return [Finding("error", "worm", f"s3://{worm.bucket} has no Object Lock: its copies could be deleted "
                                         "(create the bucket with Object Lock enabled)")]
    return [Finding("ok", "worm", f"s3://{worm.bucket} has Object Lock; each copy is kept "
                                  f"{config.audit.worm_retention_days} days in compliance mode")]
