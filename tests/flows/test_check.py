"""`dsar check` and `dsar request new`'s refusal, as a privacy officer meets them: the demo company passes;
each secret, SMTP (aiosmtpd on loopback) and storage (a local directory, moto's S3 over HTTP) fails with one
line naming what to fix, never a value."""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from exports.storage import LocalStorage
from exports.storage.s3 import S3Storage
from extractors.records import Finding
from flows.check import check_file, check_smtp, check_sources, check_worm, line, probe_storage
from flows.config import Config, load_config
from flows.demo.run import demo_company, demo_key_file, verified_requests
from flows.demo.settings import demo_config
from flows.errors import ConfigError
from flows.runtime import Runtime, open_runtime
from flows.secrets import check_secrets
from tests.flows.test_cli import dsar
from tests.support import free_port, missing, need_command

HEX_KEY = secrets.token_hex(32)  # 32 bytes, but hex: what the privacy officer put in DSAR_LEDGER_KEY
SHORT_KEY = base64.b64encode(secrets.token_bytes(16)).decode()
SHORT_SECRET = secrets.token_hex(8)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Path]:
    with demo_company(tmp_path_factory.mktemp("check") / "demo") as (_, path):
        yield path


_configs = itertools.count(1)


def variant(demo: Path, old: str, new: str) -> Path:
    """The demo's config with one edit, beside it (its relative paths and env file still apply)."""
    text = demo.read_text(encoding="utf-8")
    assert old in text
    path = demo.with_name(f"variant-{next(_configs)}.toml")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_demo_passes_with_one_line_per_check(demo: Path) -> None:
    result = dsar("check", "--config", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    whats = [text.split(None, 1)[1].split(":")[0] for text in lines]
    assert whats == [
        "config", f"secret {demo_key_file(demo.parent)}", "secret DSAR_PACKAGE_KEY",
        "secret DSAR_LINK_SECRET", "source customers table customers", "source customers table orders",
        "source customers table order_items",
        "source support_mail archive", "source support_mail index", "source marketing api", "smtp", "storage"]
    statuses = {what: text.split()[0] for what, text in zip(whats, lines, strict=True)}
    assert statuses.pop("source support_mail index") == "warning"  # no index built: slower, still correct
    assert set(statuses.values()) == {"ok"}
    as_json = dsar("check", "--json", "--config", str(demo))
    assert as_json.returncode == 0
    assert [line(Finding(**item)) for item in json.loads(as_json.stdout)] == lines


def test_a_config_that_does_not_load_is_one_error(demo: Path) -> None:
    broken = variant(demo, 'business_id = "1234567-1"\n', "")
    assert check_file(broken) == [Finding("error", "config", "controller.business_id: missing")]
    result = dsar("check", "--config", str(broken))
    assert (result.returncode, result.stdout) == (1, "error   config: controller.business_id: missing\n")


@pytest.mark.parametrize(("env", "value", "key", "problem"), [
    ("DSAR_LEDGER_KEY", HEX_KEY, "store.ledger_key_env",
     "DSAR_LEDGER_KEY must hold the base64 of a 32-byte Ed25519 private key"),
    ("DSAR_PACKAGE_KEY", SHORT_KEY, "package.signing_key_env",
     "DSAR_PACKAGE_KEY must hold the base64 of a 32-byte Ed25519 private key"),
    ("DSAR_LINK_SECRET", SHORT_SECRET, "delivery.link_secret_env",
     "DSAR_LINK_SECRET must be at least 32 bytes long (e.g. the base64 of 32 random bytes)"),
], ids=["ledger-hex", "package-short", "link-short"])
def test_a_malformed_secret_is_named_by_check_and_by_its_loader(demo: Path, env: str, value: str, key: str,
                                                                problem: str) -> None:
    path = key_in_env(demo) if env == "DSAR_LEDGER_KEY" else demo
    config = load_config(path, {env: value})  # the env file and the key file fill in the others
    findings = check_secrets(config)
    assert [f for f in findings if f.status == "error"] == [Finding("error", f"secret {env}", f"{key}: {problem}")]
    assert all(value not in f.message for f in findings)
    rt = Runtime(config)
    load = {"DSAR_LEDGER_KEY": lambda: rt.ledger_public_key, "DSAR_PACKAGE_KEY": lambda: rt.package_key,
            "DSAR_LINK_SECRET": lambda: rt.link_secret}[env]
    with pytest.raises(ConfigError) as raised:
        load()
    assert str(raised.value) == f"{path}: {key}: {problem}"


def key_in_env(demo: Path) -> Path:
    """The demo's config with its ledger key read from DSAR_LEDGER_KEY, as `dsar init` writes it."""
    return variant(demo, "ledger_key_file = ", "# ledger_key_file = ")


def test_a_hex_ledger_key_is_one_line_at_audit_public_key_and_check(demo: Path) -> None:
    demo = key_in_env(demo)
    env = {**os.environ, "DSAR_LEDGER_KEY": HEX_KEY}
    result = dsar("audit", "public-key", "--config", str(demo), env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"dsar: error: {demo}: store.ledger_key_env: DSAR_LEDGER_KEY must hold "
                                          "the base64 of a 32-byte Ed25519 private key"]
    assert "Traceback" not in result.stderr and HEX_KEY not in result.stdout + result.stderr
    checked = dsar("check", "--config", str(demo), env=env)
    assert checked.returncode == 1 and HEX_KEY not in checked.stdout
    assert ("error   secret DSAR_LEDGER_KEY: store.ledger_key_env: DSAR_LEDGER_KEY must hold the base64 of a "
            "32-byte Ed25519 private key") in checked.stdout.splitlines()


SMTP_SECTION = 'outbox = "outbox"\n\n[mail.smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = {starttls}\n{login}'
LOGIN = 'username_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n'


def smtp_config(demo: Path, port: int, *, starttls: bool = False, login: str = "", **environ: str) -> Config:
    path = variant(demo, 'outbox = "outbox"\n',
                   SMTP_SECTION.format(port=port, starttls=str(starttls).lower(), login=login))
    return load_config(path, environ)


def test_smtp_credentials_are_secrets_too(demo: Path) -> None:
    unset = check_secrets(smtp_config(demo, 25, login=LOGIN, SMTP_USER="dsar"))
    assert unset[-1] == Finding("error", "secret SMTP_PASSWORD",
                                "mail.smtp.password_env: environment variable SMTP_PASSWORD is not set")
    no_password = check_secrets(smtp_config(demo, 25, login='username_env = "SMTP_USER"\n', SMTP_USER="dsar"))
    assert no_password[-1] == Finding("error", "secret SMTP_USER",
                                      "mail.smtp.password_env: missing: a username_env needs a password_env")


@pytest.fixture
def smtp_login_server() -> Iterator[tuple[int, list]]:
    """aiosmtpd on loopback taking AUTH LOGIN/PLAIN for dsar / right-password (no TLS: loopback only)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult, LoginPassword

    received: list = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    def authenticator(server, session, envelope, mechanism, auth_data):
        right = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"dsar", b"right-password")
        return AuthResult(success=right, handled=False)  # handled=True would leave the reply to us

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def test_smtp_connects_logs_in_and_sends_nothing(demo: Path, smtp_login_server) -> None:
    port, received = smtp_login_server
    where = f"127.0.0.1:{port}"
    assert check_smtp(smtp_config(demo, port)) == [Finding("ok", "smtp", f"{where} answered; no mail sent")]
    good = smtp_config(demo, port, login=LOGIN, SMTP_USER="dsar", SMTP_PASSWORD="right-password")
    assert check_smtp(good) == [Finding("ok", "smtp", f"{where} answered, login accepted; no mail sent")]
    bad = smtp_config(demo, port, login=LOGIN, SMTP_USER="dsar", SMTP_PASSWORD="wrong-password")
    [refused] = check_smtp(bad)
    assert refused == Finding("error", "smtp", f"{where} refused the login (535): check the user name and password")
    [no_tls] = check_smtp(smtp_config(demo, port, starttls=True))
    assert no_tls.status == "error" and no_tls.message.startswith(f"{where} does not offer STARTTLS")
    assert received == [], "a check sends no mail"


def test_smtp_a_closed_port_is_an_error(demo: Path) -> None:
    port = free_port()  # nothing listens there
    assert check_smtp(smtp_config(demo, port)) == [
        Finding("error", "smtp", f"cannot talk to 127.0.0.1:{port} (ConnectionRefusedError)")]


def test_storage_probe_leaves_nothing_and_names_a_directory_it_cannot_write(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "packages")
    assert probe_storage(storage) == Finding("ok", "storage", "local directory: a probe object was written and deleted")
    assert list(storage.keys()) == []
    (tmp_path / "a-file").write_text("")
    assert probe_storage(LocalStorage(tmp_path / "a-file" / "packages")) == Finding(
        "error", "storage", "local directory: cannot write (NotADirectoryError)")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory no one may write into; as root (who ignores modes) made immutable with chattr +i."""
    path = tmp_path / "packages"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    chattr = need_command("chattr")
    if subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False).returncode != 0:
        missing("chattr +i on the temporary directory's file system")
    try:
        yield path
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_storage_a_read_only_directory_is_an_error(read_only_dir: Path) -> None:
    [finding] = [probe_storage(LocalStorage(read_only_dir))]
    assert finding == Finding("error", "storage", "local directory: cannot write (PermissionError)")


