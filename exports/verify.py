"""Check a package: its manifest's Ed25519 signature, then every member against the manifest.

The manifest is `REQ-ID/index.json`; `REQ-ID/index.json.sig` holds base64 of
the signature over its exact bytes. The public key is always the caller's
(the controller's published key): a key carried inside the package would
prove nothing. `exports._zipcheck` makes sure no byte of the zip escapes the
checks; this module checks what the zip holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from audit.errors import InvalidSignature
from audit.signing import verify
from exports._zipcheck import Member, member_chunks, read_structure
from exports.encrypt import open_file
from exports.errors import DecryptionFailed, PackageInvalid
from exports.request_ids import check_request_id

MANIFEST_VERSION = 2
_MAX_MANIFEST = 64 << 20  # a manifest lists files; 64 MiB is far beyond any real package's
_MAX_SIGNATURE = 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FILE_KEYS = {"path", "sha256", "bytes", "records", "schema"}


@dataclass(frozen=True)
class VerifiedFile:
    """One member as the signed manifest lists it, and as the zip was found to hold it."""

    path: str
    sha256: str
    bytes: int
    records: int | None
    schema: str | None


@dataclass(frozen=True)
class VerifiedPackage:
    request_id: str
    manifest_sha256: str
    files: tuple[VerifiedFile, ...]


def verify_package(package: Path | str | BinaryIO, public_key: bytes) -> VerifiedPackage:
    """Verify the package zip at `package` (a path, or a seekable binary file) under `public_key` (raw 32 bytes).

    Returns what was verified; raises `PackageInvalid` naming the first bad
    member: the zip's structure first, then the signature, the manifest, the
    members listed or not, and the members' sizes and hashes in path order.
    Memory stays bounded: members are hashed as they are inflated. Raises
    ValueError for a public key that is not 32 bytes.
    """
    with _opened(package) as f:
        members = {m.name: m for m in read_structure(f)}
        request_id, manifest, listed = _signed_manifest(
            list(members), public_key, lambda name, limit: _read_small(f, members[name], limit))
        # The builder stamps every member with the manifest's time: any other time would be bytes that no hash
        # covers, free to carry something, and a file that is not the one delivered.
        stamp = _stamp(manifest, f"{request_id}/index.json")
        for member in members.values():
            if member.date_time != stamp:
                raise PackageInvalid(member.name, "its time is not index.json's generated_at")
        for name, file in _listed_members(list(members), request_id, listed):
            _check_member(f, members[name], file)
    return VerifiedPackage(request_id, hashlib.sha256(manifest).hexdigest(), listed)


def verify_sealed_package(package: Path, public_key: bytes, *, passphrase: str | None = None,
                          identity: str | None = None) -> VerifiedPackage:
    """Decrypt the age file `package` (with a passphrase, or the text of an age identity file) into a private
    temporary file, verify it as `verify_package`, remove it.

    Raises `DecryptionFailed` for a wrong passphrase or key, or a damaged age file.
    """
    # mkdtemp makes the directory owner-only, and atomic_write's file inside it is owner-only too.
    with tempfile.TemporaryDirectory(prefix="dsar-verify-") as tmp:
        plain = Path(tmp) / "package.zip"
        open_file(Path(package), plain, passphrase=passphrase, identity=identity)
        return verify_package(plain, public_key)


def verify_aes_package(package: Path, public_key: bytes, passphrase: str) -> VerifiedPackage:
    """Verify a WinZip AES zip (a package sealed `--with zip-aes`): the signature and every member's contents,
    as `verify_package`. The zip around them is the AES writer's, not the builder's, so what is checked is what
    it holds, not its bytes. Raises `DecryptionFailed` for a wrong passphrase, PackageInvalid otherwise.
    """
    import pyzipper

    try:
        zf = pyzipper.AESZipFile(package)
    except (OSError, zipfile.BadZipFile):
        raise PackageInvalid("(zip)", "not a zip file") from None
    with zf:
        zf.setpassword(passphrase.encode("utf-8"))
        names = zf.namelist()
        if len(set(names)) != len(names):
            raise PackageInvalid(next(n for n in names if names.count(n) > 1), "in the zip twice")
        request_id, manifest, listed = _signed_manifest(
            names, public_key, lambda name, limit: _read_limited(zf, name, limit))
        for name, file in _listed_members(names, request_id, listed):
            _check_digest(_chunks(zf, name, file.bytes), name, file)
    return VerifiedPackage(request_id, hashlib.sha256(manifest).hexdigest(), listed)


def _signed_manifest(names: list[str], public_key: bytes, read: Callable[[str, int], bytes],
                     ) -> tuple[str, bytes, tuple[VerifiedFile, ...]]:
    """The request id, index.json and the files it lists, once every name is a plain path under the request's
    folder and the signature holds; `read(name, limit)` gives a member's bytes."""
    request_id = _request_id(names)
    index_name, sig_name = f"{request_id}/index.json", f"{request_id}/index.json.sig"
    for name in names:
        _check_path(name, request_id)
    if sig_name not in names:
        raise PackageInvalid(sig_name, "missing: the package is not signed")
    manifest = read(index_name, _MAX_MANIFEST)
    try:
        verify(public_key, manifest, _signature(read(sig_name, _MAX_SIGNATURE), sig_name))
    except InvalidSignature:
        raise PackageInvalid(sig_name, "signature does not match index.json under this public key") from None
    return request_id, manifest, _files(manifest, request_id, index_name)


