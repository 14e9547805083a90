"""How the package shows a value and names a column to a person, in the package's language.

The JSON files keep the exact values under the raw keys. The human-readable
forms show them as people read them: report.xlsx writes an ISO 8601 date or
time (what every source records) as a real date cell with a Finnish or English
number format, so that a spreadsheet sorts it and computes with it, and a
boolean as a word (kyllä / ei, yes / no). A number is a number cell, never
shown with trailing zeros (the sources keep a NUMERIC's value, not its scale).
CSV is for machines: ISO 8601 dates, `true`/`false`, numbers as JSON writes
them; only its header is labelled.

A column without a label is named by its key made readable: `created_at` is
"Created at".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

Language = str  # "fi" or "en"; any other is shown as English
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
_BOOLEANS = {"fi": ("kyllä", "ei"), "en": ("yes", "no")}
# Excel number formats; quoted literals, since '.' and ',' mean separators to a spreadsheet otherwise.
_DATE_FORMATS = {"fi": 'd"."m"."yyyy', "en": 'd mmmm yyyy'}
_TIME_FORMATS = {"fi": ' "klo" h"."mm', "en": '", "hh":"mm'}
_FIRST_YEAR = 1900  # a spreadsheet's dates start in 1900: an earlier one stays text
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?\Z")


def humanise(key: str) -> str:
    """A raw key as a person reads it: `sukunimi` -> "Sukunimi", `alt_email` -> "Alt email"."""
    text = " ".join(key.replace("_", " ").replace("-", " ").split())
    return text[:1].upper() + text[1:] if text else key


def boolean_word(value: bool, language: Language) -> str:
    yes, no = _BOOLEANS.get(language, _BOOLEANS["en"])
    return yes if value else no


def parse_moment(value: str) -> tuple[date | datetime, bool] | None:
    """An ISO 8601 date or date-time string as (value, had a UTC offset), else None. An aware time is given in
    UTC, without its zone (a spreadsheet has none); a naive one as it is. None before 1900 or past 9999 in UTC."""
    if _ISO_DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        return (day, False) if day.year >= _FIRST_YEAR else None
    if not _ISO_DATETIME.match(value):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    aware = when.tzinfo is not None
    if aware:
        try:
            when = when.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:00-05:00 falls in year 10000 in UTC
            return None
    return (when, aware) if when.year >= _FIRST_YEAR else None


def moment_format(moment: date | datetime, aware: bool, language: Language) -> str:
    """The spreadsheet number format that shows `moment` in `language` (fi 1.12.2026 klo 14.05, en 1 December
    2026, 14:05), UTC marked where the value had a zone."""
    language = language if language in _DATE_FORMATS else "en"
    if not isinstance(moment, datetime):
        return _DATE_FORMATS[language]
    return _DATE_FORMATS[language] + _TIME_FORMATS[language] + (' "UTC"' if aware else "")


def show_moment(moment: date | datetime, aware: bool, language: Language) -> str:
    """The text of what `moment_format` shows, for pages that are not spreadsheets."""
    if language == "fi":
        day = f"{moment.day}.{moment.month}.{moment.year}"
        time = f" klo {moment.hour}.{moment:%M}" if isinstance(moment, datetime) else ""
    else:
        day = f"{moment.day} {MONTHS_EN[moment.month - 1]} {moment.year}"
        time = f", {moment:%H:%M}" if isinstance(moment, datetime) else ""
    return day + time + (" UTC" if aware and time else "")
