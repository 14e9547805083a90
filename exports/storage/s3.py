"""Packages in an S3 bucket (or an S3-compatible service), encrypted at rest with SSE-KMS.

Uploads stream: at most one part (8 MiB) is held in memory, nothing is
copied to disk; an object smaller than a part goes up in one PUT. A failed
upload is aborted, so no object and no pending multipart upload stay behind.
Credentials come from boto3's usual chain (environment, profile, instance
role), never from dsar.toml. Error messages carry S3's error code and the
bucket, never object contents.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from posixpath import basename
from typing import IO, Any, BinaryIO
from urllib.parse import urlencode

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from exports.errors import StorageError
from exports.storage.base import check_key

PART_SIZE = 8 * 1024 * 1024
# SigV4 presigned URLs live at most seven days.
MAX_PRESIGN = timedelta(days=7)
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    """Objects under `prefix` in `bucket`, each encrypted with the KMS key `kms_key_id`."""

    def __init__(self, bucket: str, prefix: str = "", *, kms_key_id: str, endpoint_url: str | None = None,
                 region: str | None = None, part_size: int = PART_SIZE) -> None:
        if not kms_key_id:
            raise ValueError("kms_key_id must not be empty")
        if part_size < 5 * 1024 * 1024:  # S3's smallest part but the last
            raise ValueError("part_size must be at least 5 MiB")
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self.kms_key_id = kms_key_id
        self.endpoint_url = endpoint_url
        self.region = region
        self.part_size = part_size

    @cached_property
    def client(self) -> Any:
        """The boto3 S3 client, made on first use so that loading a config touches no network."""
        config = Config(signature_version="s3v4", retries={"mode": "standard"})
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                                              config=config)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def ref(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    @contextmanager
    def _errors(self, missing: type[Exception] | None = None) -> Iterator[None]:
        """S3 failures as one StorageError naming the bucket and S3's code; a missing object as `missing`."""
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            if missing is not None and code in _MISSING:
                raise missing("no such object") from None
            raise StorageError(f"storage s3://{self.bucket}: {code}") from None
        except BotoCoreError as exc:  # no credentials, endpoint unreachable, ...
            raise StorageError(f"storage s3://{self.bucket}: {type(exc).__name__}") from None

    def writer(self, key: str, tags: Mapping[str, str] = {}) -> AbstractContextManager[IO[bytes]]:
        """A file to stream the object into: parts go up as they fill, the upload completes when the block ends."""
        return self._writer(self._key(key), dict(tags))

    @contextmanager
    def _writer(self, key: str, tags: dict[str, str]) -> Iterator[IO[bytes]]:
        upload = _Upload(self, key, tags)
        out = io.BufferedWriter(upload, buffer_size=64 * 1024)
        try:
            yield out
            out.flush()
            upload.finish()
        except BaseException:
            # The first error is the one to report; should the abort fail too, a bucket lifecycle
            # rule with AbortIncompleteMultipartUpload is what removes the parts.
            with suppress(StorageError):
                upload.abort()
            raise
        out.close()

    def put(self, src: Path, key: str, tags: Mapping[str, str] = {}) -> str:
        with open(src, "rb") as source, self.writer(key, tags) as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        return self.ref(key)

    def open(self, key: str) -> BinaryIO:
        with self._errors(FileNotFoundError):
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        return io.BufferedReader(_Body(body), buffer_size=64 * 1024)

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except FileNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        with self._errors(FileNotFoundError):
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])

    def delete(self, key: str) -> None:
        with self._errors():
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys under this storage's prefix that start with `prefix` (S3 lists them sorted)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        with self._errors():
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix):]

    def presigned_url(self, key: str, lifetime: timedelta) -> str:
        """A GET URL that downloads the object as an attachment for `lifetime` (at most 7 days)."""
        if not timedelta(0) < lifetime <= MAX_PRESIGN:
            raise ValueError("a presigned URL lives more than 0 seconds and at most 7 days")
        full = self._key(key)
        with self._errors():
            url: str = self.client.generate_presigned_url(
                "get_object", ExpiresIn=int(lifetime.total_seconds()),
                Params={"Bucket": self.bucket, "Key": full,
                        # Keys hold only [A-Za-z0-9._-] segments: the name needs no escaping.
                        "ResponseContentDisposition": f'attachment; filename="{basename(full)}"'},
            )
        return url


class _Upload(io.RawIOBase):
    """The raw side of one upload: buffers a part, sends it when full, starting a multipart upload on the first."""

    def __init__(self, storage: S3Storage, key: str, tags: dict[str, str]) -> None:
        self.storage, self.key = storage, key
        self.extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": storage.kms_key_id,
                                      "ContentType": "application/octet-stream"}
        if tags:
            self.extra["Tagging"] = urlencode(tags)
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a finished or aborted upload")
        view = memoryview(data).cast("B")
        written, size = len(view), self.storage.part_size
        while view:
            taken = size - len(self.buffer)
            self.buffer += view[:taken]
            view = view[taken:]
            if len(self.buffer) == size:
                self._send_part()
        return written

    def _send_part(self) -> None:
        s3, bucket = self.storage.client, self.storage.bucket
        with self.storage._errors():
            if self.upload_id is None:
                self.upload_id = s3.create_multipart_upload(Bucket=bucket, Key=self.key, **self.extra)["UploadId"]
            number = len(self.parts) + 1
            sent = s3.upload_part(Bucket=bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number,
                                  Body=self.buffer)
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})
        self.buffer.clear()

    def finish(self) -> None:
        s3, bucket = self.storage.client, self.storage.bucket
        with self.storage._errors():
            if self.upload_id is None:  # smaller than a part: one PUT
                s3.put_object(Bucket=bucket, Key=self.key, Body=self.buffer, **self.extra)
                return
            if self.buffer:
                self._send_part()
            s3.complete_multipart_upload(Bucket=bucket, Key=self.key, UploadId=self.upload_id,
                                         MultipartUpload={"Parts": self.parts})
        self.upload_id = None

    def abort(self) -> None:
        """Drop what was sent; S3 would otherwise keep (and bill) the parts of an unfinished upload."""
        self.close()  # the BufferedWriter around it then drops, not flushes, what it still holds
        self.buffer.clear()
        if self.upload_id is not None:
            upload_id, self.upload_id = self.upload_id, None
            with self.storage._errors():
                self.storage.client.abort_multipart_upload(Bucket=self.storage.bucket, Key=self.key,
                                                           UploadId=upload_id)


class _Body(io.RawIOBase):
    """botocore's streaming body as a raw file, so that io.BufferedReader can wrap it."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.body.close()
        super().close()
