"""The secrets a config names, loaded and checked in one place.

Each loader reads its environment variable and checks its format, raising one
ConfigError that names the variable (never its value): a malformed key is a
line to fix, not a traceback at the first command that happens to need it.

    DSAR_LEDGER_KEY   base64 of a 32-byte Ed25519 private key (signs the ledger)
    DSAR_PACKAGE_KEY  base64 of a 32-byte Ed25519 private key (signs every package)
    DSAR_LINK_SECRET  at least 32 bytes (signs download links, HS256); e.g. the base64 of 32 random bytes
    SMTP password     present whenever `[mail.smtp] username_env` is set
"""

from __future__ import annotations

from collections.abc import Callable

from audit.signing import KEY_SIZE, load_private_key
from exports.links import MIN_SECRET_BYTES, check_secret
from extractors.records import Finding
from flows.config import Config
from flows.errors import ConfigError


def _ed25519(config: Config, env: str, key: str) -> bytes:
    value = config.secret(env, key)
    try:
        return load_private_key(value)
    except ValueError:
        raise ConfigError(config.path, key, f"{env} must hold the base64 of a {KEY_SIZE}-byte Ed25519 private "
                                            "key") from None


def ledger_key(config: Config) -> bytes:
    """The raw Ed25519 key that signs the audit ledger."""
    return _ed25519(config, config.store.ledger_key_env, "store.ledger_key_env")


def package_key(config: Config) -> bytes:
    """The raw Ed25519 key that signs every package's manifest."""
    return _ed25519(config, config.package.signing_key_env, "package.signing_key_env")


def link_secret(config: Config) -> bytes:
    """The HMAC key of download links."""
    env = config.delivery.link_secret_env
    value = config.secret(env, "delivery.link_secret_env").encode("utf-8")
    try:
        check_secret(value)
    except ValueError:
        raise ConfigError(config.path, "delivery.link_secret_env",
                          f"{env} must be at least {MIN_SECRET_BYTES} bytes long (e.g. the base64 of "
                          f"{MIN_SECRET_BYTES} random bytes)") from None
    return value


def smtp_login(config: Config) -> tuple[str, str] | None:
    """The SMTP user name and password, or None when the server takes mail without a login."""
    smtp = config.mail.smtp
    if smtp is None or smtp.username_env is None:
        return None
    if smtp.password_env is None:
        raise ConfigError(config.path, "mail.smtp.password_env", "missing: a username_env needs a password_env")
    return (config.secret(smtp.username_env, "mail.smtp.username_env"),
            config.secret(smtp.password_env, "mail.smtp.password_env"))


def check_secrets(config: Config) -> list[Finding]:
    """One finding per secret the config names: ok, or an error naming the variable and what to fix."""
    checks: list[tuple[str, Callable[[Config], object]]] = [
        (config.store.ledger_key_env, ledger_key),
        (config.package.signing_key_env, package_key),
        (config.delivery.link_secret_env, link_secret),
    ]
    smtp = config.mail.smtp
    if smtp is not None and smtp.username_env is not None:
        checks.append((smtp.password_env or smtp.username_env, smtp_login))
    findings = []
    for env, load in checks:
        try:
            load(config)
        except ConfigError as exc:
            # The key and the problem; the config's path is known to whoever runs the check.
            findings.append(Finding("error", f"secret {env}", f"{exc.key}: {exc.message}"))
        else:
            findings.append(Finding("ok", f"secret {env}", "set, well formed"))
    return findings

