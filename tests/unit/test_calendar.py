"""The working-day calendar seed generator (no database)."""

from __future__ import annotations

import csv
import datetime as dt

from msdw import calendar


def _days(start: str, end: str) -> dict[str, calendar.CalendarDay]:
    return {d.date.isoformat(): d for d in calendar.calendar_days(dt.date.fromisoformat(start), dt.date.fromisoformat(end))}


def test_national_day_2024_with_make_up_working_days() -> None:
    days = _days("2024-09-28", "2024-10-13")
    assert days["2024-09-29"].is_workday and days["2024-09-29"].is_makeup_workday  # Sunday worked
    assert days["2024-10-12"].is_workday and days["2024-10-12"].is_makeup_workday  # Saturday worked
    assert all(not days[f"2024-10-0{i}"].is_workday for i in range(1, 8))
    assert days["2024-10-01"].holiday_name == "国庆节" and days["2024-10-01"].is_holiday
    assert days["2024-09-28"].is_workday is False and days["2024-09-28"].is_holiday is False  # plain weekend
    assert {d.calendar_source for d in days.values()} == {"chinese_calendar"}


def test_unknown_year_falls_back_to_weekdays_without_crashing() -> None:
    days = _days("2099-01-01", "2099-01-07")
    assert {d.calendar_source for d in days.values()} == {"weekday_fallback"}
    assert [d.is_workday for d in days.values()] == [dt.date(2099, 1, i).weekday() < 5 for i in range(1, 8)]
    assert not any(d.is_holiday or d.is_makeup_workday for d in days.values())


def test_write_seed(tmp_path) -> None:
    out = tmp_path / "calendar_cn.csv"
    n = calendar.write_seed(out, dt.date(2024, 12, 30), dt.date(2025, 1, 2))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert n == len(rows) == 4
    assert list(rows[0]) == list(calendar.COLUMNS)
    assert rows[2] == {"date": "2025-01-01", "is_workday": "false", "is_holiday": "true", "holiday_name": "元旦",
                       "is_makeup_workday": "false", "calendar_source": "chinese_calendar"}


def test_committed_seed_is_current() -> None:
    """The committed seed equals what the installed chinese_calendar generates."""
    rows = list(csv.reader(calendar.DEFAULT_OUT.open(encoding="utf-8")))
    expected = [list(calendar.COLUMNS)] + [d.as_row() for d in calendar.calendar_days()]
    assert rows == expected
