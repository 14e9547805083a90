"""Build, encrypt, store and deliver the requester's package.

Import from the modules themselves (`exports.encrypt`, `exports.package`, ...): this package re-exports nothing, so
that sealing a file does not load the spreadsheet writer, the templates and the S3 client.
"""
