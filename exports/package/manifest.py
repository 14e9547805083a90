"""`index.json`, the manifest, and `index.json.sig`, its Ed25519 signature.

The manifest lists every other member of the zip, sorted by path, with its
sha256, size, record count (data files under data/ and portability/, else
null) and the path of the schema that describes it (JSON data files, else
null). `dsar verify` reads exactly this format: change it together.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from audit.signing import sign
from exports.package._zip import PackageFile

SCHEMA_VERSION = 2


def _withheld_order(item: Mapping[str, Any]) -> tuple[str, str, str]:
    """By source, then content hash: the same items give the same manifest."""
    return str(item.get("source", "")), str(item.get("sha256", "")), json.dumps(item, sort_keys=True)


def manifest_bytes(
    *, request_id: str, controller: str, language: str, generated_at: datetime,
    record_counts: Mapping[str, Mapping[str, int]], redaction: Mapping[str, int],
    withheld: Iterable[Mapping[str, Any]], files: Iterable[PackageFile],
    identifiers: Mapping[str, Any] | None = None,
) -> bytes:
    index: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "request_id": request_id,
        "controller": controller,
        "language": language,
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
        "record_counts": record_counts,
        "redaction": {str(k): int(v) for k, v in redaction.items()},
        "withheld": sorted((dict(item) for item in withheld), key=_withheld_order),
        "files": [asdict(f) for f in sorted(files, key=lambda f: f.path)],
    }
    if identifiers is not None:  # what the sources were searched for (PackageInfo.identifiers)
        index["identifiers"] = identifiers
    return json.dumps(index, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def signature_bytes(signing_key: bytes, manifest: bytes) -> bytes:
    """The contents of index.json.sig: base64 of the 64-byte signature over the manifest's exact bytes."""
    return base64.b64encode(sign(signing_key, manifest)) + b"\n"
