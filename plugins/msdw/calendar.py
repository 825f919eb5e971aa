"""The Chinese official working-day calendar, generated into a dbt seed.

Working-day deadlines (投诉 受理 7 工作日, 举报 15 工作日 …) depend on the State
Council's yearly holiday arrangement: statutory holidays, extra rest days and
make-up working days (调休, e.g. Sunday 2024-09-29 and Saturday 2024-10-12 were
working days around National Day). The ``chinese_calendar`` package carries
those notices; this module turns them into ``dbt_project/seeds/calendar_cn.csv``
so the warehouse never calls Python at query time and the calendar is
versioned with the code.

Years the library does not know yet (the notice for year Y is published late in
Y-1) are *not* guessed: every date of such a year falls back to the plain
weekday rule and carries ``calendar_source = 'weekday_fallback'`` so deadline
figures for those dates can be recognised and recomputed after an upgrade of
the package (``python -m msdw.calendar`` regenerates the seed).

Usage::

    python -m msdw.calendar [--start 2015-01-01] [--end 2027-12-31] [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from msdw.config import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

DEFAULT_START = dt.date(2015, 1, 1)
DEFAULT_END = dt.date(2035, 12, 31)  # years beyond chinese_calendar use the explicit weekday fallback
DEFAULT_OUT = DBT_PROJECT_DIR / "seeds" / "calendar_cn.csv"
COLUMNS = ("date", "is_workday", "is_holiday", "holiday_name", "is_makeup_workday", "calendar_source")

SOURCE_OFFICIAL = "chinese_calendar"
SOURCE_FALLBACK = "weekday_fallback"

# chinese_calendar names holidays in English; the reports use the Chinese names.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@dataclass(frozen=True)
class CalendarDay:
    """One date of the calendar seed.

    ``is_holiday`` is true for every day off that belongs to an official holiday
    period (statutory days and the rest days moved next to them), not for
    ordinary weekends; ``is_makeup_workday`` marks weekend days worked in lieu.
    """

    date: dt.date
    is_workday: bool
    is_holiday: bool
    holiday_name: str | None
    is_makeup_workday: bool
    calendar_source: str

    def as_row(self) -> list[str]:
        return [
            self.date.isoformat(),
            _bool(self.is_workday),
            _bool(self.is_holiday),
            self.holiday_name or "",
            _bool(self.is_makeup_workday),
            self.calendar_source,
        ]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _official_day(day: dt.date) -> CalendarDay | None:
    """The day from the official arrangement, or None when the library lacks its year."""
    import chinese_calendar  # imported here: only the generator needs it

    try:
        workday = chinese_calendar.is_workday(day)
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    weekend = day.weekday() >= 5
    is_holiday = bool(on_holiday and name)  # ordinary weekends have no name
    makeup = workday and weekend
    if makeup:
        # the library names the holiday a make-up day compensates
        name = chinese_calendar.get_holiday_detail(day)[1]
    zh = HOLIDAY_NAMES_ZH.get(name, name) if (is_holiday or makeup) and name else None
    return CalendarDay(day, workday, is_holiday, zh if is_holiday else None, makeup, SOURCE_OFFICIAL)


def _fallback_day(day: dt.date) -> CalendarDay:
    return CalendarDay(day, day.weekday() < 5, False, None, False, SOURCE_FALLBACK)


def calendar_days(start: dt.date = DEFAULT_START, end: dt.date = DEFAULT_END) -> Iterator[CalendarDay]:
    """Every date from ``start`` to ``end`` inclusive, official where known, else weekday rule."""
    if end < start:
        raise ValueError(f"calendar: end {end} is before start {start}")
    fallback_years: set[int] = set()
    day = start
    while day <= end:
        row = _official_day(day)
        if row is None:
            if day.year not in fallback_years:
                fallback_years.add(day.year)
                log.warning("calendar: chinese_calendar has no data for %s; using the weekday rule", day.year)
            row = _fallback_day(day)
        yield row
        day += dt.timedelta(days=1)


def write_seed(out: Path = DEFAULT_OUT, start: dt.date = DEFAULT_START, end: dt.date = DEFAULT_END) -> int:
    """Write the calendar seed CSV; returns the number of dates written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in calendar_days(start, end):
            writer.writerow(row.as_row())
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m msdw.calendar", description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=dt.date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=DEFAULT_END)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    n = write_seed(args.out, args.start, args.end)
    print(f"wrote {n} dates {args.start}..{args.end} to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
