"""Write a signed package zip in the format `dsar verify` reads, as the builder does (zipfile + audit.signing).

Small on purpose: enough to give verify real packages, good and bad.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from audit.signing import sign

REQUEST_ID = "REQ-TEST1"
MEMBERS = {
    f"{REQUEST_ID}/README.html": b"<!doctype html><title>Package</title>" + b"<p>Hello</p>" * 40,
    f"{REQUEST_ID}/data/crm/customer.json": json.dumps([{"id": i, "name": f"Customer {i}"} for i in range(60)])
    .encode(),
    f"{REQUEST_ID}/schema/data/crm/customer.json": b'{"type": "array"}\n',
    # Incompressible, like report.xlsx: deflate stores it in stored blocks.
    f"{REQUEST_ID}/report.xlsx": random.Random(6).randbytes(3000),
}


def _info(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=(2026, 1, 2, 3, 4, 6))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


class _Stream:
    """A writable that cannot seek or tell, like a pipe: zipfile then writes data descriptors."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, data: bytes) -> int:
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def manifest(listed: Mapping[str, bytes], request_id: str = REQUEST_ID) -> bytes:
    schema = f"{request_id}/schema/data/crm/customer.json"
    files = [
        {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
         "records": 60 if path == f"{request_id}/data/crm/customer.json" else None,
         "schema": schema if path == f"{request_id}/data/crm/customer.json" and schema in listed else None}
        for path, data in sorted(listed.items())
    ]
    index = {"schema_version": 2, "request_id": request_id, "controller": "Demo Oy",
             "generated_at": "2026-01-02T03:04:06Z", "files": files}
    return json.dumps(index, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def write_package(
    path: Path,
    key: bytes,
    members: Mapping[str, bytes] = MEMBERS,
    *,
    listed: Mapping[str, bytes] | None = None,
    index: bytes | None = None,
    request_id: str = REQUEST_ID,
    signed: bool = True,
    streamed: bool = False,
) -> Path:
    """A package holding `members` whose signed index.json lists `listed` (by default, the same).

    `index` replaces the manifest's bytes; `streamed` writes as to a pipe (data descriptors).
    """
    index = manifest(members if listed is None else listed, request_id) if index is None else index
    entries = dict(members)
    entries[f"{request_id}/index.json"] = index
    if signed:
        entries[f"{request_id}/index.json.sig"] = base64.b64encode(sign(key, index)) + b"\n"
    with open(path, "wb") as out, zipfile.ZipFile(_Stream(out) if streamed else out, "w") as zf:  # type: ignore[call-overload]
        for name in sorted(entries):
            with zf.open(_info(name), "w", force_zip64=True) as entry:
                entry.write(entries[name])
    return path
