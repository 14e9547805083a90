"""The deterministic package: one zip per request, with a manifest.

Layout inside the zip (more files arrive as the package grows, see DESIGN.md):

    REQ-ID/data/<source>/<category>.json   one JSON array per category
    REQ-ID/index.json                      the manifest, hashes of every file

The same input gives the same bytes: entries are written in sorted path
order with fixed timestamps and attributes, and JSON is written with sorted
keys. So the manifest hash recorded in the audit ledger identifies the
package.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from exports._atomic import atomic_write
from extractors.records import check_name

SCHEMA_VERSION = 1
REQUEST_ID = re.compile(r"^REQ-[A-Za-z0-9]+$")
_FILE_MODE = 0o100644  # a regular file, rw-r--r--
_JSON: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "indent": 1}


@dataclass(frozen=True)
class PackageFile:
    """One data file in the package, as listed in index.json."""

    path: str
    sha256: str
    bytes: int
    records: int
    source: str
    category: str


@dataclass(frozen=True)
class PackageResult:
    """What was built: where, its hashes, and what it holds (counts, never values)."""

    path: Path
    sha256: str
    manifest_sha256: str
    record_counts: dict[str, dict[str, int]]
    files: tuple[PackageFile, ...]


def check_request_id(request_id: str) -> str:
    """Return `request_id` if it is safe as a directory name, else raise ValueError."""
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise ValueError("request id must match REQ-<letters and digits>")
    return request_id


def _zip_info(path: str, date_time: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    # ZipInfo.compress_level is public from Python 3.13; before that the private name is the only way.
    if hasattr(info, "compress_level"):
        info.compress_level = 9
    else:
        info._compresslevel = 9  # type: ignore[attr-defined]  # private, so typeshed leaves it out
    info.create_system = 3  # Unix, whatever platform builds the package
    info.external_attr = _FILE_MODE << 16
    return info


def _json_array(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The text of json.dumps(list(records), **_JSON), one record at a time."""
    first = True
    for record in records:
        # JSON strings never hold a raw newline, so indenting each line is safe.
        text = json.dumps(dict(record), **_JSON).replace("\n", "\n ")
        yield ("[\n " if first else ",\n ") + text
        first = False
    yield "[]" if first else "\n]"


class _HashingWriter:
    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.hash, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.hash.update(data)
        self.size += len(data)


def _write_category(zf: zipfile.ZipFile, info: zipfile.ZipInfo, records: Iterable[Mapping]) -> tuple[str, int, int]:
    count = 0

    def counted() -> Iterator[Mapping]:
        nonlocal count
        for record in records:
            count += 1
            yield record

    # force_zip64: the size is not known up front and may pass 4 GiB.
    with zf.open(info, "w", force_zip64=True) as entry:
        writer = _HashingWriter(entry)
        for piece in _json_array(counted()):
            writer.write(piece.encode("utf-8"))
    return writer.hash.hexdigest(), writer.size, count


def _withheld_order(item: Mapping[str, Any]) -> tuple[str, str, str]:
    """By source, then content hash: the same items give the same manifest."""
    return str(item.get("source", "")), str(item.get("sha256", "")), json.dumps(item, **_JSON)


def build_package(
    out_path: Path,
    request_id: str,
    controller: str,
    generated_at: datetime,
    categories: Iterable[tuple[str, str, Iterable[Mapping]]],
    redaction: Mapping[str, int],
    withheld: Iterable[Mapping[str, Any]] = (),
) -> PackageResult:
    """Write the package zip for `request_id` to `out_path`, streaming every category.

    `withheld` lists items kept out of the package for human review (a
    message that could not be parsed, say): the manifest names them so the
    requester and the auditor know the copy is not complete without them.

    `categories` yields (source, category, records); records are consumed
    once, lazily, and never collected. `generated_at` must be timezone-aware
    and fixes the entries' timestamps. The zip is written to a temporary file
    beside `out_path` and renamed at the end: on any error nothing is left.
    Raises ValueError for a hostile request id, source or category name, or a
    duplicate (source, category).
    """
    out_path = Path(out_path)
    check_request_id(request_id)
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    generated_at = generated_at.astimezone(UTC)
    if generated_at.year < 1980:
        raise ValueError("generated_at must not be before 1980 (zip timestamps start there)")
    date_time = generated_at.timetuple()[:6]

    entries: dict[str, tuple[str, str, Iterable[Mapping]]] = {}
    for source, category, records in categories:
        path = f"{request_id}/data/{check_name('source', source)}/{check_name('category', category)}.json"
        if path in entries:
            raise ValueError(f"category {source}/{category} is given twice")
        entries[path] = (source, category, records)
    redaction_counts = {str(k): int(v) for k, v in sorted(redaction.items())}

    files: list[PackageFile] = []
    record_counts: dict[str, dict[str, int]] = {}
    with atomic_write(out_path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for path in sorted(entries):
                source, category, records = entries[path]
                sha256, size, count = _write_category(zf, _zip_info(path, date_time), records)
                files.append(PackageFile(path, sha256, size, count, source, category))
                record_counts.setdefault(source, {})[category] = count
            index = {
                "schema_version": SCHEMA_VERSION,
                "request_id": request_id,
                "controller": controller,
                "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
                "files": [asdict(f) for f in files],
                "record_counts": record_counts,
                "redaction": redaction_counts,
                "withheld": sorted((dict(item) for item in withheld), key=_withheld_order),
            }
            manifest = json.dumps(index, **_JSON).encode("utf-8") + b"\n"
            zf.writestr(_zip_info(f"{request_id}/index.json", date_time), manifest)
        tmp.seek(0)
        digest = hashlib.sha256()
        # Not hashlib.file_digest: the IO[bytes] type that atomic_write yields has no readinto.
        for chunk in iter(lambda: tmp.read(1 << 20), b""):
            digest.update(chunk)
        package_sha256 = digest.hexdigest()
    return PackageResult(
        path=out_path,
        sha256=package_sha256,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        record_counts=record_counts,
        files=tuple(files),
    )
