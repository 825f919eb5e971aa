"""Presentation rules of the work report without a database: half-up rounding, units, YoY wording,
sentence assembly, and charts without a Chinese font."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from msdw.reporting import charts
from msdw.reporting.fmt import fmt_money_wan, fmt_rate, fmt_value, fmt_with_unit, yoy_phrase
from msdw.reporting.narrative import PARAGRAPHS, render_paragraph, scope_word


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (Decimal("97.805"), "%", "97.81"),          # half-up
    (Decimal("0.125"), "%", "0.13"),            # format(Decimal('0.125'), '.2f') is '0.12' (half-even)
    (Decimal("100"), "%", "100.00"),
    (Decimal("98.4149"), "%", "98.41"),
    (Decimal("7838"), "户", "7,838"),
    (Decimal("56854.5"), "户", "56,855"),
    (Decimal("377663"), "元", "37.7663"),        # docs/contracts/domain.md#amounts: 万元, 4 decimals
    (Decimal("377663.5"), "元", "37.7664"),
    (Decimal("150.50"), "米", "150.5"),
    (Decimal("1250.005"), "公斤", "1,250.01"),
    (None, "%", None),                            # unknown stays unknown
])
def test_formats_round_half_up(value, unit, shown):
    assert fmt_value(value, unit) == shown


def test_units_and_yoy_wording():
    assert fmt_with_unit(Decimal("12345678"), "元") == "1,234.5678万元"
    assert fmt_rate(Decimal("99.995")) == "100.00"
    assert fmt_money_wan(Decimal("5000")) == "0.5000"
    assert yoy_phrase(Decimal("27.105")) == "同比增长27.11%"
    assert yoy_phrase(Decimal("-3.2")) == "同比下降3.20%"
    assert yoy_phrase(Decimal("0.001")) == "与上年同期持平"
    assert yoy_phrase(None) is None
    assert scope_word("西湖区") == "全区" and scope_word("杭州市") == "全市" and scope_word(None) == "辖区"


def _row(code, unit, value, ytd, yoy=None, as_of=date(2024, 11, 30)):
    return {"indicator_code": code, "unit": unit, "value": Decimal(value) if value is not None else None,
            "ytd_value": Decimal(ytd) if ytd is not None else None,
            "yoy_growth_pct": Decimal(yoy) if yoy is not None else None, "as_of_date": as_of}


def test_sentence_omits_unknowns():
    reg = next(p for p in PARAGRAPHS if p.domain == "registration")
    rows = {"REG_NEW": _row("REG_NEW", "户", "612", "7838", "27.1"),
            "REG_STOCK": _row("REG_STOCK", "户", "56854", "56854", None),  # no YoY: no 同比 clause
            "REG_ONLINE_RATE": _row("REG_ONLINE_RATE", "%", None, None)}   # zero denominator: clause dropped
    p = render_paragraph(reg, rows, date(2024, 11, 1), "全区")
    assert p["text"] == ("截至11月30日，全区新设市场主体7,838户，同比增长27.10%；实有市场主体56,854户。"
                         "其中11月新设市场主体612户。")
    mtd = render_paragraph(reg, {"REG_NEW": _row("REG_NEW", "户", "5", "7000", as_of=date(2024, 12, 9))},
                           date(2024, 12, 1), "全区")
    assert mtd["text"] == "截至12月9日，全区新设市场主体7,000户。其中12月1日至9日新设市场主体5户。"


def test_charts_without_a_chinese_font(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    svg = charts.bar_chart("t", ("按类别", "By category"), ["食品安全监督抽检", "评价性抽检", "A"], [Decimal(3), None, 1])
    # matplotlib writes each text as a comment before its glyph paths: the English title, numbered categories
    assert svg.startswith("<svg") and 'id="t-' in svg and "<!-- By category -->" in svg
    assert "<!-- 1 -->" in svg and "<!-- A -->" in svg and "<!-- 食品安全监督抽检 -->" not in svg
    line = charts.trend_chart("tr", ("趋势", "Trend"), [charts.Series("新设", "New", [(date(2024, 1, 1), Decimal(2)),
                                                                                     (date(2024, 2, 1), None)])])
    assert line.startswith("<svg")
