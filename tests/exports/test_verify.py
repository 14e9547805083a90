"""`verify_package`: a signed package verifies; any change to it, or a wrong key, fails naming the first bad member."""

import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path

import pytest

from audit.signing import generate_key, public_key
from exports import verify as verify_module
from exports.errors import DecryptionFailed, PackageInvalid
from exports.verify import verify_package, verify_sealed_package
from tests.exports.age_cli import age_encrypt
from tests.exports.signed_package import MEMBERS, REQUEST_ID, manifest, write_package

KEY = generate_key()
PUBLIC = public_key(KEY)
INDEX, SIG = f"{REQUEST_ID}/index.json", f"{REQUEST_ID}/index.json.sig"


def invalid(package, key: bytes = PUBLIC) -> PackageInvalid:
    with pytest.raises(PackageInvalid) as caught:
        verify_package(package, key)
    return caught.value


@pytest.mark.parametrize("streamed", [False, True], ids=["seekable", "streamed with data descriptors"])
def test_a_good_package_verifies(tmp_path, streamed):
    path = write_package(tmp_path / "p.zip", KEY, streamed=streamed)
    verified = verify_package(path, PUBLIC)
    assert verified.request_id == REQUEST_ID
    assert [f.path for f in verified.files] == sorted(MEMBERS)
    assert {f.path: f.sha256 for f in verified.files} == {p: hashlib.sha256(d).hexdigest() for p, d in MEMBERS.items()}
    with zipfile.ZipFile(path) as zf:
        assert verified.manifest_sha256 == hashlib.sha256(zf.read(INDEX)).hexdigest()
    # A file object works as well as a path.
    assert verify_package(io.BytesIO(path.read_bytes()), PUBLIC) == verified


def test_a_package_rewritten_with_other_member_times_fails(tmp_path):
    """The same contents and signature, every member re-stamped (and re-deflated): another file, refused."""
    good = write_package(tmp_path / "p.zip", KEY)
    rewritten = tmp_path / "rewritten.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(rewritten, "w") as dst:
        for entry in src.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(2099, 12, 31, 23, 59, 58))
            info.compress_type, info.create_system, info.external_attr = entry.compress_type, 3, entry.external_attr
            dst.writestr(info, src.read(entry), compresslevel=1)
    assert rewritten.read_bytes() != good.read_bytes()
    assert "time is not index.json's generated_at" in str(invalid(rewritten))


@pytest.mark.parametrize(("streamed", "flip"), [(False, 0xFF), (False, 0x01), (False, 0x80), (True, 0xFF)])
def test_a_one_byte_change_at_every_offset_fails(tmp_path, streamed, flip):
    good = write_package(tmp_path / "p.zip", KEY, streamed=streamed).read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        local = zf.getinfo(f"{REQUEST_ID}/report.xlsx").header_offset
    name_length, extra_length = struct.unpack_from("<HH", good, local + 26)
    # Incompressible, so deflate stores it: its first byte is a stored block's 3-bit header and 5 padding bits.
    padding = local + 30 + name_length + extra_length
    passed = []
    for offset in range(len(good)):  # local headers, data, central directory, end records: every byte
        changed = bytearray(good)
        changed[offset] ^= flip
        try:
            verify_package(io.BytesIO(bytes(changed)), PUBLIC)
        except PackageInvalid:
            continue
        passed.append(offset)
    # Inflaters skip a stored block's padding bits: a change confined to them alters no byte a reader
    # extracts and cannot be seen (see exports/_zipcheck.py). Any change that touches bit 0 can.
    assert passed == ([padding] if flip == 0x80 else [])


def test_a_wrong_key_fails_at_the_signature(tmp_path):
    path = write_package(tmp_path / "p.zip", KEY)
    error = invalid(path, public_key(generate_key()))
    assert (error.member, error.reason) == (SIG, "signature does not match index.json under this public key")


