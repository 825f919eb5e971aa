"""The bureau's monthly work report (工作报告) from the published marts, as one self-contained HTML page.

Reads only the views in schema ``marts`` as ``msdw_bi`` — the figures a
reader sees are exactly the published ones, and the footer names the
publication (``marts_store.indicator_monthly__p<id>``, ``audit.publications``)
and the pipeline run (``published_run_id``) they come from. Definitions come
from the indicator catalogue seed, the same file dbt loads. Charts are inline
SVG (no script, no external file), so the page opens from disk in any browser.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import psycopg
import psycopg.rows
from markupsafe import Markup

from msdw import warehouse
from msdw.config import DBT_PROJECT_DIR, settings
from msdw.reporting import charts
from msdw.reporting.fmt import RATE_UNIT, display_unit, fmt_count, fmt_value, yoy_phrase
from msdw.reporting.narrative import PARAGRAPHS, render_paragraph, scope_word
from msdw.reporting.queries import query

CATALOGUE_CSV = DBT_PROJECT_DIR / "seeds" / "indicator_catalogue.csv"
TEMPLATES = Path(__file__).parent / "templates"

TREND_CODES = ("REG_NEW", "CP_RECEIVED")
COUNTY_CODES = ("REG_NEW", "REG_STOCK", "CP_RECEIVED")
# (indicator, breakdown_type, chart title zh, chart title en)
CATEGORY_CHARTS = (
    ("SMP_BATCHES", "program", "本年食品抽检批次（按抽检类型）", "Samples tested this year by programme"),
    ("CP_RECEIVED", "category_group", "本年受理投诉举报（按商品/服务）", "Tickets received this year by goods/services"),
    ("EQ_IN_USE", "category_code", "在用特种设备（按种类代码）", "Special equipment in use by category code"),
)
STORE_TABLE = re.compile(r"marts_store\.\"?indicator_monthly__p(\d+)")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """The indicator catalogue seed by code (definitions, kind, domain, sort order)."""
    with CATALOGUE_CSV.open(encoding="utf-8", newline="") as fh:
        return {r["indicator_code"]: r for r in csv.DictReader(fh)}


def _month_start(month: date) -> date:
    return month.replace(day=1)


def _rows(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(query(name), params)
        return cur.fetchall()


@dataclass
class MartData:
    """Everything the report shows, as read from ``marts`` (unrounded)."""

    totals: dict[str, dict[str, Any]]
    trend: list[dict[str, Any]]
    by_county: list[dict[str, Any]]
    by_breakdown: dict[tuple[str, str], list[dict[str, Any]]]
    publication_id: int | None
    available: bool


def read_marts(month: date, jurisdiction: str) -> MartData:
    """Read the month's published figures as msdw_bi (the BI role: nothing but ``marts``)."""
    start = _month_start(month)
    p: dict[str, Any] = {"month_start": start, "jurisdiction": jurisdiction}
    with warehouse.connect(role=warehouse.ROLE_BI) as conn:
        if not conn.execute(query("marts_available")).fetchone()[0]:
            return MartData({}, [], [], {}, None, available=False)
        view = conn.execute(query("publication_of_view")).fetchone()
        m = STORE_TABLE.search(view[0]) if view else None
        totals = {r["indicator_code"]: r for r in _rows(conn, "month_totals", p)}
        trend = _rows(conn, "trend", {**p, "codes": list(TREND_CODES)})
        by_county = _rows(conn, "by_county", {**p, "codes": list(COUNTY_CODES)})
        by_breakdown = {(code, bt): _rows(conn, "by_breakdown", {**p, "code": code, "breakdown_type": bt})
                        for code, bt, _, _ in CATEGORY_CHARTS}
    return MartData(totals, trend, by_county, by_breakdown, int(m.group(1)) if m else None, available=True)


def _sort_key(code: str) -> tuple[int, str]:
    return (int(catalogue().get(code, {}).get("sort_order") or 9999), code)


