import io
import os
import re

import pytest

from exports import _age
from exports.encrypt import new_passphrase, open_file, seal_file
from exports.errors import DecryptionFailed

FAST = 10  # scrypt work factor for tests that do not talk to the CLI
CHUNK = 64 * 1024


@pytest.fixture
def sealed(tmp_path):
    plain = os.urandom(CHUNK * 2 + 100)
    (tmp_path / "plain").write_bytes(plain)
    seal_file(tmp_path / "plain", tmp_path / "f.age", passphrase="correct horse", work_factor=FAST)
    return tmp_path / "f.age", plain


def test_passphrase_shape_and_entropy():
    phrases = {new_passphrase() for _ in range(200)}
    assert len(phrases) == 200
    for phrase in phrases:
        assert re.fullmatch(r"[a-km-np-z2-9]{5}(-[a-km-np-z2-9]{5}){4}", phrase)
    # 25 symbols from an alphabet of 32: 125 bits.
    assert len(set("".join(phrases).replace("-", ""))) == 32


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_round_trip(tmp_path, size):
    plain = os.urandom(size)
    (tmp_path / "plain").write_bytes(plain)
    seal_file(tmp_path / "plain", tmp_path / "f.age", passphrase="pw", work_factor=FAST)
    sealed = (tmp_path / "f.age").read_bytes()
    header_end = sealed.index(b"\n--- ")
    header_end = sealed.index(b"\n", header_end + 1) + 1
    chunks = max(1, -(-size // CHUNK))
    assert len(sealed) == header_end + 16 + size + 16 * chunks
    open_file(tmp_path / "f.age", tmp_path / "out", passphrase="pw")
    assert (tmp_path / "out").read_bytes() == plain


def test_header_format(sealed):
    path, _ = sealed
    lines = path.read_bytes().split(b"\n")[:4]
    assert lines[0] == b"age-encryption.org/v1"
    assert re.fullmatch(rb"-> scrypt [A-Za-z0-9+/]{22} 10", lines[1])
    assert re.fullmatch(rb"[A-Za-z0-9+/]{43}", lines[2])
    assert re.fullmatch(rb"--- [A-Za-z0-9+/]{43}", lines[3])


def assert_fails(path, tmp_path, passphrase=None):
    passphrase = passphrase or "correct horse"
    with pytest.raises(DecryptionFailed) as info:
        open_file(path, tmp_path / "out", passphrase=passphrase)
    assert passphrase not in str(info.value)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_wrong_passphrase(sealed, tmp_path):
    assert_fails(sealed[0], tmp_path, "correct horse battery")


@pytest.mark.parametrize("where", ["intro", "salt", "work_factor", "body", "mac", "nonce", "first_chunk", "last_tag"])
def test_flipped_byte(sealed, tmp_path, where):
    path, _ = sealed
    data = bytearray(path.read_bytes())
    header_len = data.index(b"\n", data.index(b"\n--- ") + 1) + 1
    offsets = {
        "intro": 0,
        "salt": data.index(b"scrypt ") + 8,
        "work_factor": data.index(b" 10\n") + 2,
        "body": data.index(b"\n", data.index(b"scrypt")) + 3,
        "mac": data.index(b"--- ") + 6,
        "nonce": header_len + 3,
        "first_chunk": header_len + 16 + 100,
        "last_tag": len(data) - 1,
    }
    data[offsets[where]] ^= 0x01
    path.write_bytes(bytes(data))
    assert_fails(path, tmp_path)


def test_truncated(sealed, tmp_path):
    path, _ = sealed
    data = path.read_bytes()
    header_len = data.index(b"\n", data.index(b"\n--- ") + 1) + 1
    sealed_chunk = CHUNK + 16
    for cut in [
        len(data) - 1,
        header_len + 16 + 2 * sealed_chunk,
        header_len + 16 + sealed_chunk,
        header_len + 16,
        header_len + 5,
        header_len - 1,
        10,
    ]:
        path.write_bytes(data[:cut])
        assert_fails(path, tmp_path)


def test_extended(sealed, tmp_path):
    path, _ = sealed
    data = path.read_bytes()
    for extra in [b"\x00", os.urandom(16), os.urandom(CHUNK + 16)]:
        path.write_bytes(data + extra)
        assert_fails(path, tmp_path)


def test_empty_final_chunk_rejected(tmp_path):
    # A full chunk followed by an empty last chunk: valid crypto, but the spec forbids it.
    plain = os.urandom(CHUNK)
    (tmp_path / "plain").write_bytes(plain)
    seal_file(tmp_path / "plain", tmp_path / "ok.age", passphrase="correct horse", work_factor=FAST)
    good = (tmp_path / "ok.age").read_bytes()
    header_len = good.index(b"\n", good.index(b"\n--- ") + 1) + 1
    stanzas, _, _ = _age._read_header(io.BytesIO(good))
    file_key = _age.ScryptIdentity(b"correct horse").unwrap(stanzas)
    assert file_key is not None
    nonce = good[header_len : header_len + 16]
    aead = _age.ChaCha20Poly1305(_age._hkdf(file_key, nonce, b"payload"))
    payload = aead.encrypt(_age._chunk_nonce(0, False), plain, None)
    payload += aead.encrypt(_age._chunk_nonce(1, True), b"", None)
    (tmp_path / "bad.age").write_bytes(good[: header_len + 16] + payload)
    assert_fails(tmp_path / "bad.age", tmp_path)


def test_other_recipient_types_rejected(tmp_path):
    (tmp_path / "x.age").write_bytes(
        b"age-encryption.org/v1\n-> X25519 AAAA\nAAAA\n--- " + b"A" * 43 + b"\n" + bytes(40)
    )
    assert_fails(tmp_path / "x.age", tmp_path)


def test_work_factor_too_high_rejected_without_running_scrypt(sealed, tmp_path):
    path, _ = sealed
    path.write_bytes(path.read_bytes().replace(b" 10\n", b" 40\n", 1))
    assert_fails(path, tmp_path)


def test_non_canonical_base64_rejected():
    with pytest.raises(DecryptionFailed):
        _age.b64decode(b"AB")  # trailing bits set: canonical is "AA"
    with pytest.raises(DecryptionFailed):
        _age.b64decode(b"AA==")
    assert _age.b64decode(b"AA") == b"\x00"


def test_misuse_is_value_error(tmp_path):
    (tmp_path / "plain").write_bytes(b"x")
    with pytest.raises(ValueError):
        seal_file(tmp_path / "plain", tmp_path / "f.age", passphrase="")
    with pytest.raises(ValueError):
        seal_file(tmp_path / "plain", tmp_path / "f.age", passphrase="pw", work_factor=23)
    assert not (tmp_path / "f.age").exists()


def test_seal_to_a_stream_returns_the_hash_of_what_it_wrote(tmp_path):
    import hashlib

    from exports.encrypt import seal_to
    from tests.exports.age_cli import age_decrypt

    plain = os.urandom(_age.CHUNK_SIZE * 2 + 5)
    (tmp_path / "plain").write_bytes(plain)
    out = io.BytesIO()
    digest = seal_to(tmp_path / "plain", out, passphrase="pass-phrase", work_factor=10)
    assert digest == hashlib.sha256(out.getvalue()).hexdigest()
    (tmp_path / "sealed.age").write_bytes(out.getvalue())
    assert age_decrypt(tmp_path / "sealed.age", "pass-phrase") == plain