def _listed_members(names: list[str], request_id: str, listed: tuple[VerifiedFile, ...],
                    ) -> Iterator[tuple[str, VerifiedFile]]:
    """Each member with its manifest entry, in path order; PackageInvalid for one missing or not listed."""
    by_path, present = {file.path: file for file in listed}, set(names)
    signed = {f"{request_id}/index.json", f"{request_id}/index.json.sig"}
    for name in sorted(present - signed | set(by_path)):
        if name not in present:
            raise PackageInvalid(name, "listed in index.json but missing from the zip")
        if name not in by_path:
            raise PackageInvalid(name, "in the zip but not listed in index.json")
        yield name, by_path[name]


def _chunks(zf: zipfile.ZipFile, name: str, limit: int) -> Iterator[bytes]:
    """A member's contents, decrypted, 64 KiB at a time, never more than `limit` + 1 bytes (a zip bomb stops)."""
    read = 0
    try:
        with zf.open(name) as member:
            while read <= limit and (chunk := member.read(min(1 << 16, limit + 1 - read))):
                read += len(chunk)
                yield chunk
    except RuntimeError:  # pyzipper's word for a wrong password
        raise DecryptionFailed() from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError):
        raise PackageInvalid(name, "damaged: it does not decrypt and inflate") from None


