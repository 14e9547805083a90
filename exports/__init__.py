"""Build, encrypt, store and deliver the requester's package."""

from exports.encrypt import check_recipient, new_identity, new_passphrase, open_file, seal_file, seal_stream
from exports.errors import DecryptionFailed, ExportError, InvalidLink
from exports.links import LinkClaims, issue_link, verify_link
from exports.package import PackageFile, PackageResult, build_package
from exports.serve import make_server
from exports.storage import LocalStorage, storage_from_url
from exports.zip_aes import seal_zip_aes

__all__ = [
    "DecryptionFailed",
    "ExportError",
    "InvalidLink",
    "LinkClaims",
    "LocalStorage",
    "PackageFile",
    "PackageResult",
    "build_package",
    "check_recipient",
    "issue_link",
    "make_server",
    "new_identity",
    "new_passphrase",
    "open_file",
    "seal_file",
    "seal_stream",
    "seal_zip_aes",
    "storage_from_url",
    "verify_link",
]
