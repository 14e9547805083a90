"""Build, encrypt, store and deliver the requester's package."""

from exports.encrypt import new_passphrase, open_file, seal_file
from exports.errors import DecryptionFailed, ExportError, InvalidLink
from exports.links import LinkClaims, issue_link, verify_link
from exports.package import Category, PackageFile, PackageInfo, PackageResult, build_package
from exports.serve import make_server
from exports.storage import LocalStorage, storage_from_url

__all__ = [
    "Category",
    "DecryptionFailed",
    "ExportError",
    "InvalidLink",
    "LinkClaims",
    "LocalStorage",
    "PackageFile",
    "PackageInfo",
    "PackageResult",
    "build_package",
    "issue_link",
    "make_server",
    "new_passphrase",
    "open_file",
    "seal_file",
    "storage_from_url",
    "verify_link",
]
