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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from exports.storage import Storage as PackageStorage
from exports.storage import StorageSettingError, storage_from_url
from extractors.records import CUSTOMER_ID, EMAIL, NAME, PHONE
from extractors.settings import first_problem
from flows.business_id import check_business_id
from flows.deadlines import DeadlineCalendar, check_holiday_country
from flows.errors import ConfigError
from flows.labels import LABEL_KEYS, Label, LabelTables, SourceLabels, source_labels
from flows.translations import Text, missing_translation
from identity.address import canonical_address
from identity.errors import InvalidAddress
from identity.evidence import LEVELS, STAFF_ID
from identity.oidc import MAX_LEEWAY_SECONDS, OidcSettings
from identity.policy import Policy as IdentityPolicy
from redaction.policy import DETECTORS, ROLE_MAILBOXES, Policy

# Keys of a source's section that dsar reads itself (`SourceSection`); the source never sees them.
_SPEC_KEYS = ("name", "kind", "provided_by_subject", "identity_level", "trusted", "identifiers", *LABEL_KEYS)
# Keys of a source's section that say how dsar runs it (see `SourceRun`); the source never sees them either.
_RUN_KEYS = ("concurrency", "retries", "retry_backoff_seconds", "retry_jitter")


class _Strict(BaseModel):
    # A field's docstring is its description in the config reference (flows/config_reference.py).
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _address(value: str | None) -> str | None:
    if value is not None:
        try:
            canonical_address(value)
        except InvalidAddress as exc:
            raise ValueError(f"not an email address: {exc}") from None
    return value


def _business_id(value: str) -> str:
    return check_business_id(value)


def check_time_zone(value: str) -> str:
    """`value` stripped when it names an IANA time zone; ValueError otherwise."""
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("use an IANA time zone such as Europe/Helsinki") from None
    return value.strip()


Address = Annotated[str, AfterValidator(_address)]


class Controller(_Strict):
    """`[controller]`: who holds the data, as the privacy notice (tietosuojaseloste) names them."""

    name: str = Field(min_length=1, examples=["Demo Kauppa Oy"])
    """The controller's legal name, as in the trade register."""
    business_id: Annotated[str, AfterValidator(_business_id)] = Field(examples=["1234567-1"])
    """The Finnish business ID (Y-tunnus, NNNNNNN-N); its check digit is verified."""
    contact_email: Address = Field(examples=["tietosuoja@demokauppa.example"])
    """Where requesters write about data protection; its domain counts as the controller's own in redaction."""
    phone: str = Field(default="", pattern=r"^(\+?[0-9][0-9 ()-]{4,}[0-9])?$", examples=["+358 40 123 4567"])
    """The controller's phone number, shown in every package's README.html."""
    postal_address: str = Field(default="", examples=["Esimerkkikatu 1, 00100 Helsinki"])
    """The controller's postal address, shown in README.html; redaction keeps it verbatim."""
    dpo_name: str | None = Field(default=None, min_length=1, examples=["Tietosuojavastaava Liisa Laine"])
    """The data protection officer (tietosuojavastaava), where the controller has one."""
    dpo_email: Address | None = Field(default=None, examples=["dpo@demokauppa.example"])
    """The data protection officer's address."""
    supervisory_authority: Text = Field(examples=[{"fi": "Tietosuojavaltuutetun toimisto, tietosuoja.fi",
                                                   "en": "Office of the Data Protection Ombudsman, tietosuoja.fi"}])
    """Where a requester may complain (Art. 15(1)(f))."""
    languages: list[Literal["fi", "en"]] = Field(default=["fi", "en"], min_length=1)
    """The languages requests are answered in; every text of the config must be given in each."""
    time_zone: Annotated[str, AfterValidator(check_time_zone)] = "Europe/Helsinki"
    """The controller's IANA time zone: deadlines run by its calendar dates, and every date shown (README.html, the
    CLI, the deadline digest, the portal) is one."""
    holiday_country: Annotated[str, AfterValidator(check_holiday_country)] = Field(default="FI", examples=["FI"])
    """Whose public holidays are not working days: a deadline falling on one, or on a weekend, moves to the next
    working day (Regulation 1182/71). An ISO 3166-1 country code the `holidays` library knows."""

    @property
    def calendar(self) -> DeadlineCalendar:
        """The calendar deadlines are counted in."""
        return DeadlineCalendar(self.time_zone, self.holiday_country)