def _read_limited(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    data = b"".join(_chunks(zf, name, limit))
    if len(data) > limit:
        raise PackageInvalid(name, f"larger than {limit} bytes")
    return data


@contextmanager
def _opened(package: Path | str | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(package, str | Path):
        with open(package, "rb") as f:
            yield f
    else:
        yield package


def _request_id(names: Iterable[str]) -> str:
    """The REQ-ID of the one `REQ-ID/index.json` in the zip."""
    indexes = [name for name in names if name.count("/") == 1 and name.endswith("/index.json")]
    if not indexes:
        raise PackageInvalid("index.json", "missing: no REQ-ID/index.json in the zip")
    if len(indexes) > 1:
        raise PackageInvalid(indexes[1], "a second index.json")
    request_id = indexes[0].partition("/")[0]
    try:
        return check_request_id(request_id)
    except ValueError:
        raise PackageInvalid(indexes[0], "not under a REQ-<letters and digits>/ folder") from None


def _check_path(path: str, request_id: str) -> None:
    if not path.startswith(f"{request_id}/"):
        raise PackageInvalid(path, f"outside {request_id}/")
    parts = path.split("/")[1:]
    if "\\" in path or any(part in ("", ".", "..") for part in parts):
        raise PackageInvalid(path, "not a plain relative path")


def _read_small(f: BinaryIO, member: Member, limit: int) -> bytes:
    if member.size > limit:
        raise PackageInvalid(member.name, f"larger than {limit} bytes")
    return b"".join(member_chunks(f, member))


def _signature(text: bytes, sig_name: str) -> bytes:
    try:
        sig = base64.b64decode(text.removesuffix(b"\n"), validate=True)
    except (binascii.Error, ValueError):
        sig = b""
    # Only the one encoding the builder writes: no other bytes can hide in the .sig file.
    if len(sig) != 64 or base64.b64encode(sig) + b"\n" != text:
        raise PackageInvalid(sig_name, "not base64 of a 64-byte Ed25519 signature and a newline")
    return sig


def _files(manifest: bytes, request_id: str, index_name: str) -> tuple[VerifiedFile, ...]:
    """The manifest's `files`, checked for shape; anything else about it is the signer's business."""
    try:
        index = json.loads(manifest.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PackageInvalid(index_name, "not valid UTF-8 JSON") from None
    if not isinstance(index, dict) or index.get("schema_version") != MANIFEST_VERSION:
        raise PackageInvalid(index_name, f"not a schema_version {MANIFEST_VERSION} manifest")
    if index.get("request_id") != request_id:
        raise PackageInvalid(index_name, f"request_id is not {request_id}")
    files = index.get("files")
    if not isinstance(files, list) or not all(isinstance(item, dict) and set(item) == _FILE_KEYS for item in files):
        raise PackageInvalid(index_name, "files must be a list of {path, sha256, bytes, records, schema}")
    listed = tuple(_file(item, request_id, index_name) for item in files)
    paths = [file.path for file in listed]
    if paths != sorted(set(paths)):
        raise PackageInvalid(index_name, "files are not sorted by path, or a path is listed twice")
    for file in listed:
        if file.path in (index_name, f"{index_name}.sig"):
            raise PackageInvalid(index_name, "lists itself or its signature")
        if file.schema is not None and file.schema not in paths:
            raise PackageInvalid(index_name, f"schema {file.schema} of {file.path} is not listed")
    return listed


def _stamp(manifest: bytes, index_name: str) -> tuple[int, int, int, int, int, int]:
    """index.json's generated_at as a zip member's time (UTC, whole seconds rounded down to even ones)."""
    value = json.loads(manifest.decode("utf-8")).get("generated_at")
    try:
        moment = datetime.fromisoformat(value.removesuffix("Z") + "+00:00") if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or not value.endswith("Z"):
        raise PackageInvalid(index_name, "generated_at is not a UTC time such as 2026-01-02T03:04:05Z")
    return moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second - moment.second % 2


def _file(item: dict[str, Any], request_id: str, index_name: str) -> VerifiedFile:
    path, sha256, size, records, schema = (item[key] for key in ("path", "sha256", "bytes", "records", "schema"))

    def count(value: Any) -> bool:
        return type(value) is int and value >= 0  # bool is an int subclass, and not a count

    if not (isinstance(path, str) and isinstance(sha256, str) and _SHA256.match(sha256) and count(size)
            and (records is None or count(records)) and (schema is None or isinstance(schema, str))):
        raise PackageInvalid(index_name, f"malformed entry in files: {ascii(path)[:80]}")
    _check_path(path, request_id)
    return VerifiedFile(path, sha256, size, records, schema)


def _check_member(f: BinaryIO, member: Member, listed: VerifiedFile) -> None:
    if member.size != listed.bytes:
        raise PackageInvalid(member.name, f"{member.size} bytes, index.json says {listed.bytes}")
    _check_digest(member_chunks(f, member), member.name, listed)


def _check_digest(chunks: Iterable[bytes], name: str, listed: VerifiedFile) -> None:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    if size != listed.bytes:
        raise PackageInvalid(name, f"{size} bytes, index.json says {listed.bytes}")
    if digest.hexdigest() != listed.sha256:
        raise PackageInvalid(name, "sha256 differs from index.json")