def indicator_table(totals: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One formatted line per indicator of the month: values, 同比, and the catalogue definition."""
    out = []
    for code in sorted(totals, key=_sort_key):
        r, cat = totals[code], catalogue().get(code, {})
        out.append({
            "code": code, "name": r["indicator_name_zh"], "unit": display_unit(r["unit"]),
            "value": fmt_value(r["value"], r["unit"]), "ytd": fmt_value(r["ytd_value"], r["unit"]),
            "yoy": yoy_phrase(r["yoy_growth_pct"]) if r["yoy_growth_pct"] is not None else None,
            "definition": cat.get("definition_zh", ""), "kind": cat.get("kind", ""),
        })
    return out


def rate_footnotes(totals: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every rate with the counts behind it (month and year to date), so a reader can re-derive it."""
    out = []
    for code in sorted(totals, key=_sort_key):
        r = totals[code]
        if r["unit"] != RATE_UNIT:
            continue
        cat = catalogue().get(code, {})
        out.append({
            "code": code, "name": r["indicator_name_zh"],
            "formula": f"{cat.get('numerator_code', '')} / {cat.get('denominator_code', '')} × 100",
            "value": fmt_value(r["value"], RATE_UNIT),
            "num": None if r["numerator"] is None else fmt_count(r["numerator"]),
            "den": None if r["denominator"] is None else fmt_count(r["denominator"]),
            "ytd": fmt_value(r["ytd_value"], RATE_UNIT),
            "ytd_num": None if r["ytd_numerator"] is None else fmt_count(r["ytd_numerator"]),
            "ytd_den": None if r["ytd_denominator"] is None else fmt_count(r["ytd_denominator"]),
        })
    return out


def _name(code: str, lang: str) -> str:
    cat = catalogue().get(code, {})
    return cat.get("name_zh" if lang == "zh" else "name_en", code)


def build_charts(data: MartData, month_start: date) -> list[dict[str, Any]]:
    """The page's charts: ``{'title', 'svg', 'table': [(label, formatted value)]}``; empty ones are left out."""
    out: list[dict[str, Any]] = []
    series = []
    for code in TREND_CODES:
        pts = [(r["period_month"], r["value"]) for r in data.trend if r["indicator_code"] == code]
        if pts:
            series.append(charts.Series(f"{_name(code, 'zh')}（{display_unit(catalogue()[code]['unit'])}）",
                                        _name(code, "en"), pts))
    if series:
        title = ("近12个月趋势（当月值）", "Monthly trend, last 12 months")
        table = [(f"{s.label_zh} {m:%Y-%m}", fmt_value(v, catalogue()[c]["unit"]) or "—")
                 for s, c in zip(series, [c for c in TREND_CODES if any(r["indicator_code"] == c for r in data.trend)],
                                 strict=True) for m, v in s.points]
        out.append({"title": title[0], "svg": Markup(charts.trend_chart("trend", title, series)), "table": table})
    for code in COUNTY_CODES:
        rows = [r for r in data.by_county if r["indicator_code"] == code]
        if len(rows) < 2:  # a county jurisdiction has no county rows; one county is no comparison
            continue
        unit = catalogue()[code]["unit"]
        labels = [r["region_name"] or r["region_code"] for r in rows]
        title = (f"各县（市、区）{_name(code, 'zh')}（本年累计，{display_unit(unit)}）",
                 f"{_name(code, 'en')} by county, year to date")
        svg = charts.bar_chart(f"county-{code.lower()}", title, labels, [r["ytd_value"] for r in rows])
        out.append({"title": title[0], "svg": Markup(svg),
                    "table": [(f"{i + 1}. {lbl}", fmt_value(r["ytd_value"], unit) or "—")
                              for i, (lbl, r) in enumerate(zip(labels, rows, strict=True))]})
    for code, bt, zh, en in CATEGORY_CHARTS:
        rows = [r for r in data.by_breakdown.get((code, bt), []) if r["breakdown_value"] != "全部"]
        if not rows:
            continue
        unit = catalogue()[code]["unit"]
        labels = [r["breakdown_value"] for r in rows]
        svg = charts.bar_chart(f"cat-{code.lower()}-{bt}", (zh, en), labels, [r["ytd_value"] for r in rows])
        out.append({"title": zh, "svg": Markup(svg),
                    "table": [(f"{i + 1}. {lbl}", fmt_value(r["ytd_value"], unit) or "—")
                              for i, (lbl, r) in enumerate(zip(labels, rows, strict=True))]})
    return out


def report_context(month: date, jurisdiction: str | None = None) -> dict[str, Any]:
    """The rendered report's content (paragraphs, tables, charts, provenance) for ``month``."""
    jurisdiction = jurisdiction or settings().jurisdiction
    start = _month_start(month)
    data = read_marts(start, jurisdiction)
    region_name = next((r["region_name"] for r in data.totals.values() if r["region_name"]), None)
    scope = scope_word(region_name)
    paragraphs = [p for p in (render_paragraph(spec, data.totals, start, scope) for spec in PARAGRAPHS) if p]
    note = None
    if not data.available:
        note = "尚无已发布的集市数据（marts.indicator_monthly 不存在），本期报告无数据。"
    elif not data.totals:
        note = f"{start.year}年{start.month}月尚无已发布的指标（辖区 {jurisdiction}）。"
    as_of = max((r["as_of_date"] for r in data.totals.values() if r["as_of_date"]), default=None)
    run_ids = sorted({r["published_run_id"] for r in data.totals.values() if r["published_run_id"]})
    return {
        "month": start, "jurisdiction": jurisdiction, "region_name": region_name or jurisdiction,
        "paragraphs": paragraphs, "indicators": indicator_table(data.totals), "rates": rate_footnotes(data.totals),
        "charts": build_charts(data, start) if data.totals else [], "note": note,
        "as_of": as_of, "as_of_by_domain": _as_of_by_domain(data.totals), "run_ids": run_ids,
        "publication_id": data.publication_id, "generated_at": datetime.now().replace(microsecond=0),
        "cjk_font": charts.cjk_font() if data.totals else None,
    }


def _as_of_by_domain(totals: dict[str, dict[str, Any]]) -> list[tuple[str, date]]:
    zh = {p.domain: p.heading for p in PARAGRAPHS}
    found: dict[str, date] = {}
    for code, r in totals.items():
        dom = catalogue().get(code, {}).get("domain")
        if dom and r["as_of_date"] and (dom not in found or r["as_of_date"] > found[dom]):
            found[dom] = r["as_of_date"]
    return [(zh.get(d, d), found[d]) for d in zh if d in found]


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_work_report(month: date, jurisdiction: str | None = None) -> str:
    """The report as HTML text."""
    return _env().get_template("work_report.html.j2").render(**report_context(month, jurisdiction))


def build_work_report(month: date, out_dir: Path | None = None) -> Path:
    """Write ``work_report_YYYY-MM.html`` into ``out_dir`` (default ``$MSDW_REPORTS_DIR``) and return its path."""
    start = _month_start(month)
    out = Path(out_dir) if out_dir else settings().reports_dir
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"work_report_{start:%Y-%m}.html"
    path.write_text(render_work_report(start), encoding="utf-8")
    return path


__all__ = ["build_work_report", "render_work_report", "report_context", "read_marts"]