def test_storage_s3_probe_on_moto_and_a_missing_bucket(s3_bucket) -> None:
    storage = S3Storage(s3_bucket.name, "packages", kms_key_id=s3_bucket.kms_key_id,
                        endpoint_url=s3_bucket.endpoint_url, region="eu-north-1")
    assert probe_storage(storage) == Finding(
        "ok", "storage", f"s3://{s3_bucket.name}/packages: a probe object was written and deleted")
    assert s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name).get("KeyCount") == 0
    gone = S3Storage("no-such-bucket", kms_key_id=s3_bucket.kms_key_id, endpoint_url=s3_bucket.endpoint_url,
                     region="eu-north-1")
    assert probe_storage(gone) == Finding("error", "storage", "storage s3://no-such-bucket: NoSuchBucket")


class _Plain:
    def __init__(self, name, settings, base_dir, environ) -> None:
        self.name = name

    def records(self, subject):
        return iter(())


class _Broken(_Plain):
    def check(self):
        raise RuntimeError("matti.meikalainen@example.fi")  # a plugin's text may hold anything
        yield


class _BrokenInit(_Plain):
    def __init__(self, name, settings, base_dir, environ) -> None:
        raise KeyError("matti.meikalainen@example.fi")  # a plugin that fails being built: one error, no text


