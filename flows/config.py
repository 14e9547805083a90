"""Loading and validating `dsar.toml`.

Relative paths in the file are resolved against the file's directory. Secrets
never live in the file: it names environment variables, and an optional
`env_file` (mode 0600, KEY=VALUE lines) supplies those the environment lacks.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exports.storage import StorageSettingError, storage_from_url
from extractors.records import CUSTOMER_ID, EMAIL, NAME, PHONE
from extractors.settings import first_problem
from flows.errors import ConfigError
from flows.labels import LABEL_KEYS, SourceLabels, source_labels
from identity.address import canonical_address
from identity.errors import InvalidAddress
from identity.evidence import LEVELS, STAFF_ID
from identity.oidc import MAX_LEEWAY_SECONDS, OidcSettings
from identity.policy import Policy as IdentityPolicy
from redaction.policy import DETECTORS, ROLE_MAILBOXES, Policy

Text = dict[Literal["fi", "en"], str]
# Keys of a source's section that dsar reads itself; the source never sees them.
_SPEC_KEYS = ("name", "kind", "provided_by_subject", "identity_level", "trusted", "identifiers", *LABEL_KEYS)
# Keys of a source's section that say how dsar runs it (see `SourceRun`); the source never sees them either.
_RUN_KEYS = ("concurrency", "retries", "retry_backoff_seconds", "retry_jitter")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Controller(_Strict):
    name: str
    business_id: str
    contact_email: str
    address: str = ""
    dpo_email: str | None = None
    supervisory_authority: Text
    languages: list[Literal["fi", "en"]] = ["fi", "en"]


class Activity(_Strict):
    """One processing activity of the privacy notice: the Art. 15(1) information."""

    name: str
    sources: list[str]
    purposes: Text
    legal_basis: Text
    data_categories: Text
    recipients: Text
    retention: Text
    origin: Text
    transfers: Text
    automated_decisions: Text


class Smtp(_Strict):
    host: str
    port: int = 587
    starttls: bool = True
    username_env: str | None = None
    password_env: str | None = None


class Mail(_Strict):
    sender: str
    outbox: str | None = "outbox"
    smtp: Smtp | None = None


class OrderNumbers(_Strict):
    """Where a customer's order numbers are: a category of the knowledge source and the key holding the number.
    With `date` and `within_days`, only orders placed within that many days count (a recent order)."""

    category: str
    key: str
    date: str | None = None
    within_days: int | None = Field(default=None, ge=1)


class Knowledge(_Strict):
    """Knowledge match against the subject's own records in one source (`identity.knowledge`).

    Each fact names the key of the subject's record (`about_subject`) that holds it; a name may span keys.
    """

    source: str
    attempts: int = Field(default=3, ge=1, le=10)  # per subject, over all their requests of `lockout_days`
    lockout_days: int = Field(default=30, ge=1, le=365)
    name: list[str] = []
    postal_code: str | None = None
    phone: str | None = None
    birth_date: str | None = None
    order_number: OrderNumbers | None = None


Level = Literal["low", "substantial", "high"]


class ManualLevels(_Strict):
    """The level of assurance each manual check gives."""

    id_document: Level = "high"
    signed_letter: Level = "substantial"
    in_person: Level = "substantial"  # seen in person, no document checked (a customer staff know)


class Oidc(_Strict):
    """`[identity.oidc]`: the identity provider whose ID tokens verify a request (see identity/oidc.py)."""

    issuer: str = Field(min_length=1)  # compared exactly with the token's `iss`
    client_id: str = Field(min_length=1)  # our client at the provider: the token's `aud`
    jwks_url: str
    algorithms: list[Literal["RS256", "ES256", "EdDSA"]] = Field(default=["RS256", "ES256", "EdDSA"], min_length=1)
    leeway_seconds: int = Field(default=30, ge=0, le=MAX_LEEWAY_SECONDS)
    level: Literal["low", "substantial", "high"] = "high"
    # What the provider asserts and dsar checks: name and birthdate against the customer record (with knowledge
    # match configured), every one kept only as a salted hash.
    claims_to_match: list[str] = ["name", "birthdate"]
    nonce_ttl_minutes: int = Field(default=15, ge=1, le=60)
    jwks_refresh_seconds: int = Field(default=60, ge=10, le=600)  # never ask the issuer more often

    @field_validator("jwks_url")
    @classmethod
    def _https_or_loopback(cls, value: str) -> str:
        # Keys fetched in clear text could be swapped on the way; only a test provider on this host may use http.
        url = urlsplit(value)
        if url.scheme == "https" and url.hostname:
            return value
        if url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost", "::1"):
            return value
        raise ValueError("use an https:// URL (http:// only to 127.0.0.1 or localhost)")

    @field_validator("claims_to_match")
    @classmethod
    def _claim_names(cls, value: list[str]) -> list[str]:
        OidcSettings("issuer", "audience", claims_to_match=tuple(value))
        return value

    def settings(self) -> OidcSettings:
        return OidcSettings(issuer=self.issuer, audience=self.client_id, algorithms=tuple(self.algorithms),
                            leeway_seconds=self.leeway_seconds, level=self.level,
                            claims_to_match=tuple(self.claims_to_match))


class Identity(_Strict):
    methods: list[Literal["email_code", "oidc"]] = ["email_code"]
    code_ttl_minutes: int = Field(default=15, ge=1, le=60)
    code_attempts: int = Field(default=5, ge=1, le=10)
    # Non-ASCII local parts (RFC 6531) are refused unless the controller's mail system takes them.
    allow_smtputf8: bool = False
    # An open request nobody verified is closed (reason "lapsed") after this many days.
    unverified_lapse_days: int = Field(default=7, ge=1, le=30)
    # Below this level of assurance nothing is searched: the requester is asked for a stronger method.
    minimum_level: Level = "low"
    # Needed to deliver anywhere but the verified address (another address, an X25519 recipient).
    other_recipient_level: Level = "high"
    knowledge: Knowledge | None = None
    # Who may record a manual check (`dsar request verify --manual --by ID`); ids, not names: they go to the ledger.
    staff_ids: list[Annotated[str, Field(pattern=STAFF_ID.pattern)]] = []
    manual_levels: ManualLevels = ManualLevels()
    oidc: Oidc | None = None

    @model_validator(mode="after")
    def _oidc_configured(self) -> Identity:
        if ("oidc" in self.methods) != (self.oidc is not None):
            raise ValueError("the oidc method and an [identity.oidc] section go together: "
                             "list 'oidc' in identity.methods and configure [identity.oidc]")
        return self


class Store(_Strict):
    url: str = "sqlite:///dsar.db"
    ledger_key_env: str = "DSAR_LEDGER_KEY"


class Storage(_Strict):
    url: str = "file://packages"
    # S3 only: the KMS key that encrypts every package (required), and the service to talk to.
    # Credentials come from the AWS environment or profile, never from this file.
    kms_key_id: str | None = None
    endpoint_url: str | None = None
    region: str | None = None


class Delivery(_Strict):
    public_url: str = "http://127.0.0.1:8765"
    link_hours: int = Field(default=168, ge=1, le=24 * 30)
    max_downloads: int = Field(default=3, ge=1, le=100)  # per link; a reissued link starts afresh
    # Plaintext staging no live run holds is deleted once this old (a resume extracts again).
    abandoned_staging_hours: int = Field(default=24, ge=1, le=24 * 365)
    link_secret_env: str = "DSAR_LINK_SECRET"  # noqa: S105 - names the variable, holds no secret


class Package(_Strict):
    signing_key_env: str = "DSAR_PACKAGE_KEY"


class Redaction(_Strict):
    """The controller's redaction policy; see `redaction.policy.Policy`."""

    keep: list[str] = []
    controller_domains: list[str] = []
    role_mailboxes: list[str] = []  # added to the built-in ones
    staff: list[str] = []
    keep_staff: bool = True
    region: str = Field(default="FI", pattern=r"^[A-Z]{2}$")
    detectors: list[str] = list(DETECTORS)

    @field_validator("detectors")
    @classmethod
    def _known_detectors(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(DETECTORS))
        if unknown:
            raise ValueError(f"unknown detectors {', '.join(unknown)}; known: {', '.join(DETECTORS)}")
        return value

    def policy(self, controller: Controller) -> Policy:
        """The Policy for this controller: its contact address's domain is its own."""
        domains = {d.lower() for d in self.controller_domains}
        domains.add(controller.contact_email.rpartition("@")[2].lower())
        return Policy(
            region=self.region, controller_domains=tuple(sorted(domains)),
            role_mailboxes=ROLE_MAILBOXES + tuple(self.role_mailboxes), keep=(*self.keep, controller.address),
            staff=tuple(self.staff), keep_staff=self.keep_staff, detectors=tuple(self.detectors),
        )


