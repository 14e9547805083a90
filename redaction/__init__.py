"""Redaction: take other people out of a subject's records (GDPR Art. 15(4)).

Stream records through `Redactor.learn`, then again through `Redactor.redact`;
`Redactor.summary` gives counts for the manifest and the audit ledger.
`redact_message` does both for one RFC 5322 message (`dsar redact`).

Import from the modules themselves (`redaction.redactor`, `redaction.message`, ...): writing a
redacted message out must not load the detectors and Voikko.
"""