def test_a_key_that_is_not_32_bytes_is_misuse(tmp_path):
    with pytest.raises(ValueError, match="32 raw bytes"):
        verify_package(write_package(tmp_path / "p.zip", KEY), PUBLIC[:31])


def test_an_unsigned_package_fails(tmp_path):
    error = invalid(write_package(tmp_path / "p.zip", KEY, signed=False))
    assert (error.member, error.reason) == (SIG, "missing: the package is not signed")


def test_a_resigned_package_needs_the_controllers_key(tmp_path):
    """Someone who alters a file and signs again with their own key is caught by the controller's key."""
    members = {**MEMBERS, f"{REQUEST_ID}/README.html": b"<p>All is well, nothing else was found.</p>"}
    path = write_package(tmp_path / "p.zip", generate_key(), members)
    assert invalid(path).member == SIG


def test_a_member_added_removed_or_renamed_is_named(tmp_path):
    extra = f"{REQUEST_ID}/data/crm/orders.json"
    added = write_package(tmp_path / "added.zip", KEY, {**MEMBERS, extra: b"[]"}, listed=MEMBERS)
    assert (invalid(added).member, invalid(added).reason) == (extra, "in the zip but not listed in index.json")

    readme = f"{REQUEST_ID}/README.html"
    kept = {p: d for p, d in MEMBERS.items() if p != readme}
    removed = write_package(tmp_path / "removed.zip", KEY, kept, listed=MEMBERS)
    missing = "listed in index.json but missing from the zip"
    assert (invalid(removed).member, invalid(removed).reason) == (readme, missing)

    renamed = write_package(tmp_path / "renamed.zip", KEY, {**kept, f"{REQUEST_ID}/xREADME.html": MEMBERS[readme]},
                            listed=MEMBERS)
    assert invalid(renamed).member == readme


def test_changed_content_is_named_by_size_or_hash(tmp_path):
    path_ = f"{REQUEST_ID}/data/crm/customer.json"
    longer = write_package(tmp_path / "longer.zip", KEY, {**MEMBERS, path_: MEMBERS[path_] + b" "}, listed=MEMBERS)
    assert (invalid(longer).member, invalid(longer).reason) == (path_, "2081 bytes, index.json says 2080")
    same_size = MEMBERS[path_].replace(b"Customer 7", b"Customer 8")
    swapped = write_package(tmp_path / "swapped.zip", KEY, {**MEMBERS, path_: same_size}, listed=MEMBERS)
    assert (invalid(swapped).member, invalid(swapped).reason) == (path_, "sha256 differs from index.json")


def test_a_path_outside_the_request_folder_fails(tmp_path):
    for name in ("REQ-OTHER/data.json", "../evil.sh", "/etc/cron.d/evil"):
        path = write_package(tmp_path / "p.zip", KEY, {**MEMBERS, name: b"x"}, listed=MEMBERS)
        assert (invalid(path).member, invalid(path).reason) == (name, f"outside {REQUEST_ID}/")
    dotted = f"{REQUEST_ID}/../../evil.sh"
    path = write_package(tmp_path / "p.zip", KEY, {**MEMBERS, dotted: b"x"}, listed=MEMBERS)
    assert (invalid(path).member, invalid(path).reason) == (dotted, "not a plain relative path")


def test_a_duplicate_name_fails(tmp_path):
    a, b = f"{REQUEST_ID}/a.txt", f"{REQUEST_ID}/b.txt"
    path = write_package(tmp_path / "p.zip", KEY, {**MEMBERS, a: b"one", b: b"two"})
    # zipfile refuses to write a name twice; rename b to a in its local header and central directory.
    path.write_bytes(path.read_bytes().replace(b.encode(), a.encode()))
    assert (invalid(path).member, invalid(path).reason) == (a, "appears twice in the zip")


@pytest.mark.parametrize("content", [b"", b"hello", b"PK\x05\x06", b"\x00" * 100],
                         ids=["empty", "text", "end signature only", "zeros"])
