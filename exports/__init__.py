"""Build, encrypt, store and deliver the requester's package."""

from exports.encrypt import check_recipient, new_identity, new_passphrase, open_file, seal_file, seal_stream
from exports.errors import DecryptionFailed, ExportError, InvalidLink, PackageInvalid, StorageError
from exports.links import LinkClaims, issue_link, verify_link
from exports.package import Category, PackageFile, PackageInfo, PackageResult, build_package
from exports.readme import ActivityInfo, ControllerInfo, ReadmeInfo, SourceCoverage, WithheldInfo, render_readme
from exports.serve import make_server
from exports.storage import LocalStorage, Storage, storage_from_url
from exports.verify import VerifiedFile, VerifiedPackage, verify_package, verify_sealed_package
from exports.zip_aes import seal_zip_aes

__all__ = [
    "ActivityInfo",
    "Category",
    "ControllerInfo",
    "DecryptionFailed",
    "ExportError",
    "InvalidLink",
    "LinkClaims",
    "LocalStorage",
    "PackageFile",
    "PackageInfo",
    "PackageInvalid",
    "PackageResult",
    "ReadmeInfo",
    "SourceCoverage",
    "Storage",
    "StorageError",
    "VerifiedFile",
    "VerifiedPackage",
    "WithheldInfo",
    "build_package",
    "check_recipient",
    "issue_link",
    "make_server",
    "new_identity",
    "new_passphrase",
    "open_file",
    "render_readme",
    "seal_file",
    "seal_stream",
    "seal_zip_aes",
    "storage_from_url",
    "verify_link",
    "verify_package",
    "verify_sealed_package",
]
