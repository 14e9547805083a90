"""GDPR Art. 12(3) deadlines, counted as supervisory authorities count them.

The month runs from the date of receipt where the controller is (a request
that arrives at 23:30 UTC on 31 December arrives on 1 January in Helsinki) to
the same date a month later, or that month's last day when it has none
(Regulation 1182/71 Art. 3(2)(c)); a period that would end on a Saturday,
Sunday or public holiday ends on the next working day (Art. 3(4)).

A due date is stored as the last instant of the due day in the controller's
zone, as UTC: "overdue" is a plain comparison with now, and the date shown
anywhere is `local_date(due_at)`, never a UTC date that is a day off.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TypeVar
from zoneinfo import ZoneInfo

import holidays

# Art. 12(3): "extended by two further months"; once, by one month or by two.
EXTENSION_MONTHS = (1, 2)

_Day = TypeVar("_Day", bound=date)


def add_months(day: _Day, months: int) -> _Day:
    """The same day `months` later; the month's last day when it has no such day (31 Jan -> 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def check_holiday_country(value: str) -> str:
    """`value` upper-cased when the holidays library knows its public holidays; ValueError otherwise."""
    code = value.strip().upper()
    if code not in holidays.list_supported_countries():
        raise ValueError("use an ISO 3166-1 alpha-2 country code the holidays library knows, such as FI")
    return code


@cache
def _holidays(country: str) -> holidays.HolidayBase:
    # One calendar per country for the process; it fills in each year on first use. Finland's lists Midsummer
    # Eve and Christmas Eve, de facto days off there (tests/flows/test_deadlines.py holds the library to that).
    return holidays.country_holidays(country)


@dataclass(frozen=True)
class DeadlineCalendar:
    """The controller's calendar: its IANA time zone and the country whose public holidays are not working days."""

    time_zone: str = "Europe/Helsinki"
    holiday_country: str = "FI"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_date(self, moment: datetime) -> date:
        """`moment`'s calendar date where the controller is."""
        return moment.astimezone(self.zone).date()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _holidays(self.holiday_country)

    def working_day_from(self, day: date) -> date:
        """`day`, or the next working day when it is a Saturday, Sunday or public holiday."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def due_date(self, received_at: datetime, months: int = 1) -> date:
        """The last day to reply: `months` after the local date of receipt, moved to a working day."""
        return self.working_day_from(add_months(self.local_date(received_at), months))

    def end_of(self, day: date) -> datetime:
        """The last instant of `day` where the controller is, in UTC."""
        return datetime.combine(day, time.max, tzinfo=self.zone).astimezone(UTC)

    def due_at(self, received_at: datetime, months: int = 1) -> datetime:
        """What the store keeps: the end of `due_date(received_at, months)`, as a UTC instant."""
        return self.end_of(self.due_date(received_at, months))
