"""An evidence bundle: one request's ledger events, verifiable offline with this package alone.

A bundle is a directory:

    chain.jsonl         the ledger from the request's first event to the signed head, one event a line, in seq
                        order: the request's events in full (see audit.event), other requests' events as
                        {seq, prev_hash, hash, sig} only, so their contents stay out while the chain still links
    head.json           the ledger's signed head (audit.anchor) the segment must reach with the same hash
    public_key.txt      the ledger's public key (base64); compare its fingerprint with the controller's published key
    replay.json, replay.html   the request's replay (for people; not needed to verify)
    manifest.json       kind, request id, event count, and every other file with its sha256 and size
    manifest.json.sig   base64 Ed25519 signature of manifest.json's bytes by the ledger key

`verify_bundle` needs no database and no dsar configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from audit import signing
from audit.anchor import Head, verify_head
from audit.errors import BundleInvalid, InvalidSignature
from audit.event import Event, event_hash, format_at, parse_at

KIND = "dsar-audit-bundle/1"
CHAIN, HEAD, KEY, MANIFEST, SIGNATURE = "chain.jsonl", "head.json", "public_key.txt", "manifest.json", \
    "manifest.json.sig"
_STUB_KEYS = {"seq", "prev_hash", "hash", "sig"}
_CHUNK = 1 << 20
# A bundle comes from outside: no file or line of it is read whole beyond these (an event is a few hundred bytes,
# the manifest, head and key less); a longer one is not a bundle's.
_MAX_LINE = _MAX_SMALL = 1 << 20


@dataclass(frozen=True)
class BundleReport:
    """What a bundle that verified holds."""

    request_id: str
    events: int  # the request's own
    first_seq: int
    last_seq: int
    head_seq: int
    public_key: bytes


def chain_entry(event: Event, request_id: str) -> dict[str, Any]:
    """How `chain.jsonl` holds `event`: in full if it is `request_id`'s, else its links and signature only."""
    if event.request_id != request_id:
        return {"seq": event.seq, "prev_hash": event.prev_hash, "hash": event.hash, "sig": event.sig}
    return {"seq": event.seq, "at": format_at(event.at), "request_id": event.request_id, "actor": event.actor,
            "action": event.action, "detail": event.detail, "prev_hash": event.prev_hash, "hash": event.hash,
            "sig": event.sig}


def write_bundle(folder: Path, request_id: str, segment: Iterable[Event], head: Head, private_key: bytes,
                 files: Mapping[str, bytes], created_at: datetime) -> None:
    """Write a bundle into the empty directory `folder` (the caller makes it appear atomically).

    `segment`: the ledger's events in seq order from the request's first event up to at least `head.seq`
    (streamed: a long ledger is never held in memory). `files`: further files (the replay) by name.
    """
    events = 0
    with (folder / CHAIN).open("w", encoding="utf-8") as out:
        for event in segment:
            events += event.request_id == request_id
            out.write(json.dumps(chain_entry(event, request_id), sort_keys=True, ensure_ascii=False) + "\n")
    (folder / HEAD).write_text(json.dumps(head.to_json(), sort_keys=True, indent=2) + "\n", encoding="utf-8")
    (folder / KEY).write_text(signing.encode_key(signing.public_key(private_key)) + "\n", encoding="utf-8")
    for name, data in files.items():
        (folder / _plain_name(name)).write_bytes(data)
    listed = sorted(p.name for p in folder.iterdir())
    manifest = {"kind": KIND, "request_id": request_id, "events": events, "created_at": format_at(created_at),
                "files": [{"path": name, "sha256": _sha256(folder / name), "bytes": (folder / name).stat().st_size}
                          for name in listed]}
    body = (json.dumps(manifest, sort_keys=True, indent=2) + "\n").encode("utf-8")
    (folder / MANIFEST).write_bytes(body)
    (folder / SIGNATURE).write_text(base64.b64encode(signing.sign(private_key, body)).decode("ascii") + "\n",
                                    encoding="ascii")


