"""Where sealed packages are kept: a local directory (the embedded default) or S3 with SSE-KMS.

Both implement the `Storage` protocol; `storage_from_url` picks one from the
config's `[storage]` section.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from exports.storage.base import MAX_KEY_LENGTH, Storage, StorageSettingError, check_key
from exports.storage.local import LocalStorage

__all__ = ["MAX_KEY_LENGTH", "LocalStorage", "Storage", "StorageSettingError", "check_key", "storage_from_url"]


def storage_from_url(url: str, base_dir: Path, *, kms_key_id: str | None = None, endpoint_url: str | None = None,
                     region: str | None = None) -> Storage:
    """The storage a config URL names: `file:///absolute/dir`, `file://relative/dir` or `s3://bucket/prefix`.

    A relative directory is resolved against `base_dir` (the config file's
    directory). S3 needs `kms_key_id`: packages are only ever stored with
    SSE-KMS. A setting that does not fit the URL raises StorageSettingError
    naming it; nothing here touches the network.
    """
    scheme = urlsplit(url).scheme
    if scheme != "s3":
        for setting, value in (("kms_key_id", kms_key_id), ("endpoint_url", endpoint_url), ("region", region)):
            if value is not None:
                raise StorageSettingError(setting, f"{setting} applies to s3:// storage only")
    if url.startswith("file://"):
        location = url[len("file://"):]
        if not location:
            raise StorageSettingError("url", "storage URL 'file://' names no directory")
        return LocalStorage(Path(base_dir) / location)
    if scheme == "s3":
        parts = urlsplit(url)
        if not parts.netloc or parts.query or parts.fragment:
            raise StorageSettingError("url", "write an S3 storage URL as s3://bucket or s3://bucket/prefix")
        if not kms_key_id:
            raise StorageSettingError("kms_key_id", "s3:// storage needs kms_key_id: packages are stored with SSE-KMS")
        if endpoint_url is not None and urlsplit(endpoint_url).scheme not in ("http", "https"):
            raise StorageSettingError("endpoint_url", "endpoint_url must be an http:// or https:// URL")
        from exports.storage.s3 import S3Storage  # boto3 is imported only when S3 is configured

        try:
            return S3Storage(parts.netloc, parts.path, kms_key_id=kms_key_id, endpoint_url=endpoint_url,
                             region=region)
        except ValueError:
            raise StorageSettingError("url", "the S3 prefix must be [A-Za-z0-9._-] segments separated by '/'") from None
    raise StorageSettingError("url", f"unsupported storage URL scheme {scheme!r}")