def test_a_plugin_that_cannot_be_built_is_one_error_naming_its_source(demo: Path) -> None:
    findings = list(check_sources(load_config(demo), kinds={"sql": _Plain, "mail": _BrokenInit, "mailchimp": _Plain}))
    assert findings == [
        Finding("ok", "source customers", "loaded (kind sql does not check itself)"),
        Finding("error", "source support_mail", "could not be built (KeyError)"),
        Finding("ok", "source marketing", "loaded (kind mailchimp does not check itself)")]


def test_a_source_without_check_is_loaded_and_a_broken_check_names_its_source(demo: Path) -> None:
    config = load_config(demo)
    plain = list(check_sources(config, kinds={"sql": _Plain, "mail": _Plain, "mailchimp": _Broken}))
    assert plain == [
        Finding("ok", "source customers", "loaded (kind sql does not check itself)"),
        Finding("ok", "source support_mail", "loaded (kind mail does not check itself)"),
        Finding("error", "source marketing", "check failed (RuntimeError)")]
    unknown = list(check_sources(config, "customers", kinds={}))
    assert unknown == [Finding("error", "source customers", "sources.0: kind: unknown source kind 'sql' (known: )")]


def test_request_new_refuses_while_check_fails_and_force_proceeds(demo: Path) -> None:
    unreachable = demo.with_name("unreachable.toml")
    unreachable.write_text(demo_config("http://127.0.0.1:9/3.0", "x@demokauppa.example", demo_key_file(demo.parent)),
                           encoding="utf-8")
    outbox = demo.parent / "outbox"
    before = set(outbox.glob("*")) if outbox.exists() else set()
    registered = dsar("requests", "list", "--config", str(unreachable)).stdout.splitlines()
    refused = dsar("request", "new", "--email", "refused.check@example.fi", "--config", str(unreachable))
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "error   source marketing api: marketing platform unreachable; gave up after 1 attempt",
        "dsar: error: `dsar check` finds the errors above; no request was registered and no code sent (fix them, "
        "or pass --force)"]
    assert dsar("requests", "list", "--config", str(unreachable)).stdout.splitlines() == registered
    assert (set(outbox.glob("*")) if outbox.exists() else set()) == before

    forced = dsar("request", "new", "--email", "forced.check@example.fi", "--force", "--config", str(unreachable))
    assert forced.returncode == 0, forced.stderr
    assert "a one-time code was sent" in forced.stdout
    assert "dsar: warning: --force: registering despite the errors above" in forced.stderr.splitlines()
    assert list(outbox.glob(f"{forced.stdout.split()[0]}-code-*.eml"))


