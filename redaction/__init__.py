"""Redaction: take other people out of a subject's records (GDPR Art. 15(4)).

Stream records through `Redactor.learn`, then again through `Redactor.redact`;
`Redactor.summary` gives counts for the manifest and the audit ledger.
`redact_message` does both for one RFC 5322 message (`dsar redact`).
"""

from redaction.detectors import Detector, Finding, PatternDetector
from redaction.errors import RedactionError
from redaction.lexicon import Lexicon
from redaction.message import redact_message, render_message
from redaction.policy import Policy
from redaction.redactor import Redactor, make_detectors

__all__ = [
    "Detector",
    "Finding",
    "Lexicon",
    "PatternDetector",
    "Policy",
    "RedactionError",
    "Redactor",
    "make_detectors",
    "redact_message",
    "render_message",
]
