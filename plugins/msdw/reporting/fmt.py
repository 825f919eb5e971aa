"""Presentation rounding and number formats of the work report — the only place figures are rounded.

The marts store unrounded values (rates as numerator / denominator × 100);
docs/contracts/domain.md#rounding: round half-up to the published decimals, and only for
display. Rules, by unit:

| unit | shown as | example |
|---|---|---|
| ``%`` | 2 decimals | ``97.80`` |
| ``元`` | 万元, 4 decimals (domain.md#amounts) | ``37.7663`` 万元 |
| ``公斤``, ``米`` | thousands separators, 2 decimals, trailing zeros dropped | ``1,250.5`` |
| any other unit (户, 件, 批次, 台 …) | an integer with thousands separators | ``7,838`` |

``decimal.ROUND_HALF_UP`` everywhere: Python's ``round`` and ``format`` round
half to even (``f"{Decimal('0.125'):.2f}"`` is ``0.12``), which would
contradict the bureau's published figures.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

RATE_UNIT = "%"
MONEY_UNIT = "元"
MONEY_DISPLAY_UNIT = "万元"
MEASURE_UNITS = frozenset({"公斤", "米"})  # physical quantities: may carry decimals

RATE_PLACES = Decimal("0.01")
MONEY_PLACES = Decimal("0.0001")
MEASURE_PLACES = Decimal("0.01")
WHOLE = Decimal("1")


def _dec(value: Decimal | int | float | str) -> Decimal:
    # floats would carry binary noise into the rounding; marts values arrive as Decimal
    return value if isinstance(value, Decimal) else Decimal(str(value))


def half_up(value: Decimal | int | float | str, places: Decimal) -> Decimal:
    """``value`` rounded half-up to ``places`` (e.g. ``Decimal('0.01')``)."""
    return _dec(value).quantize(places, rounding=ROUND_HALF_UP)


def fmt_rate(value: Decimal | int | float | str) -> str:
    """A percentage with 2 decimals, without the % sign: ``97.8`` → ``97.80``."""
    return f"{half_up(value, RATE_PLACES):,.2f}"


def fmt_count(value: Decimal | int | float | str) -> str:
    """A count with thousands separators: ``7838`` → ``7,838`` (half-up to an integer)."""
    return f"{half_up(value, WHOLE):,.0f}"


def fmt_money_wan(value_yuan: Decimal | int | float | str) -> str:
    """An amount in 元 shown in 万元 with 4 decimals: ``377663`` → ``37.7663``."""
    return f"{half_up(_dec(value_yuan) / Decimal(10000), MONEY_PLACES):,.4f}"


def fmt_measure(value: Decimal | int | float | str) -> str:
    """Kilograms or metres: 2 decimals half-up, trailing zeros dropped: ``150.50`` → ``150.5``."""
    text = f"{half_up(value, MEASURE_PLACES):,.2f}"
    return text.rstrip("0").rstrip(".")


def display_unit(unit: str) -> str:
    """The unit printed after a formatted value (money is shown in 万元)."""
    return MONEY_DISPLAY_UNIT if unit == MONEY_UNIT else unit


def fmt_value(value: Decimal | int | float | str | None, unit: str) -> str | None:
    """Format a mart value by its catalogue unit; ``None`` (unknown, zero denominator) stays ``None``."""
    if value is None:
        return None
    if unit == RATE_UNIT:
        return fmt_rate(value)
    if unit == MONEY_UNIT:
        return fmt_money_wan(value)
    if unit in MEASURE_UNITS:
        return fmt_measure(value)
    return fmt_count(value)


def fmt_with_unit(value: Decimal | int | float | str | None, unit: str) -> str | None:
    """``fmt_value`` followed by the display unit: ``7,838户``, ``97.80%``, ``37.7663万元``."""
    text = fmt_value(value, unit)
    return None if text is None else f"{text}{display_unit(unit)}"


def yoy_phrase(pct: Decimal | int | float | str | None) -> str | None:
    """「同比增长27.10%」/「同比下降3.20%」/「与上年同期持平」; ``None`` when the mart has no YoY (never 'None')."""
    if pct is None:
        return None
    rounded = half_up(abs(_dec(pct)), RATE_PLACES)
    if rounded == 0:
        return "与上年同期持平"
    return f"同比{'增长' if _dec(pct) > 0 else '下降'}{rounded:,.2f}%"
