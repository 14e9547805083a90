"""Art. 12(3) due dates as a Finnish controller counts them: its calendar date of receipt, a calendar month,
the next working day when that falls on a weekend or a public holiday (Regulation 1182/71)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.config import load_config
from flows.deadlines import DeadlineCalendar, add_months
from flows.demo.settings import demo_config
from flows.errors import ConfigError

HELSINKI = DeadlineCalendar("Europe/Helsinki", "FI")


def received(day: date, hour: int = 12) -> datetime:
    """Received at `hour` o'clock Helsinki time on `day`."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo("Europe/Helsinki")).astimezone(UTC)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2026, 3, 31), 3, date(2026, 6, 30)),
    (date(2026, 12, 31), 1, date(2027, 1, 31)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
])
def test_a_month_ends_on_the_same_date_or_the_months_last_day(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(("day", "due", "why"), [
    (date(2026, 3, 18), date(2026, 4, 20), "18 Apr 2026 is a Saturday"),
    (date(2026, 2, 8), date(2026, 3, 9), "8 Mar 2026 is a Sunday"),
    (date(2027, 1, 31), date(2027, 3, 1), "28 Feb 2027 (31 Feb's stand-in) is a Sunday"),
    (date(2028, 1, 31), date(2028, 2, 29), "29 Feb 2028 is a Tuesday of a leap year"),
    (date(2026, 5, 19), date(2026, 6, 22), "19 Jun 2026 is Midsummer Eve, then Midsummer Day and a Sunday"),
    (date(2027, 5, 25), date(2027, 6, 28), "25 Jun 2027 is Midsummer Eve"),
    (date(2026, 11, 24), date(2026, 12, 28), "24 Dec 2026 is Christmas Eve, then Christmas, Boxing Day, Sunday"),
    (date(2027, 2, 26), date(2027, 3, 30), "26 Mar 2027 is Good Friday, then Easter to Easter Monday"),
    (date(2026, 4, 6), date(2026, 5, 6), "6 May 2026 is a plain Wednesday"),
    (date(2026, 12, 6), date(2027, 1, 7), "6 Jan 2027 is Epiphany"),
])
def test_a_due_date_on_a_weekend_or_finnish_holiday_moves_to_the_next_working_day(day, due, why):
    assert HELSINKI.due_date(received(day)) == due, why
    assert HELSINKI.is_working_day(due)


def test_the_receipt_date_is_the_controllers():
    # 23:30 UTC on 31 December is 01:30 on 1 January in Helsinki: due 1 February there (a Monday in 2027).
    assert HELSINKI.due_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 2, 1)
    # A year whose UTC date would give another answer: 31 Jan 2028 by UTC, 1 Feb 2028 (a Tuesday) in Helsinki.
    assert HELSINKI.due_date(datetime(2027, 12, 31, 23, 30, tzinfo=UTC)) == date(2028, 2, 1)
    assert DeadlineCalendar("UTC", "FI").due_date(datetime(2027, 12, 31, 23, 30, tzinfo=UTC)) == date(2028, 1, 31)


@pytest.mark.parametrize("day", [date(2027, 2, 1), date(2026, 6, 22)])  # winter (UTC+2) and summer (UTC+3)
def test_a_due_date_is_kept_as_the_last_instant_of_that_day_where_the_controller_is(day):
    due_at = HELSINKI.end_of(day)
    assert due_at.utcoffset() == timedelta(0)
    assert HELSINKI.local_date(due_at) == day
    assert HELSINKI.local_date(due_at + timedelta(microseconds=1)) == day + timedelta(days=1)
    assert HELSINKI.due_at(received(add_months(day, -1))) == due_at


def test_an_extension_counts_from_receipt():
    # Received 31 March: due 30 April; extended by 2 months, 30 June (31 June does not exist); by 1, 31 May is
    # a Sunday, so 1 June.
    on = received(date(2026, 3, 31))
    assert HELSINKI.due_date(on) == date(2026, 4, 30)
    assert HELSINKI.due_date(on, 1 + 2) == date(2026, 6, 30)
    assert HELSINKI.due_date(on, 1 + 1) == date(2026, 6, 1)


def test_the_holiday_country_comes_from_config_and_a_wrong_one_is_one_line(tmp_path):
    text = demo_config("http://127.0.0.1:1/3.0", "asiakaspalvelu@demokauppa.example")
    path = tmp_path / "dsar.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "dsar.env").write_text("")
    (tmp_path / "dsar.env").chmod(0o600)
    assert load_config(path, environ={}).controller.calendar == HELSINKI  # the defaults
    path.write_text(text.replace("[controller]\n", '[controller]\ntime_zone = "Europe/Stockholm"\n'
                                 'holiday_country = "se"\n'), encoding="utf-8")
    swedish = load_config(path, environ={}).controller.calendar
    assert swedish == DeadlineCalendar("Europe/Stockholm", "SE")
    # 6 June is Sweden's national day, a working day in Finland.
    assert not swedish.is_working_day(date(2028, 6, 6)) and HELSINKI.is_working_day(date(2028, 6, 6))
    path.write_text(text.replace("[controller]\n", '[controller]\nholiday_country = "XX"\n'), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert str(error.value) == (f"{path}: controller.holiday_country: use an ISO 3166-1 alpha-2 country code the "
                                "holidays library knows, such as FI")