class Activity(_Strict):
    """`[[activities]]`: one processing activity of the privacy notice: the Art. 15(1) information."""

    name: str = Field(examples=["customer_register"])
    """A short name of the activity."""
    sources: list[str] = Field(examples=[["customers", "support_mail"]])
    """The configured sources (by `name`) that hold this activity's data."""
    purposes: Text = Field(examples=[{"fi": "Asiakassuhteen hoito.", "en": "Managing the customer relationship."}])
    """Why the data is processed (Art. 15(1)(a))."""
    legal_basis: Text = Field(examples=[{"fi": "Sopimus (6 art. 1 b).", "en": "Contract (Art. 6(1)(b))."}])
    """The legal basis of the processing (Art. 6)."""
    data_categories: Text = Field(examples=[{"fi": "Nimi, yhteystiedot.", "en": "Name, contact details."}])
    """The categories of personal data concerned (Art. 15(1)(b))."""
    recipients: Text = Field(examples=[{"fi": "Kuljetusyhtiöt.", "en": "Carriers."}])
    """Who receives the data (Art. 15(1)(c))."""
    retention: Text = Field(examples=[{"fi": "Asiakkuuden ajan.", "en": "For the customer relationship."}])
    """How long the data is kept (Art. 15(1)(d))."""
    origin: Text = Field(examples=[{"fi": "Rekisteröidyltä itseltään.", "en": "From the data subject."}])
    """Where the data comes from (Art. 15(1)(g))."""
    transfers: Text = Field(examples=[{"fi": "Ei siirtoja EU:n tai ETA:n ulkopuolelle.",
                                       "en": "No transfers outside the EU/EEA."}])
    """Transfers outside the EU/EEA and their safeguards (Art. 15(2))."""
    automated_decisions: Text = Field(examples=[{"fi": "Ei automaattista päätöksentekoa.",
                                                 "en": "No automated decision-making."}])
    """Automated decision-making and profiling (Art. 15(1)(h))."""


class Smtp(_Strict):
    """`[mail.smtp]`: the SMTP server that sends codes, links and team mail; without it mail goes to `outbox`."""

    host: str = Field(examples=["smtp.example.fi"])
    """The server's host name."""
    port: int = 587
    """The server's port."""
    starttls: bool = True
    """Upgrade the connection with STARTTLS before logging in."""
    username_env: str | None = Field(default=None, examples=["SMTP_USERNAME"])
    """The environment variable holding the login name (no login without it)."""
    password_env: str | None = Field(default=None, examples=["SMTP_PASSWORD"])
    """The environment variable holding the password."""


class Mail(_Strict):
    """`[mail]`: how dsar mails requesters and the privacy team."""

    sender: str = Field(examples=["Demo Kauppa Oy <tietosuoja@demokauppa.example>"])
    """The From of every mail dsar sends."""
    outbox: str | None = "outbox"
    """A directory that receives every mail as a file instead of sending it (demo, tests); unused with `smtp`."""
    smtp: Smtp | None = None
    """The SMTP server; see `[mail.smtp]`."""


