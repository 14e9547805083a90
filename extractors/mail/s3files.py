"""A mail archive under `s3://bucket/prefix`, read through boto3 as `Files`.

When the prefix names one object exactly (`s3://bucket/support.mbox.gz`) the
location is that file; otherwise it is every object under `prefix/` (a
Maildir, a tree of .eml files). A file opens as a seekable stream of ranged
GETs: a lookup that reads twenty messages by offset from a 3 GB mbox fetches
twenty small ranges, never the whole object, while a scan from start to end
grows its ranges so that it costs a few hundred GETs, not one per buffer.

Credentials, region and endpoint come from the source's `environ` (the
process environment plus the config's env_file) under the names boto3 reads
(AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3, ...), then
from boto3's usual chain (config files, instance role). Errors name the
source, S3's error code and the bucket, never an object key: keys of a
mailbox may carry people's names.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.mail.files import Entry

# What io.BufferedReader asks for at a time: a lookup reading one message fetches this much at least.
BUFFER_SIZE = 256 * 1024
# Reads that carry on where the last range ended double the next range, up to this.
MAX_RANGE = 32 * 1024 * 1024
_NOT_FOUND = {"NoSuchBucket", "NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "AllAccessDisabled", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "ExpiredToken", "InvalidToken", "AccountProblem"}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str  # without a trailing '/'; "" is the whole bucket

    @classmethod
    def parse(cls, source: str, location: str, setting: str = "path") -> S3Location:
        parts = urlsplit(location)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise SourceConfigError(source, setting, "an S3 location reads s3://bucket/prefix")
        return cls(parts.netloc, parts.path.strip("/"))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def s3_client(environ: Mapping[str, str], endpoint_url: str | None = None) -> Any:
    """A boto3 S3 client configured from `environ` as boto3 would configure itself from the process environment.

    `environ` may hold values the process environment lacks (the config's env_file), so they are passed on
    explicitly; what it does not name falls through to boto3's own chain. Clients are shared (they are
    thread-safe, and making one costs a quarter of a second) between sources with the same settings.
    """
    key_id = environ.get("AWS_ACCESS_KEY_ID") or None
    return _client(
        key_id, environ.get("AWS_SECRET_ACCESS_KEY") or None, environ.get("AWS_SESSION_TOKEN") or None,
        environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
        None if key_id else environ.get("AWS_PROFILE") or None,
        endpoint_url or environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None,
    )


@lru_cache(maxsize=16)
def _client(key_id: str | None, secret: str | None, token: str | None, region: str | None, profile: str | None,
            endpoint: str | None) -> Any:
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                    aws_session_token=token, region_name=region, profile_name=profile)
    # Same signing and retry mode as exports/storage/s3.py; a short connect timeout so that an
    # unreachable endpoint fails the source in seconds rather than minutes.
    config = Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10)
    return session.client("s3", endpoint_url=endpoint, config=config)


@contextmanager
def s3_errors(source: str, bucket: str, what: str = "mail archive") -> Iterator[None]:
    """S3 and connection failures as one SourceUnavailable naming the source, the bucket and S3's code."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "unknown"))
        if code in _NOT_FOUND:
            raise SourceUnavailable(source, f"{what} not found in S3 (bucket {bucket}: {code})") from None
        if code in _DENIED:
            raise SourceUnavailable(source, f"access to the {what} denied (bucket {bucket}: {code})") from None
        raise SourceUnavailable(source, f"{what} could not be read from S3 (bucket {bucket}: {code})") from None
    except NoCredentialsError:
        raise SourceUnavailable(source, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                        "(environment or env_file) or AWS_PROFILE") from None
    except EndpointConnectionError:
        raise SourceUnavailable(source, f"S3 endpoint unreachable (bucket {bucket})") from None
    except BotoCoreError as exc:
        raise SourceUnavailable(source, f"{what} could not be read from S3 (bucket {bucket}: "
                                        f"{type(exc).__name__})") from None


class S3Files:
    """The objects of one `s3://bucket/prefix` location, as `Files`."""

    def __init__(self, source: str, location: str, environ: Mapping[str, str], *,
                 endpoint_url: str | None = None, page_size: int = 1000) -> None:
        self.source = source
        self.location = S3Location.parse(source, location)
        self.client = s3_client(environ, endpoint_url)
        self.page_size = page_size
        bucket, key = self.location.bucket, self.location.key
        with s3_errors(source, bucket):
            # S3 lists in key order and a key sorts before every longer key it starts, so the first key
            # under `key` is `key` itself exactly when it names one object.
            first = self.client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
            self.is_file = bool(key) and bool(first) and first[0]["Key"] == key
            if self.is_file:
                self._file = Entry("", int(first[0]["Size"]), _etag(first[0]))
            elif not self.client.list_objects_v2(Bucket=bucket, Prefix=self._prefix, MaxKeys=1).get("KeyCount"):
                raise SourceUnavailable(source, f"mail archive not found in S3 (bucket {bucket}: no objects)")

    @property
    def _prefix(self) -> str:
        return self.location.key + "/" if self.location.key else ""

    def entries(self) -> Iterator[Entry]:
        if self.is_file:
            yield self._file
            return
        bucket, prefix, found = self.location.bucket, self._prefix, False
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self.page_size})
        with s3_errors(self.source, bucket):
            for page in pages:
                for item in page.get("Contents", []):
                    if item["Key"].endswith("/"):  # a "directory" a console or sync tool made
                        continue
                    found = True
                    yield Entry(item["Key"][len(prefix):], int(item["Size"]), _etag(item))
        if not found:
            raise SourceUnavailable(self.source, f"mail archive not found in S3 (bucket {bucket}: no objects)")

    def open(self, name: str) -> BinaryIO:
        key = self.location.key if self.is_file else self._prefix + name
        size = self._file.size if self.is_file else None
        return io.BufferedReader(_RangedObject(self, key, size), buffer_size=BUFFER_SIZE)  # type: ignore[return-value]


