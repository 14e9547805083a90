"""The deterministic package: one zip per request, every format of the subject's data, a signed manifest.

Layout inside the zip (see DESIGN.md):

    REQ-ID/data/<source>/<category>.json      one JSON array per category, exact values
    REQ-ID/data/<source>/<category>.csv       the same as CSV (UTF-8 with BOM, formula-safe)
    REQ-ID/data/<source>/messages/<n>.eml     mail as RFC 5322 messages
    REQ-ID/portability/<source>/<category>.*  what the subject provided (Art. 20), JSON and CSV
    REQ-ID/schema/<data or portability>/...   a JSON Schema of every JSON data file
    REQ-ID/report.xlsx                        one sheet per category
    REQ-ID/README.html                        when a README renderer is given
    REQ-ID/index.json, index.json.sig         the manifest and its Ed25519 signature

The same input gives the same bytes: fixed timestamps and attributes, sorted
keys, categories in sorted order; so the manifest hash recorded in the audit
ledger identifies the package.
"""

from exports.package._zip import PackageFile
from exports.package.build import Category, Contents, PackageInfo, PackageResult, build_package, check_request_id
from exports.package.values import humanise

__all__ = ["Category", "Contents", "PackageFile", "PackageInfo", "PackageResult", "build_package",
           "check_request_id", "humanise"]
