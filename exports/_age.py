"""age v1 primitives (https://age-encryption.org/v1): the only exports module
that imports `cryptography`.

Two recipient types: scrypt (a passphrase) and X25519 (an `age1...` public
key; opened with its `AGE-SECRET-KEY-1...` identity). Everything streams:
the payload is read and written one 64 KiB chunk at a time, so memory stays
bounded whatever the file size. Any failure to decrypt raises the opaque
`DecryptionFailed`; callers cannot learn which check failed.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from exports import _bech32
from exports.errors import DecryptionFailed

INTRO = b"age-encryption.org/v1\n"
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
FILE_KEY_SIZE = 16
NONCE_SIZE = 16
SCRYPT_SALT_LABEL = b"age-encryption.org/v1/scrypt"
SCRYPT_SALT_SIZE = 16
X25519_LABEL = b"age-encryption.org/v1/X25519"
X25519_KEY_SIZE = 32
RECIPIENT_HRP = "age"
IDENTITY_HRP = "AGE-SECRET-KEY-"
# The age reference implementation refuses work factors above 22 when
# decrypting (about 4 GiB of scrypt memory at 2**22 * 1 KiB); so do we, so a
# hostile file cannot make us burn minutes and gigabytes.
MAX_WORK_FACTOR = 22
MIN_WORK_FACTOR = 1

_MAX_LINE = 4096
_MAX_STANZAS = 64
_B64_CHARS = re.compile(rb"^[A-Za-z0-9+/]*$")
_ARG = re.compile(rb"^[\x21-\x7e]+$")
_DECIMAL = re.compile(rb"^[1-9][0-9]*$")

Stanza = tuple[list[bytes], bytes]  # (arguments, starting with the type; body)


class Reader(Protocol):
    def read(self, size: int, /) -> bytes: ...


class Writer(Protocol):
    def write(self, data: bytes, /) -> object: ...


def b64encode(data: bytes) -> bytes:
    """Standard base64 without padding, as age writes it."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes) -> bytes:
    """Strict, canonical unpadded base64; anything else fails decryption."""
    if not _B64_CHARS.match(text) or len(text) % 4 == 1:
        raise DecryptionFailed()
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise DecryptionFailed() from None
    if b64encode(data) != text:  # non-zero trailing bits: not canonical
        raise DecryptionFailed()
    return data


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _scrypt_key(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    kdf = Scrypt(salt=SCRYPT_SALT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1)
    return kdf.derive(passphrase)


def _header_mac(file_key: bytes, header: bytes) -> hmac.HMAC:
    mac = hmac.HMAC(_hkdf(file_key, b"", b"header"), hashes.SHA256())
    mac.update(header)
    return mac


def _chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _read_full(src: Reader, size: int) -> bytes:
    """Read `size` bytes, or fewer only at end of file (pipes may return short reads)."""
    parts = []
    remaining = size
    while remaining:
        part = src.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _stanza_text(args: list[bytes], body: bytes) -> bytes:
    text = b64encode(body)
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    if len(text) % 64 == 0:  # a full last line (or none) is followed by an empty one, so readers know it ended
        lines.append(b"")
    return b"-> " + b" ".join(args) + b"\n" + b"".join(line + b"\n" for line in lines)


def _wrap(key: bytes, file_key: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(bytes(12), file_key, None)


def _unwrap(key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(key).decrypt(bytes(12), body, None)
    except InvalidTag:
        return None


@dataclass(frozen=True)
class ScryptRecipient:
    """A passphrase, stretched with scrypt at N = 2**work_factor."""

    passphrase: bytes = field(repr=False)
    work_factor: int

    def __post_init__(self) -> None:
        if not self.passphrase:
            raise ValueError("passphrase must not be empty")
        if not MIN_WORK_FACTOR <= self.work_factor <= MAX_WORK_FACTOR:
            raise ValueError(f"work factor must be between {MIN_WORK_FACTOR} and {MAX_WORK_FACTOR}")

    def stretched(self) -> StretchedScrypt:
        """The scrypt work done now, with a fresh salt: the slow half of `stanza`, ahead of the file key."""
        salt = secrets.token_bytes(SCRYPT_SALT_SIZE)
        return StretchedScrypt(salt, self.work_factor, _scrypt_key(self.passphrase, salt, self.work_factor))

    def stanza(self, file_key: bytes) -> Stanza:
        return self.stretched().stanza(file_key)


@dataclass(frozen=True)
class StretchedScrypt:
    """A passphrase's scrypt key for one salt; wrapping a file key with it is instant."""

    salt: bytes
    work_factor: int
    key: bytes = field(repr=False)

    def stanza(self, file_key: bytes) -> Stanza:
        return [b"scrypt", b64encode(self.salt), str(self.work_factor).encode()], _wrap(self.key, file_key)


@dataclass(frozen=True)
class X25519Recipient:
    """An `age1...` public key."""

    public_key: bytes

    def stanza(self, file_key: bytes) -> Stanza:
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(self.public_key))
        body = _wrap(_hkdf(shared, share + self.public_key, X25519_LABEL), file_key)
        return [b"X25519", b64encode(share)], body


class Recipient(Protocol):
    def stanza(self, file_key: bytes) -> Stanza: ...


def encrypt(src: Reader, dst: Writer, recipient: Recipient) -> None:
    """Write an age v1 file for `recipient`, encrypting `src` into `dst` one chunk at a time."""
    file_key = secrets.token_bytes(FILE_KEY_SIZE)
    header = INTRO + _stanza_text(*recipient.stanza(file_key)) + b"---"
    dst.write(header + b" " + b64encode(_header_mac(file_key, header).finalize()) + b"\n")

    nonce = secrets.token_bytes(NONCE_SIZE)
    dst.write(nonce)
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    counter = 0
    chunk = _read_full(src, CHUNK_SIZE)
    while True:
        following = _read_full(src, CHUNK_SIZE) if len(chunk) == CHUNK_SIZE else b""
        last = not following
        dst.write(aead.encrypt(_chunk_nonce(counter, last), chunk, None))
        if last:
            return
        chunk = following
        counter += 1


class LineReader(Reader, Protocol):
    def readline(self, size: int, /) -> bytes: ...


def _read_line(src: LineReader) -> bytes:
    line = src.readline(_MAX_LINE)
    if not line.endswith(b"\n"):
        raise DecryptionFailed()
    return line[:-1]


def _read_header(src: LineReader) -> tuple[list[Stanza], bytes, bytes]:
    """Parse the header: (stanzas as (args, body)), the MAC'd bytes, the MAC."""
    if _read_full(src, len(INTRO)) != INTRO:
        raise DecryptionFailed()
    header = bytearray(INTRO)
    stanzas: list[Stanza] = []
    while True:
        line = _read_line(src)
        if line.startswith(b"--- "):
            header += b"---"
            return stanzas, bytes(header), b64decode(line[4:])
        if not line.startswith(b"-> ") or len(stanzas) >= _MAX_STANZAS:
            raise DecryptionFailed()
        header += line + b"\n"
        args = line[3:].split(b" ")
        if not all(_ARG.match(arg) for arg in args):
            raise DecryptionFailed()
        body = bytearray()
        while True:
            body_line = _read_line(src)
            header += body_line + b"\n"
            if len(body_line) > 64:
                raise DecryptionFailed()
            body += b64decode(body_line)
            if len(body_line) < 64:
                break
        stanzas.append((args, bytes(body)))


@dataclass(frozen=True)
class ScryptIdentity:
    """Opens a file sealed for a passphrase."""

    passphrase: bytes = field(repr=False)

    def unwrap(self, stanzas: list[Stanza]) -> bytes | None:
        for args, body in stanzas:
            if args[0] != b"scrypt":
                continue
            if len(args) != 3 or not _DECIMAL.match(args[2]) or len(body) != FILE_KEY_SIZE + TAG_SIZE:
                raise DecryptionFailed()
            salt, work_factor = b64decode(args[1]), int(args[2])
            if len(salt) != SCRYPT_SALT_SIZE or work_factor > MAX_WORK_FACTOR:
                raise DecryptionFailed()
            return _unwrap(_scrypt_key(self.passphrase, salt, work_factor), body)
        return None


@dataclass(frozen=True)
class X25519Identity:
    """Opens a file sealed for the public key of this secret key."""

    secret_key: bytes = field(repr=False)

    def unwrap(self, stanzas: list[Stanza]) -> bytes | None:
        key = X25519PrivateKey.from_private_bytes(self.secret_key)
        ours = key.public_key().public_bytes_raw()
        for args, body in stanzas:
            if args[0] != b"X25519":
                continue
            if len(args) != 2 or len(body) != FILE_KEY_SIZE + TAG_SIZE:
                raise DecryptionFailed()
            share = b64decode(args[1])
            if len(share) != X25519_KEY_SIZE:
                raise DecryptionFailed()
            try:
                shared = key.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError:  # a low-order share gives the all-zero secret, which the spec rejects
                raise DecryptionFailed() from None
            file_key = _unwrap(_hkdf(shared, share + ours, X25519_LABEL), body)
            if file_key is not None:
                return file_key
        return None


class Identity(Protocol):
    def unwrap(self, stanzas: list[Stanza]) -> bytes | None:
        """The file key, None if no stanza is for this identity; DecryptionFailed for a malformed stanza."""
        ...


def decrypt(src: LineReader, dst: Writer, identities: Sequence[Identity]) -> None:
    """Decrypt an age v1 file from `src` into `dst` with the first identity that opens it.

    Each chunk is authenticated before it is written, but a truncated stream
    is only detected at the end: callers write to a temporary file and keep
    it only when this returns.
    """
    stanzas, header, mac = _read_header(src)
    # A scrypt stanza must be the only one, or the passphrase would not be the only way in.
    if len(stanzas) != 1 and any(args[0] == b"scrypt" for args, _ in stanzas):
        raise DecryptionFailed()
    file_key = next((k for k in (i.unwrap(stanzas) for i in identities) if k is not None), None)
    if file_key is None:
        raise DecryptionFailed()
    try:
        _header_mac(file_key, header).verify(mac)
    except InvalidSignature:
        raise DecryptionFailed() from None

    nonce = _read_full(src, NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise DecryptionFailed()
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    sealed_size = CHUNK_SIZE + TAG_SIZE
    counter = 0
    while True:
        chunk = _read_full(src, sealed_size)
        last = len(chunk) < sealed_size
        plain = _open_chunk(aead, counter, last, chunk)
        if plain is None and not last:
            # A full chunk may be the final one: no read-ahead, as in the reference implementation,
            # so exactly the chunks age would release are written before an error.
            last = True
            plain = _open_chunk(aead, counter, last, chunk)
        # Only an empty file may end in an empty chunk (the spec forbids it elsewhere).
        if plain is None or (last and not plain and counter):
            raise DecryptionFailed()
        dst.write(plain)
        if last:
            if src.read(1):  # anything after the final chunk
                raise DecryptionFailed()
            return
        counter += 1


def _open_chunk(aead: ChaCha20Poly1305, counter: int, last: bool, chunk: bytes) -> bytes | None:
    try:
        return aead.decrypt(_chunk_nonce(counter, last), chunk, None)
    except InvalidTag:  # also covers a chunk shorter than the tag, and a missing payload
        return None


def parse_recipient(text: str) -> X25519Recipient:
    """The X25519 recipient an `age1...` string names; ValueError saying what is wrong otherwise."""
    try:
        hrp, key = _bech32.decode(text.strip())
    except ValueError as e:
        raise ValueError(f"invalid age recipient: {e}") from None
    if hrp != RECIPIENT_HRP:
        raise ValueError("invalid age recipient: it must start with 'age1' in lower case, as age-keygen prints it")
    if len(key) != X25519_KEY_SIZE:
        raise ValueError(f"invalid age recipient: it holds {len(key)} bytes, an X25519 key has {X25519_KEY_SIZE}")
    try:  # a low-order point gives every sender the all-zero secret
        X25519PrivateKey.generate().exchange(X25519PublicKey.from_public_bytes(key))
    except ValueError:
        raise ValueError("invalid age recipient: it is not a usable X25519 public key") from None
    return X25519Recipient(key)


def parse_identities(text: str) -> list[X25519Identity]:
    """The identities in an age identity file's text (or one bare `AGE-SECRET-KEY-1...` key).

    As in age, lines starting with '#' and blank lines are skipped. Errors
    never quote the text: it is secret.
    """
    identities = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            hrp, key = _bech32.decode(line)
        except ValueError as e:
            raise ValueError(f"invalid age identity on line {number}: {e}") from None
        if hrp != IDENTITY_HRP or len(key) != X25519_KEY_SIZE:
            raise ValueError(f"invalid age identity on line {number}: expected an upper-case AGE-SECRET-KEY-1... key")
        identities.append(X25519Identity(key))
    if not identities:
        raise ValueError("no age identity found: expected a line with an AGE-SECRET-KEY-1... key")
    return identities


def new_identity() -> X25519Identity:
    """A fresh random X25519 identity, as `age-keygen` makes."""
    return X25519Identity(X25519PrivateKey.generate().private_bytes_raw())


def identity_text(identity: X25519Identity) -> str:
    """The `AGE-SECRET-KEY-1...` form of `identity`."""
    return _bech32.encode(IDENTITY_HRP, identity.secret_key)


def recipient_text(identity: X25519Identity) -> str:
    """The `age1...` public key that `identity` opens."""
    public = X25519PrivateKey.from_private_bytes(identity.secret_key).public_key().public_bytes_raw()
    return _bech32.encode(RECIPIENT_HRP, public)