def verify_bundle(folder: Path, public_key: bytes | None = None) -> BundleReport:
    """Verify a bundle; BundleInvalid names the first problem (file, seq, reason).

    Checks, in this order: the manifest's signature (with `public_key`, or the bundle's own key when None),
    the head's form, every event of the chain (hash recomputed for the request's events, links, signatures),
    the head's signature, that it is no older than the request's last event and that the chain reaches it with
    the same hash, then every file against the manifest, with no file missing or added. Every file must be a
    regular one (no link, folder or device), and none is read whole beyond 1 MiB a line, so a hostile bundle is
    named rather than followed or swallowed.
    """
    folder = Path(folder)
    key = public_key if public_key is not None else _bundle_key(folder)
    body = _read(folder, MANIFEST)
    try:
        sig = base64.b64decode(_read(folder, SIGNATURE).strip(), validate=True)
        signing.verify(key, body, sig)
    except (binascii.Error, ValueError, InvalidSignature):
        raise BundleInvalid(SIGNATURE, "the manifest's signature does not verify with this public key") from None
    manifest = _manifest(body)
    request_id = manifest["request_id"]
    try:
        head = Head.from_json(json.loads(_read(folder, HEAD)))
    except json.JSONDecodeError:  # the parser's column numbers tell an auditor nothing
        raise BundleInvalid(HEAD, "not valid JSON: cut short or altered") from None
    except ValueError as exc:
        raise BundleInvalid(HEAD, str(exc)) from None
    first, last, last_own, events, at_head = _verify_chain(folder / CHAIN, request_id, key, head.seq)
    if events != manifest["events"]:
        raise BundleInvalid(CHAIN, f"{events} event(s) of {request_id}, the manifest lists {manifest['events']}")
    try:
        verify_head(head, key)
    except (InvalidSignature, ValueError):
        raise BundleInvalid(HEAD, "the head's signature does not verify with this public key") from None
    if head.seq < first:
        raise BundleInvalid(HEAD, f"the head (seq {head.seq}) is older than the request's first event (seq {first})")
    if head.seq < last_own:
        raise BundleInvalid(HEAD, f"the head (seq {head.seq}) is older than the request's last event (seq {last_own}): "
                                  "the events after it are not anchored")
    if head.seq > last:
        raise BundleInvalid(CHAIN, f"the chain ends at seq {last} and does not reach the head (seq {head.seq})")
    if at_head != head.hash:
        raise BundleInvalid(CHAIN, "the event's hash differs from the signed head's: the ledger was rewritten",
                            head.seq)
    _verify_files(folder, manifest["files"])
    return BundleReport(request_id, events, first, last, head.seq, key)


