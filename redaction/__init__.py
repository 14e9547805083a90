"""Redaction: take other people out of a subject's records (GDPR Art. 15(4)).

Stream records through `Redactor.learn`, then again through `Redactor.redact`;
`Redactor.summary` gives counts for the manifest and the audit ledger.
"""

from redaction.detectors import (
    Detector,
    EmailDetector,
    Finding,
    PatternDetector,
    PhoneDetector,
    default_detectors,
    normalise_phone,
)
from redaction.errors import RedactionError
from redaction.redactor import Redactor, subject_phones

__all__ = [
    "Detector",
    "EmailDetector",
    "Finding",
    "PatternDetector",
    "PhoneDetector",
    "RedactionError",
    "Redactor",
    "default_detectors",
    "normalise_phone",
    "subject_phones",
]