def test_run_stops_on_a_short_link_secret_before_anything_runs(demo: Path) -> None:
    rt = open_runtime(demo)
    [request_id] = verified_requests(rt, ["short.secret@example.fi"])
    env = {**os.environ, "DSAR_LINK_SECRET": SHORT_SECRET}
    result = dsar("run", request_id, "--config", str(demo), env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"dsar: error: {demo}: delivery.link_secret_env: DSAR_LINK_SECRET must be at least 32 bytes long "
        "(e.g. the base64 of 32 random bytes)"]
    assert rt.store.get(request_id).status == "verified", "nothing ran, nothing was mailed"



def test_worm_copies_need_a_bucket_with_object_lock_and_s3_storage_without_them_is_a_warning(demo, s3_bucket):
    locked = f"{s3_bucket.name}-locked"
    s3_bucket.client.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True,
                                   CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    storage = (f'[storage]\nurl = "s3://{s3_bucket.name}/packages"\nkms_key_id = "{s3_bucket.kms_key_id}"\n'
               f'endpoint_url = "{s3_bucket.endpoint_url}"\nregion = "eu-north-1"\n')
    local = '[storage]\nurl = "file://packages"\n'
    assert check_worm(load_config(variant(demo, local, storage))) == [Finding(
        "warning", "worm", "storage is S3 but [audit] worm_url is not set: nothing outside the database shows a "
                           "ledger truncated or re-signed with a stolen key")]
    assert check_worm(load_config(demo)) == []  # local storage: the checkpoint file is the anchor
    for bucket, expected in [
        (locked, Finding("ok", "worm", f"s3://{locked} has Object Lock; each copy is kept 2190 days in "
                                       "compliance mode")),
        (s3_bucket.name, Finding("error", "worm", f"s3://{s3_bucket.name} has no Object Lock: its copies could "
                                                  "be deleted (create the bucket with Object Lock enabled)")),
        ("no-such-bucket", Finding("error", "worm", "WORM copies s3://no-such-bucket: NoSuchBucket")),
    ]:
        config = variant(demo, local, f'{storage}\n[audit]\nworm_url = "s3://{bucket}/ledger"\n')
        assert check_worm(load_config(config)) == [expected]
