"""age v1 primitives (https://age-encryption.org/v1): the only exports module
that imports `cryptography`.

Only the scrypt (passphrase) recipient is implemented. Everything streams:
the payload is read and written one 64 KiB chunk at a time, so memory stays
bounded whatever the file size. Any failure to decrypt raises the opaque
`DecryptionFailed`; callers cannot learn which check failed.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import IO, BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from exports.errors import DecryptionFailed

INTRO = b"age-encryption.org/v1\n"
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
FILE_KEY_SIZE = 16
NONCE_SIZE = 16
SCRYPT_SALT_LABEL = b"age-encryption.org/v1/scrypt"
SCRYPT_SALT_SIZE = 16
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


def _read_full(src: BinaryIO, size: int) -> bytes:
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


def encrypt(src: BinaryIO, dst: IO[bytes], passphrase: bytes, work_factor: int) -> None:
    """Write an age v1 file with one scrypt stanza, encrypting `src` into `dst`."""
    if not MIN_WORK_FACTOR <= work_factor <= MAX_WORK_FACTOR:
        raise ValueError(f"work factor must be between {MIN_WORK_FACTOR} and {MAX_WORK_FACTOR}")
    file_key = secrets.token_bytes(FILE_KEY_SIZE)
    salt = secrets.token_bytes(SCRYPT_SALT_SIZE)
    wrap_key = _scrypt_key(passphrase, salt, work_factor)
    body = ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)
    # 32 bytes encode to 43 characters: a single body line, shorter than 64 as the spec requires.
    header = b"".join(
        [
            INTRO,
            b"-> scrypt " + b64encode(salt) + b" " + str(work_factor).encode() + b"\n",
            b64encode(body) + b"\n",
            b"---",
        ]
    )
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


def _read_line(src: BinaryIO) -> bytes:
    line = src.readline(_MAX_LINE)
    if not line.endswith(b"\n"):
        raise DecryptionFailed()
    return line[:-1]


def _read_header(src: BinaryIO) -> tuple[list[tuple[list[bytes], bytes]], bytes, bytes]:
    """Parse the header: (stanzas as (args, body)), the MAC'd bytes, the MAC."""
    if _read_full(src, len(INTRO)) != INTRO:
        raise DecryptionFailed()
    header = bytearray(INTRO)
    stanzas: list[tuple[list[bytes], bytes]] = []
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


def _unwrap_scrypt(stanzas: list[tuple[list[bytes], bytes]], passphrase: bytes) -> bytes:
    scrypt = [s for s in stanzas if s[0][0] == b"scrypt"]
    # A scrypt stanza must be the only one, or the passphrase would not be the only way in.
    if len(stanzas) != 1 or len(scrypt) != 1:
        raise DecryptionFailed()
    args, body = scrypt[0]
    if len(args) != 3 or not _DECIMAL.match(args[2]) or len(body) != FILE_KEY_SIZE + TAG_SIZE:
        raise DecryptionFailed()
    salt, work_factor = b64decode(args[1]), int(args[2])
    if len(salt) != SCRYPT_SALT_SIZE or work_factor > MAX_WORK_FACTOR:
        raise DecryptionFailed()
    try:
        return ChaCha20Poly1305(_scrypt_key(passphrase, salt, work_factor)).decrypt(bytes(12), body, None)
    except InvalidTag:
        raise DecryptionFailed() from None


def decrypt(src: BinaryIO, dst: IO[bytes], passphrase: bytes) -> None:
    """Decrypt an age v1 scrypt file from `src` into `dst`.

    Each chunk is authenticated before it is written, but a truncated stream
    is only detected at the end: callers write to a temporary file and keep
    it only when this returns.
    """
    stanzas, header, mac = _read_header(src)
    file_key = _unwrap_scrypt(stanzas, passphrase)
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
    chunk = _read_full(src, sealed_size)
    while True:
        following = _read_full(src, sealed_size) if len(chunk) == sealed_size else b""
        last = not following
        try:
            plain = aead.decrypt(_chunk_nonce(counter, last), chunk, None)
        except InvalidTag:  # also covers a chunk shorter than the tag, and a missing payload
            raise DecryptionFailed() from None
        # Only an empty file may end in an empty chunk (the spec forbids it elsewhere).
        if last and not plain and counter:
            raise DecryptionFailed()
        dst.write(plain)
        if last:
            return
        chunk = following
        counter += 1