def test_a_file_that_is_not_a_zip_fails(tmp_path, content):
    path = tmp_path / "p.zip"
    path.write_bytes(content)
    assert invalid(path).member == "(zip)"


def test_a_zip_comment_or_bytes_around_the_zip_fail(tmp_path):
    good = write_package(tmp_path / "p.zip", KEY).read_bytes()
    with zipfile.ZipFile(tmp_path / "p.zip", "a") as zf:
        zf.comment = b"see http://example.com"
    assert invalid(tmp_path / "p.zip").reason == "not a zip file, or bytes follow its end record"
    (tmp_path / "after.zip").write_bytes(good + b"\n")
    assert invalid(tmp_path / "after.zip").member == "(zip)"
    # zipfile itself reads a zip with a stub in front (a self-extractor); we do not.
    (tmp_path / "before.zip").write_bytes(b"MZ" + good)
    assert zipfile.ZipFile(tmp_path / "before.zip").testzip() is None
    assert invalid(tmp_path / "before.zip").reason in ("central directory is not where the end record says",
                                                       "not where the end record says")


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (b"[]", "not a schema_version 2 manifest"),
        (json.dumps({"schema_version": 1, "request_id": REQUEST_ID, "files": []}).encode(),
         "not a schema_version 2 manifest"),
        (json.dumps({"schema_version": 2, "request_id": "REQ-OTHER", "files": []}).encode(),
         f"request_id is not {REQUEST_ID}"),
        (json.dumps({"schema_version": 2, "request_id": REQUEST_ID, "files": {}}).encode(),
         "files must be a list of {path, sha256, bytes, records, schema}"),
        (json.dumps({"schema_version": 2, "request_id": REQUEST_ID, "files": [
            {"path": f"{REQUEST_ID}/a", "sha256": "00" * 32, "bytes": True, "records": None, "schema": None},
        ]}).encode(),
         f"malformed entry in files: '{REQUEST_ID}/a'"),
    ],
)
def test_a_signed_manifest_of_the_wrong_shape_fails(tmp_path, index, reason):
    path = write_package(tmp_path / "p.zip", KEY, index=index)
    assert (invalid(path).member, invalid(path).reason) == (INDEX, reason)


def test_manifest_files_out_of_order_fail(tmp_path):
    entries = json.loads(manifest(MEMBERS))
    entries["files"].reverse()
    path = write_package(tmp_path / "p.zip", KEY, index=json.dumps(entries).encode())
    assert invalid(path).reason == "files are not sorted by path, or a path is listed twice"


def test_a_sealed_package_made_with_the_age_cli_verifies(tmp_path, monkeypatch):
    plain = write_package(tmp_path / "p.zip", KEY)
    sealed = tmp_path / "p.zip.age"
    age_encrypt(plain, sealed, "correct horse battery staple")
    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setenv("TMPDIR", str(work))
    monkeypatch.setattr("tempfile.tempdir", None)  # let tempfile see TMPDIR

    seen = []
    real = verify_module.verify_package

    def spy(package, key):
        seen.append((Path(package).stat().st_mode & 0o777, Path(package).parent.stat().st_mode & 0o777))
        return real(package, key)

    monkeypatch.setattr(verify_module, "verify_package", spy)
    assert verify_sealed_package(sealed, PUBLIC, passphrase="correct horse battery staple").request_id == REQUEST_ID
    assert seen == [(0o600, 0o700)]  # the decrypted package was private to its owner
    assert list(work.iterdir()) == []  # and is gone

    with pytest.raises(DecryptionFailed):
        verify_sealed_package(sealed, PUBLIC, passphrase="wrong passphrase")
    changed = bytearray(sealed.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    sealed.write_bytes(bytes(changed))
    with pytest.raises(DecryptionFailed):
        verify_sealed_package(sealed, PUBLIC, passphrase="correct horse battery staple")
    assert list(work.iterdir()) == []
