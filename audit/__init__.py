"""The append-only, hash-chained, signed audit ledger, and its offline verification.

Import from the modules themselves (`audit.ledger`, `audit.signing`, ...): signing a package must not
load the ledger's database layer.
"""
