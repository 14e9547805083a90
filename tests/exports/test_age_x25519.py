"""Sealing for an `age1...` recipient and opening with its identity; tampering fails closed."""

import io
import os
import secrets

import pytest

from exports import _age
from exports.encrypt import new_identity, open_file, seal_file, seal_stream
from exports.errors import DecryptionFailed

CHUNK = 64 * 1024


@pytest.fixture
def keys():
    return new_identity()


@pytest.fixture
def sealed(tmp_path, keys):
    plain = os.urandom(CHUNK * 2 + 100)
    (tmp_path / "plain").write_bytes(plain)
    seal_file(tmp_path / "plain", tmp_path / "f.age", recipient=keys[1])
    return tmp_path / "f.age", plain


def assert_fails(path, tmp_path, **key):
    with pytest.raises(DecryptionFailed):
        open_file(path, tmp_path / "out", **key)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_round_trip_and_header(sealed, keys, tmp_path):
    path, plain = sealed
    open_file(path, tmp_path / "out", identity=keys[0])
    assert (tmp_path / "out").read_bytes() == plain
    lines = path.read_bytes().split(b"\n")[:4]
    assert lines[0] == b"age-encryption.org/v1"
    assert lines[1].startswith(b"-> X25519 ") and len(_age.b64decode(lines[1][10:])) == 32
    assert len(_age.b64decode(lines[2])) == 32  # wrapped file key and its tag
    assert lines[3].startswith(b"--- ")


def test_each_seal_uses_a_fresh_ephemeral_key(tmp_path, keys):
    (tmp_path / "plain").write_bytes(b"x")
    seal_file(tmp_path / "plain", tmp_path / "a.age", recipient=keys[1])
    seal_file(tmp_path / "plain", tmp_path / "b.age", recipient=keys[1])
    assert (tmp_path / "a.age").read_bytes()[:80] != (tmp_path / "b.age").read_bytes()[:80]


@pytest.mark.parametrize("where", ["share", "wrapped_key", "mac", "nonce", "first_chunk", "last_chunk"])
def test_flipped_byte(sealed, keys, tmp_path, where):
    path, _ = sealed
    data = bytearray(path.read_bytes())
    header_len = data.index(b"\n", data.index(b"\n--- ") + 1) + 1
    offsets = {
        "share": data.index(b"X25519 ") + 10,
        "wrapped_key": data.index(b"\n", data.index(b"X25519")) + 3,
        "mac": data.index(b"--- ") + 6,
        "nonce": header_len + 3,
        "first_chunk": header_len + 16 + 100,
        "last_chunk": len(data) - 40,
    }
    data[offsets[where]] ^= 0x01
    path.write_bytes(bytes(data))
    assert_fails(path, tmp_path, identity=keys[0])


def test_truncated(sealed, keys, tmp_path):
    path, _ = sealed
    data = path.read_bytes()
    header_len = data.index(b"\n", data.index(b"\n--- ") + 1) + 1
    for cut in [len(data) - 1, header_len + 16 + 2 * (CHUNK + 16), header_len + 16 + CHUNK + 16, header_len, 30]:
        path.write_bytes(data[:cut])
        assert_fails(path, tmp_path, identity=keys[0])


def test_wrong_key_or_kind_of_key(sealed, tmp_path):
    path, _ = sealed
    assert_fails(path, tmp_path, identity=new_identity()[0])
    assert_fails(path, tmp_path, passphrase="correct horse")
    (tmp_path / "plain").write_bytes(b"x")
    seal_file(tmp_path / "plain", tmp_path / "p.age", passphrase="correct horse", work_factor=10)
    assert_fails(tmp_path / "p.age", tmp_path, identity=new_identity()[0])


def test_scrypt_stanza_beside_another_is_rejected(tmp_path, keys):
    # A well-formed file, MAC and all, that a passphrase and a key would both open: the spec forbids it,
    # since a passphrase file must open with the passphrase only.
    file_key = secrets.token_bytes(16)
    stanzas = [_age.ScryptRecipient(b"pw", 10).stanza(file_key), _age.parse_recipient(keys[1]).stanza(file_key)]
    header = _age.INTRO + b"".join(_age._stanza_text(*s) for s in stanzas) + b"---"
    mac = _age._header_mac(file_key, header).finalize()
    nonce = secrets.token_bytes(16)
    aead = _age.ChaCha20Poly1305(_age._hkdf(file_key, nonce, b"payload"))
    body = nonce + aead.encrypt(_age._chunk_nonce(0, True), b"hello", None)
    (tmp_path / "f.age").write_bytes(header + b" " + _age.b64encode(mac) + b"\n" + body)
    assert_fails(tmp_path / "f.age", tmp_path, passphrase="pw")
    assert_fails(tmp_path / "f.age", tmp_path, identity=keys[0])


def test_seal_stream_to_a_plain_writer(tmp_path, keys):
    class Parts:  # what an upload looks like: write() only, no seek, no fileno
        def __init__(self):
            self.parts = []

        def write(self, data):
            self.parts.append(bytes(data))

    out = Parts()
    plain = os.urandom(3 * CHUNK)
    seal_stream(io.BytesIO(plain), out, recipient=keys[1])
    (tmp_path / "f.age").write_bytes(b"".join(out.parts))
    open_file(tmp_path / "f.age", tmp_path / "out", identity=keys[0])
    assert (tmp_path / "out").read_bytes() == plain
    assert max(len(p) for p in out.parts) <= CHUNK + 16


def test_misuse(tmp_path, keys):
    (tmp_path / "plain").write_bytes(b"x")
    mistyped = keys[1][:-1] + ("q" if keys[1][-1] != "q" else "p")
    with pytest.raises(ValueError, match="invalid age recipient: its checksum"):
        seal_file(tmp_path / "plain", tmp_path / "f.age", recipient=mistyped)
    with pytest.raises(TypeError):
        seal_file(tmp_path / "plain", tmp_path / "f.age", passphrase="pw", recipient=keys[1])
    with pytest.raises(TypeError):
        seal_file(tmp_path / "plain", tmp_path / "f.age")
    with pytest.raises(TypeError):
        open_file(tmp_path / "plain", tmp_path / "out", passphrase="pw", identity=keys[0])
    assert not (tmp_path / "f.age").exists() and not (tmp_path / "out").exists()
