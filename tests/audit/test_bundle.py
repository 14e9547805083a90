"""Evidence bundles: written from a real ledger, each tampering named by file, seq and reason."""

import base64
import hashlib
import json
import shutil

import pytest

from audit.anchor import sign_head
from audit.bundle import CHAIN, HEAD, MANIFEST, SIGNATURE, verify_bundle, write_bundle
from audit.errors import BundleInvalid
from audit.signing import generate_key, public_key, sign

from .conftest import T0


@pytest.fixture
def bundle(filled, key, tmp_path):
    """REQ-2's bundle: its events (seq 2, 4, 6) in full, REQ-1's (3, 5) as links only, head at seq 6."""
    events = [e for e in filled.events() if e.seq >= 2]
    folder = tmp_path / "bundle"
    folder.mkdir()
    write_bundle(folder, "REQ-2", iter(events), sign_head(key, events[-1], at=T0), key,
                 {"replay.json": b'{"request_id": "REQ-2"}\n'}, T0)
    return folder


def _chain(folder):
    return [json.loads(line) for line in (folder / CHAIN).read_text().splitlines()]


def _write_chain(folder, entries):
    (folder / CHAIN).write_text("".join(json.dumps(e) + "\n" for e in entries))


def _problem(folder, key=None):
    with pytest.raises(BundleInvalid) as caught:
        verify_bundle(folder, key)
    return caught.value.file, caught.value.seq, caught.value.reason


def test_a_bundle_verifies_with_its_key_and_holds_only_its_requests_contents(bundle, key):
    report = verify_bundle(bundle, public_key(key))
    assert (report.request_id, report.events, report.first_seq, report.last_seq, report.head_seq) == \
        ("REQ-2", 3, 2, 6, 6)
    assert verify_bundle(bundle).public_key == public_key(key)  # the bundle's own key
    entries = _chain(bundle)
    assert [e["seq"] for e in entries] == [2, 3, 4, 5, 6]
    assert {e["request_id"] for e in entries if "request_id" in e} == {"REQ-2"}
    assert set(entries[1]) == {"seq", "prev_hash", "hash", "sig"}  # REQ-1's: no contents
    assert "REQ-1" not in "".join(p.read_text() for p in bundle.iterdir())


def test_an_edited_event_is_named(bundle, key):
    entries = _chain(bundle)
    entries[2]["detail"]["records"] = 999
    _write_chain(bundle, entries)
    assert _problem(bundle, public_key(key)) == (CHAIN, 4, "hash mismatch (the event was edited)")


def test_a_removed_event_is_named(bundle, key):
    entries = _chain(bundle)
    del entries[2]
    _write_chain(bundle, entries)
    assert _problem(bundle, public_key(key)) == (CHAIN, 4, "gap in sequence (an event was removed)")


def test_an_event_of_the_request_hidden_as_links_only_is_named(bundle, key):
    entries = _chain(bundle)
    entries[2] = {k: entries[2][k] for k in ("seq", "prev_hash", "hash", "sig")}
    _write_chain(bundle, entries)
    assert _problem(bundle, public_key(key)) == (CHAIN, None, "2 event(s) of REQ-2, the manifest lists 3")


def test_a_swapped_file_is_named(bundle, key, tmp_path):
    (bundle / "replay.json").write_text('{"request_id": "REQ-1"}\n')
    assert _problem(bundle, public_key(key)) == ("replay.json", None,
                                                 "sha256 differs from the manifest's (altered or swapped)")


def test_an_added_or_missing_file_is_named(bundle, key):
    shutil.copy(bundle / "replay.json", bundle / "extra.json")
    assert _problem(bundle, public_key(key))[:2] == ("extra.json", None)
    (bundle / "extra.json").unlink()
    (bundle / "replay.json").unlink()
    assert _problem(bundle, public_key(key)) == ("replay.json", None, "missing")


def test_a_wrong_key_is_named(bundle):
    assert _problem(bundle, public_key(generate_key())) == (
        SIGNATURE, None, "the manifest's signature does not verify with this public key")


