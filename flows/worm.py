"""Write-once copies of every ledger event and of its head, in an S3 bucket with Object Lock.

Each event goes up as its own object, `<prefix>events/<seq, 12 digits>-<hash>.json`
(its canonical JSON with hash and sig), and the head as `<prefix>head.json`,
each locked in COMPLIANCE mode until `retention_days` after the head was signed:
nobody, the bucket's owner included, can rewrite or delete a version before
then. The seq and hash in the key let a verify compare the ledger with its
copies from a listing alone, one page at a time; every version is listed, so a
delete marker cannot hide a copy. boto3 is imported only here, and this module
only when `[audit] worm_url` is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import timedelta
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from audit.anchor import Head
from audit.anchored import Copy
from audit.event import Event, canonical_json, format_at
from exports.errors import StorageError
from flows.config import Config, split_worm_url

_COPY_KEY = re.compile(r"events/(\d{12})-([0-9a-f]{64})\.json")


class WormAnchor:
    """The bucket and prefix of `url` (an `audit.ledger.Anchor`, and what a verify reads back)."""

    def __init__(self, url: str, retention_days: int, *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        self.bucket, self.prefix = split_worm_url(url)
        self.retention = timedelta(days=retention_days)
        self.endpoint_url, self.region = endpoint_url, region

    @cached_property
    def client(self) -> Any:
        """Made on first use: loading a config touches no network."""
        config = BotoConfig(signature_version="s3v4", retries={"mode": "standard"})
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                                              config=config)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """S3 failures as one StorageError naming the bucket and S3's code, never an object's contents."""
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            raise StorageError(f"WORM copies s3://{self.bucket}: {code}") from None
        except BotoCoreError as exc:
            raise StorageError(f"WORM copies s3://{self.bucket}: {type(exc).__name__}") from None

    def record(self, event: Event, head: Head) -> None:
        body = {**asdict(event), "at": format_at(event.at)}
        with self._errors():
            self._put(f"events/{event.seq:012d}-{event.hash}.json", body, head)
            self._put("head.json", head.to_json(), head)

    def _put(self, key: str, body: dict[str, Any], head: Head) -> None:
        # ChecksumAlgorithm: S3 refuses an Object Lock put without an integrity checksum.
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, ContentType="application/json",
                               Body=canonical_json(body).encode("utf-8") + b"\n", ChecksumAlgorithm="SHA256",
                               ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=head.at + self.retention)

    def copies(self) -> Iterator[Copy]:
        """Every version of every event copy, in seq order, one listing page at a time."""
        paginator = self.client.get_paginator("list_object_versions")
        with self._errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + "events/"):
                for version in page.get("Versions", []):
                    found = _COPY_KEY.fullmatch(version["Key"][len(self.prefix):])
                    if found:
                        yield Copy(int(found[1]), found[2], version["LastModified"])

    def head(self) -> Head | None:
        """The head copied last; None when there is none. ValueError when the object is not a head."""
        with self._errors():
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + "head.json")["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
        return Head.from_json(json.loads(body))

    def object_lock_enabled(self) -> bool:
        """Does the bucket have Object Lock on? StorageError when it cannot be asked."""
        with self._errors():
            try:
                answer = self.client.get_object_lock_configuration(Bucket=self.bucket)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ObjectLockConfigurationNotFoundError":
                    return False
                raise
        return answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"


def worm_from_config(config: Config) -> WormAnchor | None:
    """The WORM copies of `[audit] worm_url` (with `[storage]`'s endpoint and region), or None when unset."""
    audit, storage = config.audit, config.storage
    if audit.worm_url is None:
        return None
    return WormAnchor(audit.worm_url, audit.worm_retention_days, endpoint_url=storage.endpoint_url,
                      region=storage.region)