def _bundle_key(folder: Path) -> bytes:
    try:
        return signing.load_public_key(_read(folder, KEY).decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise BundleInvalid(KEY, "not a base64 Ed25519 public key") from None


def _regular(folder: Path, name: str) -> Path:
    """`folder / name`, a regular file of the bundle's own: a link could lead to a device that never ends or to
    a file of the verifier's machine."""
    path = folder / name
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        raise BundleInvalid(name, "missing") from None
    except OSError as exc:
        raise BundleInvalid(name, f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise BundleInvalid(name, "not a regular file (a link, folder or device)")
    return path


def _read(folder: Path, name: str) -> bytes:
    try:
        with _regular(folder, name).open("rb") as stream:
            body = stream.read(_MAX_SMALL + 1)
    except OSError as exc:
        raise BundleInvalid(name, f"cannot be read ({exc.strerror})") from None
    if len(body) > _MAX_SMALL:
        raise BundleInvalid(name, f"larger than {_MAX_SMALL} bytes")
    return body


def _manifest(body: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(body)
        files = manifest["files"]
        ok = (manifest["kind"] == KIND and isinstance(manifest["request_id"], str)
              and isinstance(manifest["events"], int) and isinstance(files, list)
              and all(isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str)
                      for f in files))
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise BundleInvalid(MANIFEST, f"not a {KIND} manifest")
    return manifest  # type: ignore[no-any-return]


def _verify_chain(path: Path, request_id: str, key: bytes, head_seq: int
                  ) -> tuple[int, int, int, int, str | None]:
    """First and last seq, the seq of the request's last event, its event count and the hash at `head_seq`;
    BundleInvalid at a bad event."""
    first = prev_seq = last_own = 0
    prev_hash = at_head = None
    events = 0
    try:
        stream = _regular(path.parent, path.name).open("rb")
    except OSError as exc:
        raise BundleInvalid(CHAIN, f"cannot be read ({exc.strerror})") from None
    with stream:
        for number, line in enumerate(iter(lambda: stream.readline(_MAX_LINE + 1), b""), 1):
            entry = _entry(line, number)
            seq = entry["seq"]
            full = set(entry) != _STUB_KEYS
            if number == 1:
                if not full or entry.get("request_id") != request_id:
                    raise BundleInvalid(CHAIN, "the chain does not start with an event of the request", seq)
                first = seq
            elif seq > prev_seq + 1:
                raise BundleInvalid(CHAIN, "gap in sequence (an event was removed)", prev_seq + 1)
            elif seq <= prev_seq:
                raise BundleInvalid(CHAIN, "out of order", seq)
            if full:
                if entry.get("request_id") != request_id:
                    raise BundleInvalid(CHAIN, "an event of another request in full", seq)
                try:
                    digest = event_hash(seq, parse_at(entry["at"]), entry["request_id"], entry["actor"],
                                        entry["action"], entry["detail"], entry["prev_hash"])
                except (KeyError, ValueError, TypeError):
                    raise BundleInvalid(CHAIN, "unreadable event", seq) from None
                if digest != entry["hash"]:
                    raise BundleInvalid(CHAIN, "hash mismatch (the event was edited)", seq)
                events += 1
                last_own = seq
            if prev_hash is not None and entry["prev_hash"] != prev_hash:
                raise BundleInvalid(CHAIN, "broken chain", seq)
            try:
                signing.verify(key, bytes.fromhex(entry["hash"]), bytes.fromhex(entry["sig"]))
            except (InvalidSignature, ValueError, TypeError):
                raise BundleInvalid(CHAIN, "bad signature", seq) from None
            prev_seq, prev_hash = seq, entry["hash"]
            if seq == head_seq:
                at_head = prev_hash
    if prev_hash is None:
        raise BundleInvalid(CHAIN, "no events")
    return first, prev_seq, last_own, events, at_head


def _entry(line: bytes, number: int) -> dict[str, Any]:
    try:
        entry = json.loads(line.decode("utf-8")) if len(line) <= _MAX_LINE else None
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        entry = None
    if (not isinstance(entry, dict) or isinstance(entry.get("seq"), bool) or not isinstance(entry.get("seq"), int)
            or not all(isinstance(entry.get(k), str) for k in ("prev_hash", "hash", "sig"))):
        raise BundleInvalid(CHAIN, f"line {number} is not a ledger event")
    return entry


def _verify_files(folder: Path, files: list[dict[str, Any]]) -> None:
    listed = {f["path"]: f["sha256"] for f in files}
    present = {p.name for p in folder.iterdir()} - {MANIFEST, SIGNATURE}
    added = sorted(present - set(listed))
    if added:
        raise BundleInvalid(added[0], "not in the manifest (added)")
    for name, expected in sorted(listed.items()):
        if name not in present:
            raise BundleInvalid(name, "missing")
        if _sha256(_regular(folder, name)) != expected:  # a name in `present` is one of the folder's own
            raise BundleInvalid(name, "sha256 differs from the manifest's (altered or swapped)")


def _plain_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"bundle file names are plain names, not {name!r}")
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