class SourceRun(_Strict):
    """How a source's extraction runs: at most `concurrency` at once over every worker (a Prefect global
    concurrency limit; none by default), and `retries` more tries after a failure, the n-th after
    `retry_backoff_seconds * 2**(n-1)` seconds, each delay stretched at random by up to `retry_jitter` of itself
    so that requests failing together do not all come back together."""

    concurrency: int | None = Field(default=None, ge=1, le=10_000)
    retries: int = Field(default=2, ge=0, le=10)
    retry_backoff_seconds: float = Field(default=1.0, ge=0, le=3600)
    retry_jitter: float = Field(default=0.5, ge=0, le=10)


class Notify(_Strict):
    """`[notify]`: mail to the privacy team about requests that failed and deadlines that come near."""

    team_email: str | None = None  # default: the controller's contact_email
    deadline_warning_days: int = Field(default=7, ge=1, le=60)

    @field_validator("team_email")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                canonical_address(value)
            except InvalidAddress as exc:
                raise ValueError(str(exc)) from None
        return value


class Review(_Strict):
    """`[review]`: when a privacy officer approves a package before it is built (see flows/review.py)."""

    required: bool = False  # every request waits for approval
    when_withheld: bool = True  # a request with withheld items waits for approval
    # How long a deployment's run stays suspended for a decision before Prefect fails it; a decision made
    # later still counts (`dsar review approve`, then `dsar run`).
    timeout_hours: int = Field(default=168, ge=1, le=24 * 90)