class Sms(_Strict):
    """`[sms]`: how one-time codes reach a phone number the requester names. An outbox directory (a file per
    message, as `[mail] outbox`), or an HTTP gateway that takes a JSON POST {to, body, key} with the token from
    `token_env` as a bearer token. Without this section no phone number can be added to a request."""

    outbox: str | None = Field(default=None, examples=["sms-outbox"])
    """A directory that receives each text message as a file (demo, tests, a gateway that reads files)."""
    gateway_url: str | None = Field(default=None, examples=["https://sms.example.fi/api/send"])
    """An HTTP gateway that takes a JSON POST {to, body, key}."""
    token_env: str | None = Field(default=None, examples=["DSAR_SMS_TOKEN"])
    """The environment variable holding the gateway's bearer token."""

    @model_validator(mode="after")
    def _one_channel(self) -> Sms:
        if (self.outbox is None) == (self.gateway_url is None):
            raise ValueError("set one of outbox (a directory) and gateway_url")
        if self.gateway_url is not None:
            url = urlsplit(self.gateway_url)
            if not (url.scheme == "https" and url.hostname) and not (
                    url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost", "::1")):
                raise ValueError("gateway_url: use an https:// URL (http:// only to 127.0.0.1 or localhost)")
        return self


class OrderNumbers(_Strict):
    """`[identity.knowledge.order_number]`: where a customer's order numbers are: a category of the knowledge
    source and the key holding the number. With `date` and `within_days`, only orders placed within that many
    days count (a recent order)."""

    category: str = Field(examples=["orders"])
    """The category of the knowledge source that holds orders."""
    key: str = Field(examples=["id"])
    """The key of an order record holding its number."""
    date: str | None = Field(default=None, examples=["ordered_at"])
    """The key of an order record holding when it was placed."""
    within_days: int | None = Field(default=None, ge=1, examples=[730])
    """Only orders placed within this many days count (needs `date`)."""


class Knowledge(_Strict):
    """`[identity.knowledge]`: knowledge match against the subject's own records in one source.

    Each fact names the key of the subject's record (`about_subject`) that holds it; a name may span keys.
    """

    source: str = Field(examples=["customers"])
    """The source (by `name`) whose records about the subject hold the facts."""
    attempts: int = Field(default=3, ge=1, le=10)
    """Tries per subject, over all their requests of `lockout_days`."""
    lockout_days: int = Field(default=30, ge=1, le=365)
    """The window in which `attempts` are counted."""
    name: list[str] = Field(default=[], examples=[["first_name", "last_name"]])
    """The keys whose values together make the subject's name."""
    postal_code: str | None = Field(default=None, examples=["postal_code"])
    """The key holding the postal code."""
    phone: str | None = Field(default=None, examples=["phone"])
    """The key holding the phone number."""
    birth_date: str | None = Field(default=None, examples=["birth_date"])
    """The key holding the birth date."""
    order_number: OrderNumbers | None = None
    """Where order numbers are; see `[identity.knowledge.order_number]`."""


Level = Literal["low", "substantial", "high"]


class ManualLevels(_Strict):
    """`[identity.manual_levels]`: the level of assurance each manual check gives."""

    id_document: Level = "high"
    """An identity document checked by staff."""
    signed_letter: Level = "substantial"
    """A signed written request."""
    in_person: Level = "substantial"
    """Seen in person, no document checked (a customer staff know)."""


class Oidc(_Strict):
    """`[identity.oidc]`: the identity provider whose ID tokens verify a request (see identity/oidc.py)."""

    issuer: str = Field(min_length=1, examples=["https://login.example.fi"])
    """The provider's issuer, compared exactly with the token's `iss`."""
    client_id: str = Field(min_length=1, examples=["dsar"])
    """Our client at the provider: the token's `aud`."""
    jwks_url: str = Field(examples=["https://login.example.fi/.well-known/jwks.json"])
    """Where the provider publishes its signing keys (https; http only to this host)."""
    algorithms: list[Literal["RS256", "ES256", "EdDSA"]] = Field(default=["RS256", "ES256", "EdDSA"], min_length=1)
    """The signature algorithms accepted."""
    leeway_seconds: int = Field(default=30, ge=0, le=MAX_LEEWAY_SECONDS)
    """Clock skew allowed when checking the token's times."""
    level: Level = "high"
    """The level of assurance a verified token gives."""
    claims_to_match: list[str] = ["name", "birthdate"]
    """What the provider asserts and dsar checks against the customer record (with knowledge match), each kept
    only as a salted hash."""
    nonce_ttl_minutes: int = Field(default=15, ge=1, le=60)
    """How long a login (the portal's button or `dsar request oidc-start`) stays valid."""
    jwks_refresh_seconds: int = Field(default=60, ge=10, le=600)
    """Never ask the issuer for its keys more often than this."""
    authorization_endpoint: str | None = Field(default=None, examples=["https://login.example.fi/authorize"])
    """Where the portal's login button sends the requester (authorization code flow with PKCE); without it
    (and `token_endpoint`) the portal offers no login button."""
    token_endpoint: str | None = Field(default=None, examples=["https://login.example.fi/token"])
    """Where the portal exchanges the login's code for the ID token."""
    client_secret_env: str | None = Field(default=None, examples=["DSAR_OIDC_CLIENT_SECRET"])
    """The environment variable holding our client secret, posted to `token_endpoint` (a confidential client);
    unset for a public client, which PKCE alone protects."""
    scopes: list[str] = ["openid", "email"]
    """The scopes the login asks for; `openid` is needed."""
    button: Text = {"fi": "Tunnistaudu pankkitunnuksilla", "en": "Log in with your bank ID"}
    """The login button's label on the portal."""

    @field_validator("jwks_url", "authorization_endpoint", "token_endpoint")
    @classmethod
    def _https_or_loopback(cls, value: str | None) -> str | None:
        # Keys or codes sent in clear text could be read or swapped on the way; only a test provider on this host
        # may use http.
        if value is None:
            return value
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

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value or not all(scope and scope.isascii() and " " not in scope for scope in value):
            raise ValueError('list "openid" and other scope names without spaces, e.g. ["openid", "email"]')
        return value

    @model_validator(mode="after")
    def _both_endpoints(self) -> Oidc:
        if (self.authorization_endpoint is None) != (self.token_endpoint is None):
            raise ValueError("authorization_endpoint and token_endpoint go together: set both for the portal's "
                             "login, or neither")
        return self

    def settings(self) -> OidcSettings:
        return OidcSettings(issuer=self.issuer, audience=self.client_id, algorithms=tuple(self.algorithms),
                            leeway_seconds=self.leeway_seconds, level=self.level,
                            claims_to_match=tuple(self.claims_to_match))


class Identity(_Strict):
    """`[identity]`: how a requester proves who they are."""

    methods: list[Literal["email_code", "oidc"]] = ["email_code"]
    """The verification methods offered; `oidc` needs `[identity.oidc]`."""
    code_ttl_minutes: int = Field(default=15, ge=1, le=60)
    """How long a mailed one-time code is valid."""
    code_attempts: int = Field(default=5, ge=1, le=10)
    """Wrong codes allowed before the code is spent."""
    allow_smtputf8: bool = False
    """Accept non-ASCII local parts (RFC 6531); only when the controller's mail system takes them."""
    unverified_lapse_days: int = Field(default=7, ge=1, le=30)
    """An open request nobody verified is closed (reason "lapsed") after this many days."""
    minimum_level: Level = "low"
    """Below this level of assurance nothing is searched: the requester is asked for a stronger method."""
    other_recipient_level: Level = "high"
    """Needed to deliver anywhere but the verified address (another address, an X25519 recipient)."""
    knowledge: Knowledge | None = None
    """Knowledge match; see `[identity.knowledge]`."""
    staff_ids: list[Annotated[str, Field(pattern=STAFF_ID.pattern)]] = Field(default=[],
                                                                          examples=[["anna.k", "ville.n"]])
    """Who may record a manual check (`dsar request verify --manual --by ID`); ids, not names: they go to the
    ledger."""
    manual_levels: ManualLevels = ManualLevels()
    """The level each manual check gives; see `[identity.manual_levels]`."""
    oidc: Oidc | None = None
    """OIDC login; see `[identity.oidc]`."""

    @model_validator(mode="after")
    def _oidc_configured(self) -> Identity:
        if ("oidc" in self.methods) != (self.oidc is not None):
            raise ValueError("the oidc method and an [identity.oidc] section go together: "
                             "list 'oidc' in identity.methods and configure [identity.oidc]")
        return self


class Store(_Strict):
    """`[store]`: where requests and the audit ledger live."""

    url: str = "sqlite:///dsar.db"
    """Any SQLAlchemy URL (PostgreSQL in production); a relative SQLite path is relative to the config."""
    ledger_key_env: str = "DSAR_LEDGER_KEY"
    """The environment variable holding the ledger's Ed25519 signing key (base64)."""
    ledger_key_file: str | None = Field(default=None, examples=["/etc/dsar-keys/ledger.key"])
    """Instead of `ledger_key_env`: a file holding the key (base64), readable by its owner only. Keep it
    outside the config's directory, owned by the account that runs flows: whoever holds the key beside the
    database can rewrite the ledger and re-sign it."""


class Audit(_Strict):
    """`[audit]`: where the ledger's signed head is kept outside its database after every append."""

    checkpoint_file: str = "ledger-head.json"
    """The file holding the latest signed head (relative to the config); `dsar audit verify` names a ledger
    that ends before it (truncated) or differs from it (rewritten)."""
    worm_url: str | None = Field(default=None, examples=["s3://dsar-audit/ledger"])
    """`s3://bucket/prefix` of a bucket with Object Lock: a write-once copy of every event and head, in
    compliance mode, that not even the bucket's owner can rewrite or delete. Uses `[storage]`'s
    `endpoint_url` and `region`; credentials from the AWS environment or profile."""
    worm_retention_days: int = Field(default=2190, ge=1, le=36500)
    """How long each copy is locked (six years by default)."""

    @field_validator("worm_url")
    @classmethod
    def _s3_url(cls, value: str | None) -> str | None:
        if value is not None:
            split_worm_url(value)
        return value


def split_worm_url(url: str) -> tuple[str, str]:
    """(bucket, prefix ending in "/" or empty) of `s3://bucket/prefix`; ValueError saying how to write it."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("write the WORM location as s3://bucket or s3://bucket/prefix")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


class Storage(_Strict):
    """`[storage]`: where sealed packages are kept until downloaded."""

    url: str = "file://packages"
    """`file://DIR` (served by `dsar serve`) or `s3://bucket/prefix`."""
    kms_key_id: str | None = Field(default=None, examples=["alias/dsar-packages"])
    """S3 only, and required there: the KMS key that encrypts every package."""
    endpoint_url: str | None = Field(default=None, examples=["https://s3.example.net"])
    """S3 only: an S3-compatible service instead of AWS. Credentials come from the AWS environment or profile,
    never from this file."""
    region: str | None = Field(default=None, examples=["eu-north-1"])
    """S3 only: the bucket's region."""

    def open(self, base_dir: Path) -> PackageStorage:
        """The storage these settings name, a local path resolved against `base_dir`; StorageSettingError when
        they are inconsistent."""
        return storage_from_url(self.url, base_dir, kms_key_id=self.kms_key_id, endpoint_url=self.endpoint_url,
                                region=self.region)


class Delivery(_Strict):
    """`[delivery]`: the download link a requester gets."""

    public_url: str = "http://127.0.0.1:8765"
    """Where requesters reach `dsar serve` (behind a TLS proxy in production)."""
    link_hours: int = Field(default=168, ge=1, le=24 * 30)
    """How long a download link works."""
    max_downloads: int = Field(default=3, ge=1, le=100)
    """Downloads per link; a reissued link starts afresh."""
    abandoned_staging_hours: int = Field(default=24, ge=1, le=24 * 365)
    """Plaintext staging no live run holds is deleted once this old (a resume extracts again)."""
    link_secret_env: str = "DSAR_LINK_SECRET"  # noqa: S105 - names the variable, holds no secret
    """The environment variable holding the secret that signs download links."""


class Portal(_Strict):
    """`[portal]`: the requesters' web portal (`dsar serve`): how often one client or address may ask."""

    asks_per_client_per_hour: int = Field(default=10, ge=1, le=100_000)
    """Requests one client (IP address) may send from the ask form in an hour."""
    asks_per_address_per_day: int = Field(default=3, ge=1, le=1000)
    """Requests one email address may be named in from the ask form in a day: a flood of codes to one
    mailbox stops here."""
    codes_per_client_per_hour: int = Field(default=30, ge=1, le=100_000)
    """Codes one client may try in an hour, over all requests (each code also has its own tries)."""
    trusted_proxies: list[str] = Field(default=[], examples=[["127.0.0.1"]])
    """Addresses of reverse proxies whose X-Forwarded-For header names the client; empty: none is believed."""


class Package(_Strict):
    """`[package]`: the key that signs every package's manifest."""

    signing_key_env: str = "DSAR_PACKAGE_KEY"
    """The environment variable holding the package signing key (base64 of an Ed25519 key)."""


class Redaction(_Strict):
    """`[redaction]`: the controller's redaction policy; see `redaction.policy.Policy`."""

    keep: list[str] = Field(default=[], examples=[["asiakaspalvelu@demokauppa.example"]])
    """Addresses and phone numbers kept verbatim (the controller's own)."""
    controller_domains: list[str] = Field(default=[], examples=[["demokauppa.example"]])
    """Mail domains of the controller; the contact address's domain always is one."""
    role_mailboxes: list[str] = Field(default=[], examples=[["myynti"]])
    """Local parts of role mailboxes kept, added to the built-in ones (info, support, ...)."""
    staff: list[str] = Field(default=[], examples=[["Liisa Laine", "Mikko Aho"]])
    """People who act for the controller."""
    keep_staff: bool = True
    """Keep the staff's whole names and their addresses at the controller's domains."""
    region: str = Field(default="FI", pattern=r"^[A-Z]{2}$")
    """The country whose phone numbers and identifiers are looked for first."""
    detectors: list[str] = list(DETECTORS)
    """The detectors that find third-party data."""

    @field_validator("detectors")
    @classmethod
    def _known_detectors(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(DETECTORS))
        if unknown:
            raise ValueError(f"unknown detectors {', '.join(unknown)}; known: {', '.join(DETECTORS)}")
        return value

    def policy(self, controller: Controller) -> Policy:
        """The Policy for this controller: its contact address's domain, address and phone are its own."""
        domains = {d.lower() for d in self.controller_domains}
        domains.add(controller.contact_email.rpartition("@")[2].lower())
        own = tuple(value for value in (controller.postal_address, controller.phone) if value)
        return Policy(
            region=self.region, controller_domains=tuple(sorted(domains)),
            role_mailboxes=ROLE_MAILBOXES + tuple(self.role_mailboxes), keep=(*self.keep, *own),
            staff=tuple(self.staff), keep_staff=self.keep_staff, detectors=tuple(self.detectors),
        )


class SourceRun(_Strict):
    """How a source's extraction runs: at most `concurrency` at once over every worker (a Prefect global
    concurrency limit; none by default), and `retries` more tries after a failure, the n-th after
    `retry_backoff_seconds * 2**(n-1)` seconds, each delay stretched at random by up to `retry_jitter` of itself
    so that requests failing together do not all come back together."""

    concurrency: int | None = Field(default=None, ge=1, le=10_000, examples=[4])
    """At most this many extractions of this source at once, over every worker (none by default)."""
    retries: int = Field(default=2, ge=0, le=10)
    """More tries after a failure."""
    retry_backoff_seconds: float = Field(default=1.0, ge=0, le=3600)
    """The first retry's delay; each next one doubles."""
    retry_jitter: float = Field(default=0.5, ge=0, le=10)
    """Each delay is stretched at random by up to this fraction of itself."""


IdentifierKind = Literal["email", "phone", "customer_id"]


class _SourceKeys(_Strict):
    """`[[sources]]`: one source. Besides these keys, each has the keys of its `kind` (below).

    `provided_by_subject` says what of its records the subject gave us (Art. 20): every key (true), the keys
    named, or nothing. A trusted source's own records of the subject (`about_subject`) name their other
    identifiers: kind -> the record keys holding them; the sources after it search those too, and redaction
    keeps them. Name only keys whose values the controller itself checked (an address it confirmed by mail):
    what a customer typed unchecked would let them add anyone's address to their own request.
    """

    # The kind's own keys pass through to its settings model (extractors/registry.py).
    # Keys other modules read from a section (flows/labels.py: `label`, `labels`) join `_SPEC_KEYS` and this model.
    model_config = ConfigDict(extra="allow")

    name: str = Field(examples=["customers"])
    """The source's name: lower-case letters, digits, '_' and '-'; it names its folder in the package."""
    kind: str = Field(examples=["sql"])
    """The source kind (`sql`, `mail`, `mailchimp` or a plugin's)."""
    provided_by_subject: bool | list[str] = Field(default=False, examples=[["first_name", "email"]])
    """What the subject gave themselves (Art. 20, copied to `portability/`): every key (true) or the keys named."""
    identity_level: Level = "low"
    """The level of assurance a request needs before this source is searched."""
    trusted: bool = False
    """The source's own records of the subject name more of their identifiers (see `identifiers`)."""
    identifiers: dict[IdentifierKind, list[str]] | None = Field(default=None,
                                                                examples=[{"email": ["alt_email"]}])
    """A trusted source's record keys holding the subject's other identifiers, per kind; searched in the
    sources after it."""
    label: Label | None = Field(default=None, examples=[{"fi": "Asiakasrekisteri", "en": "Customer register"}])
    """What the package calls the source, in each of the controller's languages (default: its name made
    readable)."""
    labels: LabelTables = LabelTables()
    """What the package calls the source's categories and columns; see `[sources.labels]`."""

    @field_validator("name")
    @classmethod
    def _a_name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError("use lower-case letters, digits, '_' and '-'")
        return value

    @field_validator("provided_by_subject", mode="before")
    @classmethod
    def _provided(cls, value: object) -> object:
        if isinstance(value, bool) or (isinstance(value, list) and all(isinstance(key, str) for key in value)):
            return value
        raise ValueError("use true, false or a list of keys")

    @field_validator("identity_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        if value not in LEVELS:
            raise ValueError(f"use one of {', '.join(LEVELS)}")
        return value


class SourceSection(SourceRun, _SourceKeys):
    # Bases in this order put the source keys before the run keys (pydantic orders fields by reversed MRO).
    __doc__ = _SourceKeys.__doc__


class Notify(_Strict):
    """`[notify]`: mail to the privacy team about requests that failed and deadlines that come near."""

    team_email: Address | None = Field(default=None, examples=["tietosuoja@demokauppa.example"])
    """The privacy team's address; default: the controller's `contact_email`."""
    deadline_warning_days: int = Field(default=7, ge=1, le=60)
    """Warn this many days before a request's deadline."""


class Review(_Strict):
    """`[review]`: when a privacy officer approves a package before it is built (see flows/review.py)."""

    required: bool = False
    """Every request waits for approval."""
    when_withheld: bool = True
    """A request with withheld items waits for approval."""
    timeout_hours: int = Field(default=168, ge=1, le=24 * 90)
    """How long a deployment's run stays suspended for a decision before Prefect fails it; a decision made
    later still counts (`dsar review approve`, then `dsar run`)."""


class _File(_Strict):
    """The top level of `dsar.toml`."""

    env_file: str | None = Field(default=None, examples=["dsar.env"])
    """An owner-only file of KEY=VALUE lines that fills in the environment variables the environment lacks."""
    controller: Controller
    """See `[controller]`."""
    activities: list[Activity] = Field(min_length=1)
    """See `[[activities]]`."""
    identity: Identity = Identity()
    """See `[identity]`."""
    mail: Mail
    """See `[mail]`."""
    sms: Sms | None = None
    """See `[sms]`; without it no phone number can be added to a request."""
    store: Store = Store()
    """See `[store]`."""
    audit: Audit = Audit()
    """See `[audit]`."""
    sources: list[dict[str, Any]] = Field(min_length=1)
    """See `[[sources]]`; each section is validated by `SourceSection` and its kind's settings."""
    redaction: Redaction = Redaction()
    """See `[redaction]`."""
    storage: Storage = Storage()
    """See `[storage]`."""
    delivery: Delivery = Delivery()
    """See `[delivery]`."""
    portal: Portal = Portal()
    """See `[portal]`."""
    package: Package = Package()
    """See `[package]`."""
    notify: Notify = Notify()
    """See `[notify]`."""
    review: Review = Review()
    """See `[review]`."""


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
    portal: Portal
    package: Package
    review: Review
    environ: Mapping[str, str]
    notify: Notify = field(default_factory=Notify)
    sms: Sms | None = None
    audit: Audit = field(default_factory=Audit)
    env_file: Path | None = None
    from_env_file: frozenset[str] = frozenset()  # the variables `env_file` supplied (the environment lacked them)

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
    if not raw.get("sources"):  # what a fresh `dsar init` leaves to fill in
        raise ConfigError(path, "sources", "missing: add a [[sources]] section for each place that holds personal "
                          "data (see docs/config.md)")
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        key, message = first_problem(exc, _File)
        raise ConfigError(path, key or "(top level)", message) from None
    problem = missing_translation(parsed, parsed.controller.languages)
    if problem is not None:
        raise ConfigError(path, *problem)

    base_dir = path.parent
    env = dict(os.environ if environ is None else environ)
    env_file = base_dir / parsed.env_file if parsed.env_file else None
    from_env_file = set()
    if env_file is not None:
        for name, value in read_env_file(env_file, path).items():
            if name not in env:
                env[name] = value
                from_env_file.add(name)

    sources = []
    for index, section in enumerate(parsed.sources):
        # `_trust` and `source_labels` first: their messages name the exact kind, language or key at fault.
        trusted, identifiers = _trust(path, index, section)
        labels = source_labels(path, index, section, parsed.controller.languages)
        try:
            keys = SourceSection.model_validate(section)
        except ValidationError as exc:
            key, message = first_problem(exc, SourceSection)
            raise ConfigError(path, f"sources.{index}.{key}", message) from None
        provided = keys.provided_by_subject
        run = SourceRun.model_validate({k: getattr(keys, k) for k in SourceRun.model_fields})
        settings = {k: v for k, v in section.items() if k not in _SPEC_KEYS + _RUN_KEYS}
        sources.append(SourceSpec(keys.name, keys.kind, settings, tuple(provided) if isinstance(provided, list)
                                  else provided, keys.identity_level, run, trusted, identifiers, labels))
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

    try:
        parsed.storage.open(base_dir)
    except StorageSettingError as exc:
        raise ConfigError(path, f"storage.{exc.setting}", str(exc)) from None

    return Config(
        path=path, base_dir=base_dir, controller=parsed.controller, activities=parsed.activities,
        identity=parsed.identity, mail=parsed.mail, store=parsed.store, sources=sources,
        redaction=parsed.redaction, storage=parsed.storage, delivery=parsed.delivery, portal=parsed.portal,
        package=parsed.package, review=parsed.review, environ=env, notify=parsed.notify, sms=parsed.sms,
        audit=parsed.audit, env_file=env_file, from_env_file=frozenset(from_env_file),
    )
