"""`dsar verify` and `dsar package public-key` as a requester, an auditor and a privacy officer run them."""

import os
from pathlib import Path

import pytest

from audit.signing import encode_key, generate_key, load_private_key, public_key
from flows.config import read_env_file
from flows.demo.run import prepare_demo, write_demo_config
from tests.exports.age_cli import age_encrypt
from tests.exports.signed_package import REQUEST_ID, write_package
from tests.flows.test_cli import dsar

PASSPHRASE = "tulppa-kissa-7"


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    company, _ = prepare_demo(tmp_path_factory.mktemp("verify") / "demo")
    return write_demo_config(company, "http://127.0.0.1:9/3.0")


@pytest.fixture(scope="module")
def package_key(config) -> bytes:
    return load_private_key(read_env_file(config.parent / "dsar.env", config)["DSAR_PACKAGE_KEY"])


def secrets_shown(result, *secrets: str) -> list[str]:
    return [s for s in secrets if s in result.stdout + result.stderr]


@pytest.mark.parametrize("command", [["verify"], ["package"], ["package", "public-key"]])
def test_commands_have_help(command):
    result = dsar(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout, result.stderr


def test_verify_with_the_configured_controllers_key(config, package_key, tmp_path):
    package = write_package(tmp_path / f"{REQUEST_ID}.zip", package_key)
    result = dsar("verify", str(package), "--config", str(config))
    assert (result.returncode, result.stdout) == (0, f"OK {REQUEST_ID}: 4 files verified\n"), result.stderr

    published = dsar("package", "public-key", "--config", str(config))
    assert published.stdout == encode_key(public_key(package_key)) + "\n"
    assert secrets_shown(published, encode_key(package_key)) == []

    # An auditor with only the published key, as text or as a file, and no config.
    (tmp_path / "controller.pub").write_text(published.stdout)
    no_config = {k: v for k, v in os.environ.items() if k not in ("DSAR_CONFIG", "DSAR_PACKAGE_KEY")}
    for given in (published.stdout.strip(), str(tmp_path / "controller.pub")):
        result = dsar("verify", str(package), "--public-key", given, env=no_config)
        assert result.returncode == 0 and result.stdout.startswith(f"OK {REQUEST_ID}"), result.stderr


def test_a_changed_package_exits_1_naming_the_member(config, package_key, tmp_path):
    package = write_package(tmp_path / "p.zip", package_key)
    data = bytearray(package.read_bytes())
    data[80] ^= 0x01  # inside README.html's compressed data, the first member
    package.write_bytes(bytes(data))
    result = dsar("verify", str(package), "--config", str(config))
    assert result.returncode == 1
    assert result.stdout.startswith(f"FAILED p.zip: {REQUEST_ID}/README.html: ")


def test_a_package_signed_by_another_key_exits_1(config, tmp_path):
    other = generate_key()
    package = write_package(tmp_path / "p.zip", other)
    result = dsar("verify", str(package), "--config", str(config))
    assert (result.returncode, result.stdout) == (
        1, f"FAILED p.zip: {REQUEST_ID}/index.json.sig: signature does not match index.json under this public key\n")
    # The signer's own (private) key pasted by mistake: still not trusted, and not echoed.
    mistaken = dsar("verify", str(package), "--public-key", encode_key(other), "--config", str(config))
    assert mistaken.returncode == 1 and secrets_shown(mistaken, encode_key(other)) == []


def test_usage_errors_exit_2_without_echoing_the_key(config, package_key, tmp_path):
    package = write_package(tmp_path / "p.zip", package_key)
    garbage = "c2VjcmV0LW5vdC1hLWtleQ=="
    result = dsar("verify", str(package), "--public-key", garbage)
    assert result.returncode == 2 and "not a base64 Ed25519 public key" in result.stderr
    assert secrets_shown(result, garbage) == []
    assert dsar("verify", str(tmp_path / "missing.zip"), "--config", str(config)).returncode == 2

    broken = dict(os.environ, DSAR_PACKAGE_KEY="not-a-key")  # the environment wins over dsar.env
    result = dsar("verify", str(package), "--config", str(config), env=broken)
    assert result.returncode == 2
    assert result.stderr == (f"dsar: error: {config}: package.signing_key_env: "
                             "DSAR_PACKAGE_KEY must hold the base64 of a 32-byte Ed25519 private key\n")
    assert "not-a-key" not in result.stdout


def test_a_sealed_package_with_a_passphrase_file(config, package_key, tmp_path):
    sealed = tmp_path / f"{REQUEST_ID}.zip.age"
    age_encrypt(write_package(tmp_path / "p.zip", package_key), sealed, PASSPHRASE)
    (tmp_path / "passphrase").write_text(PASSPHRASE + "\n")
    work = tmp_path / "tmp"
    work.mkdir()
    env = dict(os.environ, TMPDIR=str(work))

    result = dsar("verify", str(sealed), "--passphrase-file", str(tmp_path / "passphrase"), "--config", str(config),
                  env=env)
    assert (result.returncode, result.stdout) == (0, f"OK {REQUEST_ID}: 4 files verified\n"), result.stderr
    assert secrets_shown(result, PASSPHRASE) == []
    assert list(work.iterdir()) == []  # the decrypted copy is gone

    (tmp_path / "wrong").write_text("wrong passphrase\n")
    wrong = dsar("verify", str(sealed), "--passphrase-file", str(tmp_path / "wrong"), "--config", str(config), env=env)
    assert (wrong.returncode, wrong.stdout) == (
        1, f"FAILED {sealed.name}: decryption failed: wrong passphrase or key, or damaged file\n")
    assert list(work.iterdir()) == []

    missing = dsar("verify", str(sealed), "--config", str(config))
    assert missing.returncode == 2 and "--passphrase-file" in missing.stderr


def test_a_package_sealed_to_the_requesters_age_key_with_identity(config, package_key, tmp_path):
    from exports.encrypt import seal_file
    from tests.exports.age_cli import age_keygen

    identity, recipient = age_keygen(tmp_path)
    sealed = tmp_path / f"{REQUEST_ID}.zip.age"
    seal_file(write_package(tmp_path / "p.zip", package_key), sealed, recipient=recipient)
    ok = dsar("verify", str(sealed), "--identity", str(identity), "--config", str(config))
    assert (ok.returncode, ok.stdout) == (0, f"OK {REQUEST_ID}: 4 files verified\n"), ok.stderr
    (tmp_path / "other").mkdir()
    other, _ = age_keygen(tmp_path / "other")
    wrong = dsar("verify", str(sealed), "--identity", str(other), "--config", str(config))
    assert wrong.returncode == 1 and "decryption failed" in wrong.stdout
    assert "AGE-SECRET-KEY" not in ok.stdout + ok.stderr + wrong.stdout + wrong.stderr


def test_a_password_protected_zip_with_a_passphrase_file(config, package_key, tmp_path):
    """A package sealed `--with zip-aes`: checked inside the AES zip, member by member."""
    import pyzipper

    from exports.zip_aes import seal_zip_aes

    aes = tmp_path / f"{REQUEST_ID}.zip"
    seal_zip_aes(write_package(tmp_path / "p.zip", package_key), aes, PASSPHRASE)
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    ok = dsar("verify", str(aes), "--passphrase-file", str(tmp_path / "pass"), "--config", str(config))
    assert (ok.returncode, ok.stdout) == (0, f"OK {REQUEST_ID}: 4 files verified\n"), ok.stderr
    (tmp_path / "wrong").write_text("wrong passphrase\n")
    wrong = dsar("verify", str(aes), "--passphrase-file", str(tmp_path / "wrong"), "--config", str(config))
    assert wrong.returncode == 1 and "decryption failed" in wrong.stdout
    # The same members, one of them changed, re-zipped with the same passphrase: the digest names it.
    changed = tmp_path / "changed.zip"
    with pyzipper.AESZipFile(aes) as src, pyzipper.AESZipFile(changed, "w", compression=pyzipper.ZIP_DEFLATED,
                                                               encryption=pyzipper.WZ_AES) as dst:
        src.setpassword(PASSPHRASE.encode())
        dst.setpassword(PASSPHRASE.encode())
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(b"Hello", b"Hallo") if name.endswith("README.html") else data)
    bad = dsar("verify", str(changed), "--passphrase-file", str(tmp_path / "pass"), "--config", str(config))
    assert bad.returncode == 1 and f"{REQUEST_ID}/README.html: sha256 differs" in bad.stdout
    assert PASSPHRASE not in ok.stdout + ok.stderr + bad.stdout + bad.stderr
