"""Calendar weights and the textual forms of values as source systems export them.

Dates come in the four styles the contracts accept (mostly ISO), amounts
sometimes carry thousands separators, booleans are 是/否. One ``FileStyle``
is drawn per (feed, date), so a file is internally consistent like a real
export, while the delivery stream mixes styles.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass
from functools import cache

import chinese_calendar

from msdw.generate import config as cfg


@cache
def is_workday(day: dt.date) -> bool:
    """Official working day (statutory holidays and 调休 make-up days); plain weekdays outside
    the years ``chinese_calendar`` knows (it raises NotImplementedError there)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


@cache
def is_holiday_period(day: dt.date) -> bool:
    """A statutory holiday (not an ordinary weekend)."""
    try:
        holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(holiday and name)


@cache
def _workday_ordinals(year_from: int, year_to: int) -> list[int]:
    d, end = dt.date(year_from, 1, 1), dt.date(year_to, 12, 31)
    out = []
    while d <= end:
        if is_workday(d):
            out.append(d.toordinal())
        d += dt.timedelta(days=1)
    return out


def add_workdays(day: dt.date, n: int) -> dt.date:
    """The date ``n`` working days after ``day`` (n >= 1)."""
    span = (day.year - day.year % 10, day.year - day.year % 10 + 11)  # a decade plus a year of headroom
    days = _workday_ordinals(*span)
    i = bisect.bisect_right(days, day.toordinal()) + n - 1
    if n >= 1 and i < len(days):
        return dt.date.fromordinal(days[i])
    d = day
    while n > 0:
        d += dt.timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def office_weight(day: dt.date) -> float:
    """Relative volume of office work (registrations, inspections, lab reports) on a day."""
    if is_workday(day):
        return 1.0
    return 0.02 if is_holiday_period(day) else 0.05


def market_weight(day: dt.date) -> float:
    """Relative volume of market-side activity (rapid tests at markets, complaints)."""
    if is_holiday_period(day):
        return 0.5
    return 1.0 if is_workday(day) else 0.7


@cache
def yearly_weight_sum(year: int, kind: str) -> float:
    f = office_weight if kind == "office" else market_weight
    d = dt.date(year, 1, 1)
    total = 0.0
    while d.year == year:
        total += f(d)
        d += dt.timedelta(days=1)
    return total


def expected_today(yearly: float, day: dt.date, kind: str = "office") -> float:
    f = office_weight if kind == "office" else market_weight
    return yearly * f(day) / yearly_weight_sum(day.year, kind)


def draw_count(rng: random.Random, expected: float) -> int:
    """An integer count around ``expected`` (±~15 % noise, stochastic rounding keeps totals unbiased)."""
    if expected <= 0:
        return 0
    x = expected * max(0.0, 1.0 + 0.15 * rng.gauss(0, 1)) if expected > 5 else expected
    n = int(x)
    return n + (1 if rng.random() < x - n else 0)


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# --- value styles -----------------------------------------------------------------------


def _fmt(style: str, d: dt.date) -> str:
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d}"
    if style == "compact":
        return f"{d.year}{d.month:02d}{d.day:02d}"
    return f"{d.year}年{d.month}月{d.day}日"


@cache
def _date_text(style: str, ordinal: int) -> str:
    return _fmt(style, dt.date.fromordinal(ordinal))


@dataclass(frozen=True)
class FileStyle:
    """How one file writes its values."""

    date_style: str = "iso"
    thousands: bool = False

    def date(self, d: dt.date | None) -> str:
        return "" if d is None else _date_text(self.date_style, d.toordinal())

    def date_ord(self, ordinal: int) -> str:
        return _date_text(self.date_style, ordinal)

    def timestamp(self, d: dt.date, seconds: int) -> str:
        h, rem = divmod(seconds, 3600)
        return f"{_date_text(self.date_style, d.toordinal())} {h:02d}:{rem // 60:02d}:{rem % 60:02d}"

    def amount(self, x: float | None, decimals: int = 2) -> str:
        if x is None:
            return ""
        return f"{x:,.{decimals}f}" if self.thousands else f"{x:.{decimals}f}"

    @staticmethod
    def boolean(b: bool | None) -> str:
        return "" if b is None else ("是" if b else "否")


def draw_style(rng: random.Random) -> FileStyle:
    return FileStyle(
        date_style=weighted(rng, cfg.DATE_STYLE_WEIGHTS),
        thousands=rng.random() < cfg.SHARE_THOUSANDS_FILES,
    )


ISO = FileStyle()