class _File(_Strict):
    env_file: str | None = None
    controller: Controller
    activities: list[Activity] = Field(min_length=1)
    identity: Identity = Identity()
    mail: Mail
    store: Store = Store()
    sources: list[dict[str, Any]] = Field(min_length=1)
    redaction: Redaction = Redaction()
    storage: Storage = Storage()
    delivery: Delivery = Delivery()
    package: Package = Package()
    notify: Notify = Notify()
    review: Review = Review()


@dataclass(frozen=True)
class SourceSpec:
    """One configured source. `provided_by_subject` says what of its records the subject gave us (Art. 20):
    every key (True), the keys named, or nothing."""

    name: str
    kind: str
    settings: Mapping[str, Any]
    provided_by_subject: bool | tuple[str, ...] = False
    identity_level: str = "low"  # the level of assurance reading this source needs
    run: SourceRun = field(default_factory=SourceRun)
    # A trusted source's own records of the subject (`about_subject`) name their other identifiers: kind ->
    # the record keys holding them. The sources after it search those too, and redaction keeps them.
    trusted: bool = False
    identifiers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    labels: SourceLabels = field(default_factory=SourceLabels)  # see flows/labels.py


@dataclass(frozen=True)
class Config:
    path: Path
    base_dir: Path
    controller: Controller
    activities: list[Activity]
    identity: Identity
    mail: Mail
    store: Store
    sources: list[SourceSpec]
    redaction: Redaction
    storage: Storage
    delivery: Delivery
    package: Package
    review: Review
    environ: Mapping[str, str]
    notify: Notify = field(default_factory=Notify)

    @property
    def team_email(self) -> str:
        """Where mail for the privacy team goes: `[notify] team_email`, else the controller's contact address."""
        return self.notify.team_email or self.controller.contact_email

    def identity_policy(self) -> IdentityPolicy:
        """The levels of assurance this controller requires, per source and to proceed at all."""
        return IdentityPolicy({s.name: s.identity_level for s in self.sources}, self.identity.minimum_level,
                              self.identity.other_recipient_level)

    def secret(self, env_name: str, key: str) -> str:
        """The value of the environment variable `env_name` that `key` names."""
        value = self.environ.get(env_name)
        if not value:
            raise ConfigError(self.path, key, f"environment variable {env_name} is not set")
        return value

    def oidc(self) -> Oidc:
        """The `[identity.oidc]` section; ConfigError when OIDC login is not configured."""
        if self.identity.oidc is None:
            raise ConfigError(self.path, "identity.oidc", "missing: OIDC login is not configured")
        return self.identity.oidc

    def sqlalchemy_url(self, url: str) -> str:
        """`url` with a relative SQLite path made relative to the config file."""
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
            return prefix + str(self.base_dir / url[len(prefix):])
        return url