def test_a_forged_head_is_named(bundle, filled, key):
    forged = sign_head(generate_key(), list(filled.events())[-1], at=T0).to_json()
    (bundle / HEAD).write_text(json.dumps(forged))
    assert _problem(bundle, public_key(key)) == (
        HEAD, None, "the head's signature does not verify with this public key")


def test_a_head_beyond_the_segment_is_named(filled, key, tmp_path):
    """A bundle cut short of the head: events after the request's last were left out."""
    events = [e for e in filled.events() if 2 <= e.seq <= 4]
    folder = tmp_path / "short"
    folder.mkdir()
    write_bundle(folder, "REQ-2", events, sign_head(key, list(filled.events())[-1], at=T0), key, {}, T0)
    assert _problem(folder, public_key(key)) == (CHAIN, None,
                                                 "the chain ends at seq 4 and does not reach the head (seq 6)")


def test_a_head_cut_short_is_named_as_such(bundle, key):
    whole = (bundle / HEAD).read_bytes()
    (bundle / HEAD).write_bytes(whole[:len(whole) // 2])
    assert _problem(bundle, public_key(key)) == (HEAD, None, "not valid JSON: cut short or altered")


def _resign(folder, key):
    """What whoever holds the key (or makes a bundle with a key of their own) can sign: a manifest of every file
    in `folder`, whatever it is."""
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"] = [{"path": p.name, "bytes": 0, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()
                          if p.is_file() else "0" * 64}
                         for p in sorted(folder.iterdir()) if p.name not in (MANIFEST, SIGNATURE)]
    body = (json.dumps(manifest) + "\n").encode()
    (folder / MANIFEST).write_bytes(body)
    (folder / SIGNATURE).write_text(base64.b64encode(sign(key, body)).decode() + "\n")


def test_a_file_that_is_a_symlink_is_named_even_to_an_identical_file(bundle, key, tmp_path):
    """A link could lead the verifier to a device that never ends (/dev/zero) or to a file of its own machine."""
    outside = tmp_path / "elsewhere.json"
    shutil.move(bundle / "replay.json", outside)
    (bundle / "replay.json").symlink_to(outside)
    assert _problem(bundle, public_key(key)) == ("replay.json", None, "not a regular file (a link, folder or device)")
    (bundle / "replay.json").unlink()
    shutil.move(bundle / CHAIN, outside)
    (bundle / CHAIN).symlink_to(outside)
    assert _problem(bundle, public_key(key)) == (CHAIN, None, "not a regular file (a link, folder or device)")


def test_a_listed_folder_is_named(bundle, key):
    (bundle / "sub").mkdir()
    _resign(bundle, key)
    assert _problem(bundle, public_key(key)) == ("sub", None, "not a regular file (a link, folder or device)")


@pytest.mark.parametrize("line", [b"\xff\xfe\n", b"[" * 100_000 + b"]" * 100_000 + b"\n",
                                  b'{"seq": 7}' + b" " * (1 << 20)], ids=["not utf-8", "nested too deep", "too long"])
def test_a_malformed_chain_line_is_named(bundle, key, line):
    with (bundle / CHAIN).open("ab") as chain:
        chain.write(line)
    assert _problem(bundle, public_key(key)) == (CHAIN, None, "line 6 is not a ledger event")


def test_a_head_older_than_the_requests_last_event_is_named(filled, key, tmp_path):
    """A checkpoint put back to an older head (no key needed) leaves the request's later events unanchored."""
    events = [e for e in filled.events() if e.seq >= 2]
    folder = tmp_path / "lagging"
    folder.mkdir()
    write_bundle(folder, "REQ-2", events, sign_head(key, events[2], at=T0), key, {}, T0)
    assert _problem(folder, public_key(key)) == (
        HEAD, None, "the head (seq 4) is older than the request's last event (seq 6): the events after it are not "
                    "anchored")
