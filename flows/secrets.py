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
from pathlib import Path

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
    """The raw Ed25519 key that signs the audit ledger: from `[store] ledger_key_file` when set, else from
    its environment variable."""
    if config.store.ledger_key_file is None:
        return _ed25519(config, config.store.ledger_key_env, "store.ledger_key_env")
    path = ledger_key_path(config)
    assert path is not None
    try:
        if path.stat().st_mode & 0o077:
            raise ConfigError(config.path, "store.ledger_key_file", f"{path} must be readable by its owner only "
                                                                    "(chmod 600)")
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        problem = "does not exist" if isinstance(exc, FileNotFoundError) else f"cannot be read ({type(exc).__name__})"
        raise ConfigError(config.path, "store.ledger_key_file", f"{path} {problem}") from None
    try:
        return load_private_key(text)
    except ValueError:
        raise ConfigError(config.path, "store.ledger_key_file", f"{path} must hold the base64 of a {KEY_SIZE}-byte "
                                                                "Ed25519 private key") from None


def ledger_key_path(config: Config) -> Path | None:
    """`[store] ledger_key_file`, relative to the config's directory; None when the key is in the environment."""
    named = config.store.ledger_key_file
    return None if named is None else (config.base_dir / named).resolve()


def ledger_key_beside(config: Config) -> str | None:
    """Why the ledger key sits beside the ledger, and where it belongs; None when it does not.

    Beside means in the data directory (the config's, where a SQLite store and the checkpoint live): whoever
    can rewrite the database there can then re-sign it.
    """
    data_dirs = {config.base_dir.resolve()}
    store = config.sqlalchemy_url(config.store.url)
    if store.startswith("sqlite:///") and store != "sqlite:///:memory:":
        data_dirs.add(Path(store.removeprefix("sqlite:///")).resolve().parent)
    path = ledger_key_path(config)
    if path is None and config.store.ledger_key_env in config.from_env_file and config.env_file is not None:
        where = f"comes from {config.env_file.name}"
        path = config.env_file.resolve()
    else:
        where = f"is in {path}"
    if path is None or not any(path.is_relative_to(d) for d in data_dirs):
        return None
    return (f"the ledger signing key {where}, beside the ledger in its data directory: whoever can rewrite the "
            "ledger can re-sign it. Move it to a file of its own outside the data directory, owned by the "
            "account that runs flows ([store] ledger_key_file, chmod 600), or into that account's environment "
            f"({config.store.ledger_key_env}), and publish `dsar audit public-key` to auditors")


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
    ledger_name = config.store.ledger_key_file or config.store.ledger_key_env
    checks: list[tuple[str, Callable[[Config], object]]] = [
        (ledger_name, ledger_key),
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
    beside = ledger_key_beside(config)
    if beside is not None:
        findings.insert(1, Finding("warning", f"secret {ledger_name}", beside))  # beside the key's own finding
    return findings

