"""Put the package together: every format of every category, the report, the README, the signed manifest.

Each category's records are read once per format (an inspecting pass first,
for the CSV header and the schema) and never collected, so memory stays
bounded however many records there are.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.signing import public_key
from exports._atomic import atomic_write
from exports.package._zip import PackageFile, PackageZip, zip_info
from exports.package.csv_data import write_csv
from exports.package.eml import write_messages
from exports.package.json_data import JSON_OPTIONS, write_json
from exports.package.manifest import manifest_bytes, signature_bytes
from exports.package.schema import Shape, array_schema
from exports.package.values import humanise
from exports.package.xlsx_report import Sheet, write_report
from exports.request_ids import check_request_id
from extractors.records import check_name

LANGUAGE = re.compile(r"^[a-z]{2}$")
Records = Callable[[], Iterable[Mapping[str, Any]]]
RecordCounts = Mapping[str, Mapping[str, int]]
# source -> category -> (raw key, its label) of every column, in the CSV's order.
Columns = Mapping[str, Mapping[str, Sequence[tuple[str, str]]]]


@dataclass(frozen=True)
class PackageInfo:
    """What the package says about itself; `withheld` names items kept out for human review."""

    request_id: str
    controller: str
    language: str
    generated_at: datetime  # timezone-aware; it also fixes every timestamp in the zip
    redaction: Mapping[str, int] = field(default_factory=dict)
    withheld: Sequence[Mapping[str, Any]] = ()
    # Which identifiers the sources were searched for, and which the requester named but did not verify:
    # {"searched": [{kind, value, found_in}], "not_verified": [{kind, value}]}, in that order. The requester's own
    # data, inside their encrypted package only. None leaves the key out of index.json.
    identifiers: Mapping[str, Any] | None = None
    # Each source's label in the package's language; a source without one is named by its humanised name.
    source_labels: Mapping[str, str] = field(default_factory=dict)

    def source_label(self, source: str) -> str:
        return self.source_labels.get(source) or humanise(source)


@dataclass(frozen=True)
class Contents:
    """What the package holds, for README.html: record counts, and the label of every column."""

    record_counts: RecordCounts
    columns: Columns


@dataclass(frozen=True)
class Category:
    """One category of one source. `records()` gives a fresh iterable of the same records on every call.

    `provided` says what the subject gave us themselves (Art. 20): every key (True), these keys, or
    nothing. `messages` marks mail records, which are also written as `.eml` files. `label` and
    `column_labels` (raw key -> label) are in the package's language; what they leave out is named by its
    humanised key. The CSV and XLSX headers show the labels, the JSON files keep the keys.
    """

    source: str
    category: str
    records: Records
    provided: bool | tuple[str, ...] = False
    messages: bool = False
    label: str = ""
    column_labels: Mapping[str, str] = field(default_factory=dict)

    def category_label(self) -> str:
        return self.label or humanise(self.category)

    def titles(self, keys: Sequence[str]) -> list[str]:
        """The label of each key; a label two keys share is told apart by the key, so each header maps back."""
        labels = [self.column_labels.get(key) or humanise(key) for key in keys]
        shared = {label for label in labels if labels.count(label) > 1}
        titles = [f"{label} ({key})" if label in shared else label for key, label in zip(keys, labels, strict=True)]
        if len(set(titles)) < len(titles):  # a label that reads like another's told-apart form: name every key
            titles = [f"{label} ({key})" for key, label in zip(keys, labels, strict=True)]
        return titles


@dataclass(frozen=True)
class PackageResult:
    """What was built: where, its hashes, and what it holds (counts, never values)."""

    path: Path
    sha256: str
    manifest_sha256: str
    record_counts: dict[str, dict[str, int]]
    files: tuple[PackageFile, ...]


def build_package(
    out_path: Path,
    info: PackageInfo,
    categories: Iterable[Category],
    signing_key: bytes,
    readme: Callable[[Contents], bytes] | None = None,
) -> PackageResult:
    """Write the package zip to `out_path` and sign its manifest with the raw Ed25519 `signing_key`.

    `readme`, if given, is called with the package's contents once the data is written; its bytes become
    README.html. The zip is written beside `out_path` and renamed at the end: on any error nothing is
    left. Raises ValueError for a hostile request id, source or category name, a duplicate category,
    a naive `generated_at`, a malformed key, or records that differ between two reads.
    """
    out_path = Path(out_path)
    root = check_request_id(info.request_id)
    if not isinstance(info.language, str) or not LANGUAGE.fullmatch(info.language):
        raise ValueError("language must be a two-letter code such as 'fi'")
    if info.generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    generated_at = info.generated_at.astimezone(UTC)
    if generated_at.year < 1980:
        raise ValueError("generated_at must not be before 1980 (zip timestamps start there)")
    date_time = generated_at.timetuple()[:6]
    public_key(signing_key)  # a malformed key fails before anything is written
    ordered = _checked(categories)

    record_counts: dict[str, dict[str, int]] = {}
    columns: dict[str, dict[str, list[tuple[str, str]]]] = {}
    with atomic_write(out_path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            package = PackageZip(zf, date_time)
            sheets: list[Sheet] = []
            for cat in ordered:
                count, header = _write_data(package, f"{root}/data/{cat.source}/{cat.category}", root, cat,
                                            cat.records)
                record_counts.setdefault(cat.source, {})[cat.category] = count
                titles = cat.titles(header)
                columns.setdefault(cat.source, {})[cat.category] = list(zip(header, titles, strict=True))
                if cat.messages:
                    _same(count, write_messages(package, f"{root}/data/{cat.source}/messages", cat.records()),
                          f"{cat.source}/{cat.category}")
                sheets.append(Sheet(f"{cat.source}.{cat.category}",
                                    f"{info.source_label(cat.source)} – {cat.category_label()}", cat.category_label(),
                                    header, titles, cat.records))
            for cat in ordered:
                provided = _provided(cat)
                if provided is not None:
                    _write_data(package, f"{root}/portability/{cat.source}/{cat.category}", root, cat, provided)
            with package.member(f"{root}/report.xlsx", stored=True) as out:
                write_report(out, sheets, info.language, generated_at, date_time, out_path.parent)
            if readme is not None:
                package.write(f"{root}/README.html", readme(Contents(record_counts, columns)))
            manifest = manifest_bytes(
                request_id=root, controller=info.controller, language=info.language, generated_at=generated_at,
                record_counts=record_counts, redaction=info.redaction, withheld=info.withheld, files=package.files,
                identifiers=info.identifiers,
            )
            zf.writestr(zip_info(f"{root}/index.json", date_time), manifest)
            zf.writestr(zip_info(f"{root}/index.json.sig", date_time), signature_bytes(signing_key, manifest))
        tmp.seek(0)
        digest = hashlib.sha256()
        # Not hashlib.file_digest: the IO[bytes] type that atomic_write yields has no readinto.
        for chunk in iter(lambda: tmp.read(1 << 20), b""):
            digest.update(chunk)
    return PackageResult(
        path=out_path,
        sha256=digest.hexdigest(),
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        record_counts=record_counts,
        files=tuple(sorted(package.files, key=lambda f: f.path)),
    )


def _checked(categories: Iterable[Category]) -> list[Category]:
    """The categories in (source, category) order, their names safe as paths, none twice."""
    seen: dict[tuple[str, str], Category] = {}
    for cat in categories:
        key = (check_name("source", cat.source), check_name("category", cat.category))
        if key in seen:
            raise ValueError(f"category {cat.source}/{cat.category} is given twice")
        seen[key] = cat
    return [seen[key] for key in sorted(seen)]


def _write_data(package: PackageZip, base: str, root: str, cat: Category, records: Records) -> tuple[int, list[str]]:
    """`<base>.json`, its schema and `<base>.csv`; returns the record count and the keys of the CSV's columns.
    The schema gives each key its label as the `title`: how a labelled header maps back to its key."""
    shape, keys, count = Shape(), dict[str, None](), 0
    for record in records():  # the inspecting pass: keys in first-seen order, and the schema
        shape.add(dict(record))
        keys.update(dict.fromkeys(record))
        count += 1
    name = base.removeprefix(f"{root}/")
    schema_path = f"{root}/schema/{name}.json"
    with package.member(f"{base}.json", schema=schema_path) as out:
        out.records = _same(count, write_json(out, records()), name)
    header = list(keys)
    schema = array_schema(name, shape)
    for key, title in zip(header, cat.titles(header), strict=True):
        schema["items"]["properties"][key]["title"] = title
    package.write(schema_path, (json.dumps(schema, **JSON_OPTIONS) + "\n").encode("utf-8"))
    with package.member(f"{base}.csv") as out:
        out.records = _same(count, write_csv(out, header, records(), cat.titles(header)), name)
    return count, header


def _same(expected: int, got: int, what: str) -> int:
    if got != expected:
        raise ValueError(f"the records of {what} changed between two reads ({expected}, then {got})")
    return got


def _provided(cat: Category) -> Records | None:
    """The part of each record the subject provided, records that hold none of it left out; None when
    that leaves nothing (an order table under a source whose provided keys name customer fields)."""
    if not isinstance(cat.provided, tuple):
        return cat.records if cat.provided and any(True for _ in cat.records()) else None
    keys = cat.provided

    def records() -> Iterator[Mapping[str, Any]]:
        for record in cat.records():
            part = {key: record[key] for key in keys if key in record}
            if part:
                yield part

    return records if any(True for _ in records()) else None
