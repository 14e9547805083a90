"""The demo company with OIDC login through a test identity provider whose JWKS is served on 127.0.0.1."""

import sqlite3
from pathlib import Path

from flows.demo.company import DemoCompany
from flows.demo.run import write_demo_config
from tests.identity.oidc_provider import CLIENT_ID, Provider

OIDC_METHODS = '[identity]\nmethods = ["email_code", "oidc"]\n'


def with_oidc_method(config: str) -> str:
    """The demo config's text with `oidc` among the identity methods of its [identity] section."""
    assert config.count("[identity]\n") == 1, "the demo config has one [identity] section"
    return config.replace("[identity]\n", OIDC_METHODS)


def with_oidc(config: str, provider: Provider, **changes: object) -> str:
    """The demo config's text with the oidc method and an [identity.oidc] section for `provider`."""
    settings: dict[str, object] = {
        "issuer": provider.issuer, "client_id": CLIENT_ID, "jwks_url": provider.url, "leeway_seconds": 30,
        "claims_to_match": ["name", "birthdate", "hetu"], **changes}
    lines = [f"{key} = {_toml(value)}" for key, value in settings.items()]
    return with_oidc_method(config) + "\n[identity.oidc]\n" + "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value) if isinstance(value, int) else f'"{value}"'


def write_oidc_config(company: DemoCompany, mailchimp_url: str, provider: Provider) -> Path:
    """The demo's dsar.toml with `oidc` among the identity methods and `provider` as the issuer."""
    path = write_demo_config(company, mailchimp_url)
    path.write_text(with_oidc(path.read_text(encoding="utf-8"), provider), encoding="utf-8")
    return path


def claims_on_record(company: DemoCompany, email: str) -> dict[str, str]:
    """The name and birth date the demo's customer record holds for `email`: what a bank would assert for that
    customer (their login's claims are checked against the record)."""
    with sqlite3.connect(company.customers_db) as db:
        row = db.execute("SELECT first_name, last_name, birth_date FROM customers WHERE lower(email) = ?",
                         (email.lower(),)).fetchone()
    return {} if row is None else {"name": f"{row[0]} {row[1]}", "birthdate": row[2]}