class _RangedObject(io.RawIOBase):
    """One object as a seekable raw file: each read is served by a ranged GET, kept open while reads go on in order.

    A read at a new offset fetches just what it asks for; reads that carry on where the last range ended
    double the next range (up to MAX_RANGE), so a scan streams instead of paying a request per buffer. Every
    GET after the first must match the first one's ETag: a stream never mixes two versions of an object.
    """

    def __init__(self, files: S3Files, key: str, size: int | None) -> None:
        self.files, self.key, self.size = files, key, size
        self.pos = 0
        self.etag: str | None = None
        self.body: Any = None
        self.body_pos = self.body_end = 0
        self.span = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self.pos + offset
        elif whence == io.SEEK_END:
            pos = self._size() + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self.pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not view or (self.size is not None and self.pos >= self.size):
            return 0
        if self.body is None or self.body_pos != self.pos or self.body_pos >= self.body_end:
            if self.body is not None and self.body_pos == self.pos:  # the last range ran out: go on, bigger
                self.span = min(self.span * 2, MAX_RANGE)
            else:
                self.span = len(view)
            if not self._get(self.pos, max(self.span, len(view))):
                return 0
        data = self._read_body(len(view))
        if not data:  # the connection closed before the range's end
            raise SourceUnavailable(self.files.source, "mail archive could not be read from S3 "
                                    f"(bucket {self.files.location.bucket}: short read)")
        view[: len(data)] = data
        self.pos += len(data)
        self.body_pos = self.pos
        return len(data)

    def readall(self) -> bytes:
        """The rest of the object in one GET (RawIOBase's default would fetch it 8 KiB at a time)."""
        if self.size is not None and self.pos >= self.size:
            return b""
        if not self._get(self.pos, None):
            return b""
        data = self._read_body(None)
        self.pos += len(data)
        self.body_pos = self.pos
        return bytes(data)

    def _get(self, start: int, length: int | None) -> bool:
        """Open the range from `start` (`length` bytes, or to the end); False when `start` is past the end."""
        self._drop_body()
        files, bucket = self.files, self.files.location.bucket
        args: dict[str, Any] = {"Bucket": bucket, "Key": self.key}
        if length is not None:
            args["Range"] = f"bytes={start}-{start + length - 1}"
        elif start:
            args["Range"] = f"bytes={start}-"
        if self.etag is not None:
            args["IfMatch"] = self.etag
        with s3_errors(files.source, bucket):
            try:
                reply = files.client.get_object(**args)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code"))
                if code == "InvalidRange":  # at or past the end (an empty object answers so too)
                    return False
                if code in ("PreconditionFailed", "412"):
                    raise SourceUnavailable(files.source, "mail archive changed in S3 while being read "
                                                          f"(bucket {bucket}); run again") from None
                raise
        self.etag = reply.get("ETag", self.etag)
        content_range = reply.get("ContentRange")  # "bytes 0-99/12345": the size, without a HEAD
        if content_range and "/" in content_range and self.size is None:
            total = content_range.rsplit("/", 1)[1]
            self.size = int(total) if total.isdigit() else None
        length_sent = int(reply["ContentLength"])
        if self.size is None and "Range" not in args:
            self.size = length_sent
        self.body, self.body_pos, self.body_end = reply["Body"], start, start + length_sent
        return True

    def _read_body(self, n: int | None) -> bytes:
        with s3_errors(self.files.source, self.files.location.bucket):
            try:
                data: bytes = self.body.read() if n is None else self.body.read(n)
            except (OSError, ValueError) as exc:  # the connection broke mid-body
                raise SourceUnavailable(self.files.source, "mail archive could not be read from S3 "
                                        f"(bucket {self.files.location.bucket}: {type(exc).__name__})") from None
        return data

    def _size(self) -> int:
        if self.size is None:
            with s3_errors(self.files.source, self.files.location.bucket):
                self.size = int(self.files.client.head_object(Bucket=self.files.location.bucket,
                                                              Key=self.key)["ContentLength"])
        return self.size

    def _drop_body(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self) -> None:
        if not self.closed:
            self._drop_body()
        super().close()


def _etag(item: Mapping[str, Any]) -> str:
    return str(item["ETag"]).strip('"')
