"""An archive's address index kept in S3 next to the archive, used through a local copy.

    s3://bucket/support.mbox                         the archive
    s3://bucket/support.mbox.dsar-index.sqlite       its index (`index_location`), or where `index` says
    s3://bucket/support.mbox.dsar-index.sqlite.gzidx a companion file (the seek points of a .gz archive)

`fetch` brings the index into a cache directory and downloads it again only when its ETag
changed (one conditional GET when it did not); `dsar index mail` updates the local copy
and `publish`es it. An S3 PUT is atomic, so a reader gets the old or the new index, never
part of one. Companions go up first and the index object records their ETags in its
metadata: a reader fetching the index between the two uploads finds the companion does
not match, and fetches again, so an index never meets another version's companion.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.mail.s3files import S3Location, s3_client, s3_errors

INDEX_SUFFIX = ".dsar-index.sqlite"
_ATTEMPTS = 3  # fetches raced by a publisher before giving up
_SINGLE_PUT = 5 * 1024**3  # S3's largest single PUT


class _Raced(Exception):
    """A companion no longer matches the index object that named it: a publish is under way."""


def index_location(archive: str) -> str:
    """Where the index of the archive at `archive` (s3://bucket/prefix) lives unless the config says otherwise.

    Beside the archive rather than under its prefix, so that it is never taken for a message. A whole
    bucket has no beside: its index location must be configured.
    """
    key = S3Location.parse("mail", archive).key
    if not key:
        raise ValueError("an archive that is a whole bucket needs its index location configured")
    return f"{archive.rstrip('/')}{INDEX_SUFFIX}"


def cache_path(location: str, cache_dir: Path) -> Path:
    """The local copy of the index at `location`; companions sit beside it with their suffixes appended."""
    return cache_dir / f"{hashlib.sha256(location.encode()).hexdigest()[:16]}{INDEX_SUFFIX}"


def fetch(location: str, cache_dir: Path, environ: Mapping[str, str], *, source: str,
          companions: Sequence[str] = (), client: Any = None) -> Path | None:
    """The local copy of the index at `location`, downloaded if S3 holds another version; None if none is there.

    The copy is `cache_path(location, cache_dir)`: build the index there when there is none yet, then `publish` it.

    `companions` are suffixes of files that belong to the index (".gzidx"): they come along, always
    of the same publish. Pass the archive's client (S3Files.client) to reuse its connections.
    """
    s3 = client or s3_client(environ)
    where = S3Location.parse(source, location, "index")
    path = cache_path(location, cache_dir)
    for _ in range(_ATTEMPTS):
        try:
            return _fetch(s3, source, where, path, companions)
        except _Raced:
            continue
    raise SourceUnavailable(source, f"mail index in S3 kept changing while being fetched (bucket {where.bucket}); "
                                    "run again when `dsar index mail` has finished")


def _fetch(s3: Any, source: str, where: S3Location, path: Path, companions: Sequence[str]) -> Path | None:
    state = _read_state(path)
    args: dict[str, Any] = {"Bucket": where.bucket, "Key": where.key}
    if state and path.exists():
        args["IfNoneMatch"] = state["etag"]
    with s3_errors(source, where.bucket, "mail index"):
        try:
            reply = s3.get_object(**args)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("304", "NotModified"):
                return path
            if code in ("NoSuchKey", "404"):
                return None
            raise
    path.parent.mkdir(parents=True, exist_ok=True)
    downloads: list[tuple[Path | None, Path]] = []  # (temporary file or None to remove, final path)
    try:
        downloads.append((_download(reply["Body"], path), path))
        named = reply.get("Metadata", {})
        for suffix in companions:
            etag = named.get(_meta_key(suffix))
            if etag is None:  # this version has none: a stale one must not stay beside it
                downloads.append((None, Path(f"{path}{suffix}")))
                continue
            with s3_errors(source, where.bucket, "mail index"):
                try:
                    part = s3.get_object(Bucket=where.bucket, Key=where.key + suffix, IfMatch=etag)
                except ClientError as exc:
                    if str(exc.response.get("Error", {}).get("Code")) in ("PreconditionFailed", "412", "NoSuchKey"):
                        raise _Raced from None
                    raise
            downloads.append((_download(part["Body"], path), Path(f"{path}{suffix}")))
    except BaseException:
        for temp, _ in downloads:
            if temp is not None:
                temp.unlink(missing_ok=True)
        raise
    # SQLite's journal files of the old copy would be taken for the new one's.
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    for temp, final in reversed(downloads):  # the index itself last
        if temp is None:
            final.unlink(missing_ok=True)
        else:
            os.replace(temp, final)
    _write_state(path, str(reply["ETag"]))
    return path


def publish(path: Path, location: str, environ: Mapping[str, str], *, source: str,
            companions: Sequence[str] = (), client: Any = None) -> None:
    """Upload the index at `path` (and its companions that exist) to `location`, for every reader to fetch.

    Call it once the index is closed: an index with changes still in its SQLite write-ahead log is refused.
    """
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        raise ValueError("the index has uncheckpointed changes: close it before publishing")
    s3 = client or s3_client(environ)
    where = S3Location.parse(source, location, "index")
    metadata: dict[str, str] = {}
    with s3_errors(source, where.bucket, "mail index"):
        for suffix in companions:
            companion = Path(f"{path}{suffix}")
            if companion.exists():
                metadata[_meta_key(suffix)] = _put(s3, where.bucket, where.key + suffix, companion, {})
        etag = _put(s3, where.bucket, where.key, path, metadata)
    _write_state(path, etag)  # the local copy is this version: the next fetch finds it current


def _put(s3: Any, bucket: str, key: str, path: Path, metadata: dict[str, str]) -> str:
    if path.stat().st_size > _SINGLE_PUT:
        raise ValueError("an index larger than 5 GiB cannot go up in one PUT")
    with path.open("rb") as body:
        reply = s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata,
                              ContentType="application/vnd.sqlite3")
    return str(reply["ETag"])


def _download(body: Any, beside: Path) -> Path:
    """Stream an object's body to a temporary file beside `beside` (same filesystem, so it renames into place)."""
    handle, name = tempfile.mkstemp(dir=beside.parent, prefix=f".{beside.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(body, out, 1024 * 1024)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    finally:
        body.close()
    return Path(name)


def _meta_key(suffix: str) -> str:
    return "etag-" + suffix.strip(".").lower()


def _state_path(path: Path) -> Path:
    return Path(f"{path}.etag")


def _read_state(path: Path) -> dict[str, str] | None:
    try:
        state = json.loads(_state_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("etag"), str) else None


def _write_state(path: Path, etag: str) -> None:
    state = _state_path(path)
    temp = state.with_name(state.name + ".part")
    temp.write_text(json.dumps({"etag": etag}), encoding="utf-8")
    os.replace(temp, state)


class IndexCopy:
    """A source's index kept in S3 at `location`, used through its local copy `path` under `cache_dir`."""

    def __init__(self, source: str, location: str, cache_dir: Path, environ: Mapping[str, str],
                 companions: Sequence[str] = ()) -> None:
        S3Location.parse(source, location, "index")
        self.source, self.location, self.environ, self.companions = source, location, environ, tuple(companions)
        self.cache_dir = cache_dir
        self.path = cache_path(location, cache_dir)

    @classmethod
    def configured(cls, source: str, archive: str, index: str | None, cache_dir: Path, environ: Mapping[str, str],
                   companions: Sequence[str] = ()) -> IndexCopy:
        """The index at `index` (s3://...), or beside the archive in S3 when `index` is not set."""
        if index is None:
            try:
                index = index_location(archive)
            except ValueError:
                raise SourceConfigError(source, "index", "an archive that is a whole bucket needs `index` "
                                                         "(s3://bucket/key or a local path)") from None
        return cls(source, index, cache_dir, environ, companions)

    def fetch(self) -> bool:
        """Bring the local copy up to date with S3; False when no index has been published yet."""
        return fetch(self.location, self.cache_dir, self.environ, source=self.source,
                     companions=self.companions) is not None

    def publish(self) -> None:
        publish(self.path, self.location, self.environ, source=self.source, companions=self.companions)
