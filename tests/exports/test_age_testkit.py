"""Every X25519 and passphrase vector of the age test kit (tests/exports/age_testkit/README.md).

A success must give the payload whose sha256 the vector names. Every failure
(header, no match, HMAC, payload) must raise DecryptionFailed, and the
plaintext released before a payload failure must still match the vector's
hash: each chunk is authenticated before it is written.
"""

import hashlib
import io
import zlib
from pathlib import Path

import pytest

from exports import _age
from exports.errors import DecryptionFailed

VECTORS = sorted(p for p in (Path(__file__).parent / "age_testkit").iterdir() if p.name != "README.md")


class Hashing:
    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes, /) -> None:
        self.sha256.update(data)


def read_vector(path: Path) -> tuple[dict[str, list[str]], bytes]:
    text, _, body = path.read_bytes().partition(b"\n\n")
    fields: dict[str, list[str]] = {}
    for line in text.decode().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return fields, body


def test_the_kit_is_here():
    assert len(VECTORS) == 92


@pytest.mark.parametrize("path", VECTORS, ids=[p.name for p in VECTORS])
def test_vector(path):
    fields, body = read_vector(path)
    identities: list[_age.Identity] = [_age.ScryptIdentity(p.encode()) for p in fields.get("passphrase", [])]
    for text in fields.get("identity", []):
        identities += _age.parse_identities(text)
    out = Hashing()
    [expect] = fields["expect"]
    if expect == "success":
        _age.decrypt(io.BytesIO(body), out, identities)
    else:
        with pytest.raises(DecryptionFailed):
            _age.decrypt(io.BytesIO(body), out, identities)
    if "payload" in fields:
        assert out.sha256.hexdigest() == fields["payload"][0]
