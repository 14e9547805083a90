"""Our age files open with the real `age` CLI, and its files open with ours: passphrase and X25519,
at the sizes around the 64 KiB chunk boundary."""

import os

import pytest

from exports.encrypt import new_passphrase, open_file, seal_file, seal_to, stretch_passphrase
from exports.errors import DecryptionFailed
from tests.exports.age_cli import (
    age_decrypt,
    age_decrypt_with_identity,
    age_encrypt,
    age_encrypt_to_recipient,
    age_keygen,
)

CHUNK = 64 * 1024
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1]
FAST = 12  # scrypt work factor where the size is what is under test; the shipped default has its own test


@pytest.fixture
def plain(tmp_path, request):
    data = os.urandom(request.param)
    (tmp_path / "plain").write_bytes(data)
    return tmp_path / "plain", data


@pytest.mark.parametrize("plain", SIZES, indirect=True)
def test_passphrase_we_seal_age_opens(tmp_path, plain):
    path, data = plain
    passphrase = new_passphrase()
    seal_file(path, tmp_path / "f.age", passphrase=passphrase, work_factor=FAST)
    assert age_decrypt(tmp_path / "f.age", passphrase) == data


@pytest.mark.parametrize("plain", [CHUNK + 1], indirect=True)
def test_a_passphrase_stretched_ahead_seals_what_age_opens(tmp_path, plain):
    """The scrypt work done before the file exists (in another thread, while the package is built) gives the same
    standard file, and `age` opens it with the passphrase alone."""
    path, data = plain
    passphrase = new_passphrase()
    stretched = stretch_passphrase(passphrase, work_factor=FAST)
    assert passphrase not in repr(stretched)
    with (tmp_path / "f.age").open("wb") as out:
        seal_to(path, out, passphrase=stretched)
    assert age_decrypt(tmp_path / "f.age", passphrase) == data
    open_file(tmp_path / "f.age", tmp_path / "opened", passphrase=passphrase)
    assert (tmp_path / "opened").read_bytes() == data


@pytest.mark.parametrize("plain", [1], indirect=True)
def test_default_work_factor_opens_with_age(tmp_path, plain):
    path, data = plain
    passphrase = new_passphrase()
    seal_file(path, tmp_path / "f.age", passphrase=passphrase)
    assert b" 18\n" in (tmp_path / "f.age").read_bytes()[:200]  # what `age -p` uses
    assert age_decrypt(tmp_path / "f.age", passphrase) == data


@pytest.mark.parametrize("plain", SIZES, indirect=True)
def test_passphrase_age_seals_we_open(tmp_path, plain):
    path, data = plain
    age_encrypt(path, tmp_path / "f.age", "kissa istuu puussa")
    open_file(tmp_path / "f.age", tmp_path / "out", passphrase="kissa istuu puussa")
    assert (tmp_path / "out").read_bytes() == data


@pytest.mark.parametrize("plain", [1], indirect=True)
def test_wrong_passphrase_fails_on_an_age_file(tmp_path, plain):
    age_encrypt(plain[0], tmp_path / "f.age", "kissa istuu puussa")
    with pytest.raises(DecryptionFailed):
        open_file(tmp_path / "f.age", tmp_path / "out2", passphrase="kissa istuu puussa!")
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize("plain", SIZES, indirect=True)
def test_x25519_we_seal_age_opens(tmp_path, plain):
    path, data = plain
    identity, recipient = age_keygen(tmp_path)
    seal_file(path, tmp_path / "f.age", recipient=recipient)
    assert age_decrypt_with_identity(tmp_path / "f.age", identity) == data


@pytest.mark.parametrize("plain", SIZES, indirect=True)
def test_x25519_age_seals_we_open(tmp_path, plain):
    path, data = plain
    identity, recipient = age_keygen(tmp_path)
    age_encrypt_to_recipient(path, tmp_path / "f.age", recipient)
    # The identity file as age-keygen wrote it, comments and all.
    open_file(tmp_path / "f.age", tmp_path / "out", identity=identity.read_text())
    assert (tmp_path / "out").read_bytes() == data


@pytest.mark.parametrize("plain", [1], indirect=True)
def test_other_identity_fails_on_an_age_file(tmp_path, plain):
    _, recipient = age_keygen(tmp_path)
    age_encrypt_to_recipient(plain[0], tmp_path / "f.age", recipient)
    (tmp_path / "other").mkdir()
    other, _ = age_keygen(tmp_path / "other")
    with pytest.raises(DecryptionFailed):
        open_file(tmp_path / "f.age", tmp_path / "out2", identity=other.read_text())
    assert not (tmp_path / "out2").exists()
