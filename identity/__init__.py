"""Identity verification: methods that turn a claim into `IdentityEvidence`.

Import from the modules themselves (`identity.email_code`, `identity.oidc`, ...); this package re-exports nothing.
"""
