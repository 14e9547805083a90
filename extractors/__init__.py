"""Sources that hold personal data, and the records they yield for one subject."""

from extractors import errors
from extractors.errors import ExtractionError, SourceConfigError, SourceUnavailable
from extractors.records import CheckingSource, Finding, Record, Source, Subject, read_jsonl, write_jsonl
from extractors.registry import load_source_kinds, make_source

__all__ = [
    "CheckingSource",
    "ExtractionError",
    "Finding",
    "Record",
    "Source",
    "SourceConfigError",
    "SourceUnavailable",
    "Subject",
    "errors",
    "load_source_kinds",
    "make_source",
    "read_jsonl",
    "write_jsonl",
]