def read_env_file(path: Path, config_path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file that only its owner may read."""
    if not path.exists():
        raise ConfigError(config_path, "env_file", f"{path} does not exist")
    if path.stat().st_mode & 0o077:
        raise ConfigError(config_path, "env_file", f"{path} must be readable by its owner only (chmod 600)")
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(config_path, "env_file", f"{path.name} line {number} is not KEY=VALUE")
        values[name.strip()] = value.strip()
    return values


IDENTIFIER_KINDS = (EMAIL, PHONE, CUSTOMER_ID)


def _trust(path: Path, index: int, section: Mapping[str, Any]) -> tuple[bool, dict[str, tuple[str, ...]]]:
    """A source's `trusted` and `identifiers` keys: which keys of its records about the subject are the subject's
    identifiers. Only name keys whose values the controller itself checked (an address it confirmed by mail):
    what a customer typed unchecked would let them add anyone's address to their own request."""
    trusted = section.get("trusted", False)
    if not isinstance(trusted, bool):
        raise ConfigError(path, f"sources.{index}.trusted", "use true or false")
    raw = section.get("identifiers")
    if raw is None:
        if trusted:
            raise ConfigError(path, f"sources.{index}.identifiers",
                              "missing: a trusted source names the keys holding the subject's identifiers, "
                              'e.g. identifiers = { email = ["alt_email"] }')
        return False, {}
    if not trusted:
        raise ConfigError(path, f"sources.{index}.identifiers", "only a source with trusted = true expands the subject")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(path, f"sources.{index}.identifiers", 'use a table of kinds, e.g. { email = ["alt_email"] }')
    identifiers = {}
    for kind, keys in raw.items():
        if kind not in IDENTIFIER_KINDS:
            raise ConfigError(path, f"sources.{index}.identifiers.{kind}",
                              f"unknown identifier kind; use one of {', '.join(IDENTIFIER_KINDS)}")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            raise ConfigError(path, f"sources.{index}.identifiers.{kind}", "use a list of record keys (column names)")
        identifiers[kind] = tuple(dict.fromkeys(keys))
    return True, identifiers


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; a problem raises ConfigError naming the key."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "(file)", "not found; pass --config or set DSAR_CONFIG") from None
    except IsADirectoryError:
        raise ConfigError(path, "(file)", "is a directory; name the dsar.toml file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "(file)", "is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(path, "(file)", f"cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", str(exc)) from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        key, message = first_problem(exc)
        raise ConfigError(path, key or "(top level)", message) from None

    base_dir = path.parent
    env = dict(os.environ if environ is None else environ)
    if parsed.env_file:
        for name, value in read_env_file(base_dir / parsed.env_file, path).items():
            env.setdefault(name, value)

    sources = []
    for index, section in enumerate(parsed.sources):
        for required in ("name", "kind"):
            if not isinstance(section.get(required), str):
                raise ConfigError(path, f"sources.{index}.{required}", "missing")
        if not NAME.fullmatch(section["name"]):
            raise ConfigError(path, f"sources.{index}.name", "use lower-case letters, digits, '_' and '-'")
        provided = section.get("provided_by_subject", False)
        if isinstance(provided, list) and all(isinstance(key, str) for key in provided):
            provided = tuple(provided)
        elif not isinstance(provided, bool):
            raise ConfigError(path, f"sources.{index}.provided_by_subject", "use true, false or a list of keys")
        level = section.get("identity_level", "low")
        if level not in LEVELS:
            raise ConfigError(path, f"sources.{index}.identity_level", f"use one of {', '.join(LEVELS)}")
        trusted, identifiers = _trust(path, index, section)
        try:
            run = SourceRun.model_validate({k: v for k, v in section.items() if k in _RUN_KEYS})
        except ValidationError as exc:
            key, message = first_problem(exc)
            raise ConfigError(path, f"sources.{index}.{key}", message) from None
        settings = {k: v for k, v in section.items() if k not in _SPEC_KEYS + _RUN_KEYS}
        sources.append(SourceSpec(section["name"], section["kind"], settings, provided, level, run, trusted,
                                  identifiers, source_labels(path, index, section, parsed.controller.languages)))
    names = [s.name for s in sources]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise ConfigError(path, f"sources.{index}.name", f"duplicate source name {name!r}")
    knowledge = parsed.identity.knowledge
    if knowledge is not None and knowledge.source not in names:
        raise ConfigError(path, "identity.knowledge.source", f"no source named {knowledge.source!r}")
    for index, activity in enumerate(parsed.activities):
        for unknown in set(activity.sources) - set(names):
            raise ConfigError(path, f"activities.{index}.sources", f"no source named {unknown!r}")

    storage = parsed.storage
    try:
        storage_from_url(storage.url, base_dir, kms_key_id=storage.kms_key_id, endpoint_url=storage.endpoint_url,
                         region=storage.region)
    except StorageSettingError as exc:
        raise ConfigError(path, f"storage.{exc.setting}", str(exc)) from None

    return Config(
        path=path, base_dir=base_dir, controller=parsed.controller, activities=parsed.activities,
        identity=parsed.identity, mail=parsed.mail, store=parsed.store, sources=sources,
        redaction=parsed.redaction, storage=parsed.storage, delivery=parsed.delivery, package=parsed.package,
        review=parsed.review, environ=env, notify=parsed.notify,
    )
