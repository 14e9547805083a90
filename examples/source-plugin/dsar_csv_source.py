"""An example dsar source: the rows of a CSV file whose email column holds one of the subject's addresses.

    [[sources]]
    name = "newsletter_export"
    kind = "csv"
    path = "exports/newsletter.csv"   # relative to the config file
    email_column = "email"            # the default
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.records import Finding, Record, Subject
from extractors.settings import SourceSettings, parse_settings
from identity.address import ascii_lower


class CsvSettings(SourceSettings):
    """`kind = "csv"`: rows of a CSV file whose email column holds one of the subject's addresses."""

    path: str = Field(min_length=1, examples=["exports/newsletter.csv"])
    """The CSV file, relative to the config file."""
    email_column: str = "email"
    """The column holding an email address."""


class CsvSource:
    """Yields one `rows` record per matching row, keyed by its line number."""

    settings_model = CsvSettings  # documented by `dsar config reference`

    def __init__(self, name: str, settings: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]) -> None:
        self.name = name
        self.settings = parse_settings(CsvSettings, name, settings)  # SourceConfigError names the bad key
        self.path = base_dir / self.settings.path
        if not self.path.is_file():
            # Name the key, not the path: a path may carry a person's name.
            raise SourceConfigError(name, "path", "no such file")

    def check(self) -> Iterator[Finding]:
        """`dsar check`: the file is readable and has the email column; only its header line is read."""
        try:
            with self.path.open(newline="", encoding="utf-8") as rows:
                header = next(csv.reader(rows), [])
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            yield Finding("error", "file", f"could not be read ({type(exc).__name__})")
            return
        if self.settings.email_column not in header:
            yield Finding("error", "file", f"no column {self.settings.email_column!r}: check email_column")
        else:
            yield Finding("ok", "file", f"readable, {len(header)} columns")

    def records(self, subject: Subject) -> Iterator[Record]:
        wanted = set(subject.emails)  # every address of the subject's, not only the verified one
        try:
            with self.path.open(newline="", encoding="utf-8") as rows:
                reader = csv.DictReader(rows)
                if self.settings.email_column not in (reader.fieldnames or ()):
                    raise SourceConfigError(self.name, "email_column", "no such column in the file")
                for line, row in enumerate(reader, start=2):  # one row at a time: the file is never held whole
                    if ascii_lower(row[self.settings.email_column].strip()) in wanted:
                        yield Record(self.name, "rows", str(line), row, provided=True, about_subject=True)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            # The reason's type only: the message could quote a row.
            raise SourceUnavailable(self.name, f"file could not be read ({type(exc).__name__})") from None
