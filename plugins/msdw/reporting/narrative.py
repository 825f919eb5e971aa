"""The text of the work report: which indicators each paragraph cites, and how a sentence is worded.

The wording is data (``PARAGRAPHS``): one place to change when the bureau
wants another figure in its report. Every figure comes from a mart row of the
jurisdiction's total; a clause whose row is missing or whose value is NULL
(unknown, or a rate with a zero denominator) is left out, and a 同比 clause
appears only when the mart has ``yoy_growth_pct`` — the report never prints
"None", 0 or 100 for an unknown.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from msdw.reporting.fmt import fmt_with_unit, yoy_phrase


@dataclass(frozen=True)
class Clause:
    """One figure in a sentence: ``{label}{value}{unit}`` plus, when asked and known, 「，同比增长x%」."""

    code: str
    label: str  # may contain {report_year} (AR_RATE: the year reported on)
    yoy: bool = False
    negative_label: str | None = None  # a negative value reads as this label and its magnitude (净增长 → 净减少)


@dataclass(frozen=True)
class Paragraph:
    """A domain's paragraph: the 截至 sentence (year to date / stock at the date) and the month's sentence."""

    domain: str  # catalogue domain: registration, sampling, equipment, complaints
    heading: str
    cumulative: tuple[tuple[Clause, ...], ...]  # groups joined by 「；」, clauses by 「，」
    month: tuple[Clause, ...]


PARAGRAPHS: tuple[Paragraph, ...] = (
    Paragraph("registration", "市场主体发展", (
        (Clause("REG_NEW", "新设市场主体", yoy=True), Clause("REG_CANCEL", "注销市场主体"),
         Clause("REG_NET_GROWTH", "净增长", negative_label="净减少"), Clause("REG_IND_TO_ENT", "个转企")),
        (Clause("REG_STOCK", "实有市场主体", yoy=True),),
        (Clause("REG_ONLINE_RATE", "设立登记全程电子化办理率"), Clause("AR_RATE", "{report_year}年度年报率")),
    ), (Clause("REG_NEW", "新设市场主体"), Clause("REG_CANCEL", "注销"), Clause("REG_MOVE_IN", "迁入"),
        Clause("REG_MOVE_OUT", "迁出"))),
    Paragraph("sampling", "食品安全抽检", (
        (Clause("SMP_BATCHES", "完成食品安全抽检", yoy=True), Clause("SMP_PASS_RATE", "合格率"),
         Clause("SMP_FAIL_RATE", "不合格（问题）发现率"), Clause("SMP_DISPOSAL_RATE", "不合格产品核查处置完成率")),
        (Clause("RT_TESTS", "开展快速检测", yoy=True), Clause("RT_PASS_RATE", "快检合格率"),
         Clause("RT_DISPOSAL_RATE", "阳性处置率"), Clause("RT_DISPOSED_KG", "现场销毁问题食品")),
    ), (Clause("SMP_BATCHES", "抽检"), Clause("SMP_UNQUALIFIED", "发现不合格"), Clause("RT_TESTS", "快速检测"))),
    Paragraph("equipment", "特种设备安全", (
        (Clause("EQ_IN_USE", "在用特种设备"), Clause("EQ_PIPELINE_M", "在用压力管道"), Clause("EQ_USERS", "使用单位"),
         Clause("EQ_INSPECTION_RATE", "特种设备定期检验率")),
        (Clause("EQ_INSPECTIONS", "监督检查设备", yoy=True), Clause("EQ_UNITS_CHECKED", "检查使用单位"),
         Clause("EQ_HAZARDS_FOUND", "排查隐患"), Clause("EQ_RECTIFY_RATE", "隐患整改率")),
        (Clause("EQ_DIRECTIVES", "下达安全监察指令书"), Clause("EQ_CASES", "立案"), Clause("EQ_FINES", "罚款")),
    ), (Clause("EQ_INSPECTIONS", "监督检查设备"), Clause("EQ_HAZARDS_FOUND", "排查隐患"),
        Clause("EQ_NEW_REG", "办理使用登记"))),
    Paragraph("complaints", "投诉举报处理", (
        (Clause("CP_RECEIVED", "受理投诉举报", yoy=True), Clause("CP_CLOSED", "办结"), Clause("CP_CLOSE_RATE", "办结率"),
         Clause("CP_ONTIME_RATE", "按时办结率")),
        (Clause("CP_RECOVERED", "为消费者挽回经济损失"),),
    ), (Clause("CP_RECEIVED", "受理投诉举报"), Clause("CP_CLOSED", "办结"), Clause("CP_OVERDUE_OPEN", "超期未办结"))),
)


def scope_word(region_name: str | None) -> str:
    """「全区」/「全市」/「全县」 from the jurisdiction's name (西湖区 → 全区), else the name itself."""
    if region_name and region_name[-1] in "区市县旗":
        return f"全{region_name[-1]}"
    return region_name or "辖区"


def period_end(month_start: date, as_of: date | None) -> date:
    """The day the month's figures run to: the month's last day, or ``as_of`` within a month-to-date."""
    last = month_start.replace(day=calendar.monthrange(month_start.year, month_start.month)[1])
    return min(last, as_of) if as_of else last


def _clause(c: Clause, row: Mapping[str, Any] | None, field: str, ctx: Mapping[str, Any]) -> str | None:
    if row is None or row[field] is None:
        return None
    value, label = row[field], c.label
    if c.negative_label and value < 0:
        value, label = -value, c.negative_label
    text = f"{label.format(**ctx)}{fmt_with_unit(value, row['unit'])}"
    if c.yoy and field == "ytd_value":
        phrase = yoy_phrase(row["yoy_growth_pct"])
        if phrase:
            text += f"，{phrase}"
    return text


def _join(clauses: list[str | None]) -> str:
    return "，".join(c for c in clauses if c)


def render_paragraph(p: Paragraph, rows: Mapping[str, Mapping[str, Any]], month_start: date,
                     scope: str) -> dict[str, Any] | None:
    """``{'heading', 'text', 'as_of'}`` for one domain, or None when the month has none of its figures."""
    mine = [rows[c.code] for g in p.cumulative for c in g if c.code in rows] + \
           [rows[c.code] for c in p.month if c.code in rows]
    if not mine:
        return None
    as_of = max((r["as_of_date"] for r in mine if r["as_of_date"]), default=None)
    end = period_end(month_start, as_of)
    ctx = {"report_year": month_start.year - 1}
    groups = [_join([_clause(c, rows.get(c.code), "ytd_value", ctx) for c in g]) for g in p.cumulative]
    groups = [g for g in groups if g]
    sentences = []
    if groups:
        sentences.append(f"截至{end.month}月{end.day}日，{scope}" + "；".join(groups) + "。")
    month_part = _join([_clause(c, rows.get(c.code), "value", ctx) for c in p.month])
    if month_part:
        when = f"{month_start.month}月" if end.day == calendar.monthrange(end.year, end.month)[1] \
            else f"{month_start.month}月1日至{end.day}日"
        sentences.append(f"其中{when}{month_part}。")
    return {"heading": p.heading, "text": "".join(sentences), "as_of": as_of}
