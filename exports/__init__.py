"""Build, encrypt, store and deliver the requester's package."""

from exports.encrypt import new_passphrase, open_file, seal_file
from exports.errors import DecryptionFailed, ExportError, InvalidLink, StorageError
from exports.links import LinkClaims, issue_link, verify_link
from exports.package import PackageFile, PackageResult, build_package
from exports.serve import make_server
from exports.storage import LocalStorage, Storage, storage_from_url

__all__ = [
    "DecryptionFailed",
    "ExportError",
    "InvalidLink",
    "LinkClaims",
    "LocalStorage",
    "PackageFile",
    "PackageResult",
    "Storage",
    "StorageError",
    "build_package",
    "issue_link",
    "make_server",
    "new_passphrase",
    "open_file",
    "seal_file",
    "storage_from_url",
    "verify_link",
]
