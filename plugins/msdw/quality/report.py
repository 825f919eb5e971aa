"""The auditors' monthly quality report: self-contained HTML (inline CSS, no script) and its PDF.

``build_quality_report(month)`` shows, in Chinese, what happened to the
month's data:

* **by business date**, never by when a job ran: loads and deliveries of the
  month's days; gate runs by the business dates they covered
  (``audit.quality_runs.date_from``/``date_to``: a range gate is listed in
  every month it touches, with its range); publications and whole-table gates
  (warehouse, marts) by the data they carry — ``as_of_date`` (``date_to``)
  from the month's first day up to the end of the month's *filing window*
  (see :func:`filing_window`);
* per feed and day the **load in effect** (the newest loaded/replaced load:
  its counts are the day's figures) with every other attempt — no change
  (identical file), replaced, refused, failed — listed as an event, so a
  re-run with identical files never makes a day look empty;
* **days not delivered**: every day due (from the source's first delivery,
  up to the month's end but never after yesterday, Beijing time) without a
  verified delivery, as 未到货 / 已拒收 / 已豁免 (with who and why);
* **human actions** with the person and reason: waivers, restores and manual
  publications, and — once those tables exist — accepts of failed raw gates
  and restatement adoptions (``optional_actions``);
* **one time zone**: every timestamp in Asia/Shanghai, labelled 北京时间,
  generation time included;
* **Chinese names** for statuses, gates, rules (「规则:字段」, from RULES.md),
  expectations (from the suites) and refusal reasons (``msdw.quality.labels``);
  code identifiers (fields, tables, files, run ids) appear as ``<code>``.

It reads only ``audit`` (as ``msdw_auditor``). ``write_pdf`` prints the same
HTML to PDF with headless Chromium (page numbers in the footer) for
signature and filing. ``build_work_report`` delegates to ``msdw.reporting``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import psycopg
import psycopg.rows
from markupsafe import Markup, escape
from psycopg import sql

from msdw import warehouse
from msdw.config import settings
from msdw.quality import labels
from msdw.quality.queries import query

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
TZ = ZoneInfo("Asia/Shanghai")
# the working day of the next month on which a month's figures close (统计截止日, docs/architecture.md)
CLOSE_WORKING_DAY = 5
# action tables other parts of the platform add; listed when they exist (to_regclass)
OPTIONAL_ACTIONS = {
    "audit.gate_accepts": "放行未通过的原始层闸门",
    "audit.restatements": "采纳数据重述",
}


# --- helpers shared with the gate pages ------------------------------------------------------------


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def statistical_close(month: date) -> date:
    """统计截止日 of a month: its figures close on the 5th working day of the next month (Chinese calendar)."""
    from msdw.calendar import calendar_days

    _, next_month = month_bounds(month)
    workdays = [d.date for d in calendar_days(next_month, next_month + dt.timedelta(days=40)) if d.is_workday]
    return workdays[CLOSE_WORKING_DAY - 1]


def filing_window(conn: psycopg.Connection, month: date) -> date | None:
    """The last as-of date whose publications and whole-table gates are filed under ``month``.

    A publication carries every month up to its ``as_of_date``; it is filed
    under a month while that month is open: from the month's first day up to
    the first publication whose data reach the month's 统计截止日 (the one
    that closed it, included). ``None``: no such publication yet, the month
    is open and every later one is filed under it too. Changes after the
    close are restatements (listed with the actions once recorded).
    """
    return conn.execute(query("first_publication_after"), {"close_date": statistical_close(month)}).fetchone()[0]


def bjt(value: datetime | str | None) -> Markup:
    """A timestamp in Beijing time as ``<time datetime="…+08:00">YYYY-MM-DD HH:MM</time>`` (columns say 北京时间)."""
    if value is None:
        return Markup("")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # the audit stores timestamptz: naive values are already Beijing time
        value = value.replace(tzinfo=TZ)
    local = value.astimezone(TZ)
    return Markup('<time datetime="{}">{}</time>').format(local.isoformat(timespec="seconds"),
                                                          local.strftime("%Y-%m-%d %H:%M"))


_BACKTICK = re.compile(r"`([^`]+)`")


def code(text: Any) -> Markup:
    """Escape ``text``; `identifiers` in backticks become ``<code>``."""
    if text is None:
        return Markup("")
    return Markup(_BACKTICK.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(str(text)))))


def _num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, int):
        return f"{v:,}"
    return f"{float(v):,.2f}".rstrip("0").rstrip(".")


def env() -> jinja2.Environment:
    e = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                           undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    e.filters.update(
        num=_num, bjt=bjt, code=code,
        js=lambda v: "" if v is None else json.dumps(v, ensure_ascii=False, default=str),
        status=labels.status_label, gate=labels.gate_label, source=labels.source_label, feed=labels.feed_label,
    )
    e.globals.update(labels=labels)
    return e


def rows(conn: psycopg.Connection, statement: str | sql.Composable, params: dict[str, Any] | None = None
         ) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(query(statement) if isinstance(statement, str) else statement, params or {})
        return cur.fetchall()


@contextmanager
def auditor_connection() -> Iterator[psycopg.Connection]:
    """The audit as msdw_auditor, timestamps in Beijing time."""
    with warehouse.connect(role=warehouse.ROLE_AUDITOR) as conn:
        conn.execute("set time zone 'Asia/Shanghai'")
        yield conn


def _out_path(out_dir: Path | None, stem: str, month: date, suffix: str = ".html") -> Path:
    out_dir = Path(out_dir) if out_dir else settings().reports_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir / f"{stem}_{month:%Y-%m}{suffix}"


# --- the month's content ------------------------------------------------------------------------------


@dataclass
class FeedDay:
    """One feed on one business date: the load in effect and the other attempts (events)."""

    source: str
    feed: str
    business_date: date
    effect: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return len(self.events) + (self.effect is not None)

    @property
    def status(self) -> str:
        """The day's state: the load in effect, else the last attempt (refused or failed)."""
        if self.effect:
            return self.effect["status"]
        return self.events[-1]["status"] if self.events else ""

    @property
    def bad(self) -> bool:
        return self.effect is None or any(e["status"] in ("refused", "failed") for e in self.events)


def _feed_days(attempts: list[dict[str, Any]]) -> list[FeedDay]:
    days: dict[tuple[str, date], FeedDay] = {}
    for a in attempts:
        d = days.setdefault((a["feed"], a["business_date"]), FeedDay(a["source"], a["feed"], a["business_date"]))
        if a["in_effect"]:
            d.effect = a
        else:
            d.events.append(a)
    superseded_by = {a["replaces_load_id"]: a["load_id"] for a in attempts if a["replaces_load_id"]}
    for d in days.values():
        for e in d.events:
            e["superseded_by"] = superseded_by.get(e["load_id"])
    return sorted(days.values(), key=lambda d: (labels.source_order(d.source), d.feed, d.business_date))


def group_gate_runs(runs: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Relations validated by one call of a gate (same gate, run id and start), keyed by the first quality_run_id."""
    groups: dict[tuple[str, str, Any], list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        groups[(r["gate"], r["run_id"], r["started_at"])].append(r)
    return {rs[0]["quality_run_id"]: rs for rs in groups.values()}


def _optional_actions(conn: psycopg.Connection, start: date, end: date) -> list[dict[str, Any]]:
    """Accepts and restatement adoptions (tables added by other parts of the platform), when they exist.

    Read generically (``to_jsonb``) so the report works before and after they
    are added: who (``actor``), why (``reason``), when (the first ``*_at``),
    which source/feed and business dates (``business_date`` or
    ``date_from``/``date_to``, else ``period_month``).
    """
    out = []
    for table, what in OPTIONAL_ACTIONS.items():
        if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
            continue
        schema, name = table.split(".")
        for r in rows(conn, sql.SQL(query("optional_actions")).format(table=sql.Identifier(schema, name))):
            a = r["row"]
            d0 = a.get("business_date") or a.get("date_from") or a.get("period_month")
            d1 = a.get("business_date") or a.get("date_to") or a.get("period_month") or d0
            if d0 is None or not (date.fromisoformat(str(d0)[:10]) < end and date.fromisoformat(str(d1)[:10]) >= start):
                continue
            at = next((a[k] for k in sorted(a) if k.endswith("_at") and a[k]), None)
            out.append({"at": at, "what": what, "source": a.get("source"), "feed": a.get("feed"),
                        "date_from": str(d0)[:10], "date_to": str(d1)[:10],
                        "actor": a.get("actor") or a.get("accepted_by") or a.get("adopted_by"),
                        "reason": a.get("reason"), "ref": f"{table} #{next(iter(a.values()))}"})
    return out


def quality_data(month: date) -> dict[str, Any]:
    """Everything the quality report shows, read from the audit as msdw_auditor."""
    start, end = month_bounds(month)
    today = datetime.now(TZ).date()
    with auditor_connection() as conn:
        cutoff = filing_window(conn, start)
        p = {"month_start": start, "month_end": end, "cutoff": cutoff, "due_until": today - dt.timedelta(days=1)}
        attempts = rows(conn, "load_attempts", p)
        reasons = rows(conn, "reason_counts", p)
        runs = rows(conn, "gate_runs", p)
        failed_ids = [r["quality_run_id"] for r in runs if not r["success"]]
        failures = rows(conn, "failed_results", {"run_ids": failed_ids}) if failed_ids else []
        pubs = rows(conn, "publications", p)
        held = rows(conn, "held_back", p)
        days = rows(conn, "delivery_days", p)
        waivers = rows(conn, "waivers", p)
        extra_actions = _optional_actions(conn, start, end)
    feed_days = _feed_days(attempts)
    for r in reasons:
        r["source"] = labels.source_of(r["feed"])
        r["rule_zh"], r["field_zh"] = labels.reason_label(f"{r['rule']}:{r['field']}", r["feed"])
    by_source = lambda r: (labels.source_order(r["source"]), r["feed"], -r["rows"])  # noqa: E731
    quarantine = sorted((r for r in reasons if r["level"] == "R"), key=by_source)
    warnings = sorted((r for r in reasons if r["level"] == "W"), key=by_source)
    effect = [d.effect for d in feed_days if d.effect]
    missing_days = [d for d in days if not d["deliveries"]]

    by_run: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in failures:
        by_run[f["quality_run_id"]].append(f)
    gate_runs = group_gate_runs(runs)

    actions = [{"at": w["waived_at"], "what": "豁免缺失到货", "source": w["source"], "feed": None,
                "date_from": w["business_date"], "date_to": w["business_date"], "actor": w["waived_by"],
                "reason": w["reason"], "ref": f"audit.delivery_waivers #{w['waiver_id']}"} for w in waivers]
    for pub in pubs:
        if pub["action"] == "restore" or pub["actor"]:
            what = f"回退发布至 #{pub['restored_from_publication_id']}" if pub["action"] == "restore" else "人工发布"
            actions.append({"at": pub["published_at"], "what": what, "source": None, "feed": None,
                            "date_from": None, "date_to": pub["as_of_date"], "actor": pub["actor"],
                            "reason": pub["reason"], "ref": f"audit.publications #{pub['publication_id']}"})
    actions += extra_actions
    actions.sort(key=lambda a: str(a["at"] or ""))

    totals = {
        "attempts": len(attempts),
        "feed_days": len(effect),
        "noop": sum(a["status"] == "noop" for a in attempts),
        "replaced": sum(a["status"] == "replaced" for a in attempts),
        "refused": sum(a["status"] in ("refused", "failed") for a in attempts),
        "rows_in": sum(e["rows_in"] or 0 for e in effect),
        "rows_loaded": sum(e["rows_loaded"] or 0 for e in effect),
        "rows_quarantined": sum(e["rows_quarantined"] or 0 for e in effect),
        "rows_warned": sum(e["rows_warned"] or 0 for e in effect),
        "gate_runs": len(gate_runs),
        "gate_failed": sum(not all(r["success"] for r in rs) for rs in gate_runs.values()),
        "publications": len(pubs),
        "held_back": len(held),
        "days_due": len(days),
        "days_delivered": len(days) - len(missing_days),
        "days_missing": sum(1 for d in missing_days if not d["waivers"]),
        "days_waived": sum(1 for d in missing_days if d["waivers"]),
        "actions": len(actions),
    }
    per_source: dict[str, dict[str, int]] = {}
    for e in effect:
        s = per_source.setdefault(e["source"], defaultdict(int))
        for k in ("rows_in", "rows_loaded", "rows_quarantined", "rows_warned"):
            s[k] += e[k] or 0
        s["feed_days"] += 1
    return {
        "month": start, "month_end": end - dt.timedelta(days=1), "generated_at": datetime.now(TZ),
        "due_until": min(end - dt.timedelta(days=1), p["due_until"]), "cutoff": cutoff,
        "close_date": statistical_close(start), "totals": totals,
        "per_source": {k: dict(v) for k, v in sorted(per_source.items(), key=lambda kv: labels.source_order(kv[0]))},
        "feed_days": feed_days, "quarantine": quarantine, "warnings": warnings,
        "gate_runs": [(rs[0]["gate"], rs[0]["run_id"], rs) for rs in gate_runs.values()],
        "failures": dict(by_run), "publications": pubs, "held_back": held,
        "missing_days": missing_days, "actions": actions,
    }


def render_quality_report(month: date) -> str:
    return env().get_template("quality_report.html.j2").render(**quality_data(month))


def build_quality_report(month: date, out_dir: Path | None = None, *, pdf: bool = False) -> Path:
    """Write ``quality_report_YYYY-MM.html`` (and with ``pdf`` its PDF next to it); return the HTML's path."""
    month = month.replace(day=1)
    html = render_quality_report(month)
    path = _out_path(out_dir, "quality_report", month)
    path.write_text(html, encoding="utf-8")
    if pdf:
        write_pdf(path, title=f"数据质量月报 {month.year}年{month.month}月")
    return path


def write_pdf(html: Path, pdf: Path | None = None, *, title: str = "") -> Path:
    """Print a report to PDF with headless Chromium (A4; footer: title · 第 N 页 / 共 M 页); returns the PDF's path."""
    from msdw.browser import Browser

    pdf = pdf or html.with_suffix(".pdf")
    footer = (f"{escape(title)} · " if title else "") + "第 <span class=pageNumber></span> 页 / 共 <span class=totalPages></span> 页"
    with Browser() as b:
        pdf.write_bytes(b.print_pdf(html.resolve().as_uri(), footer=footer))
    return pdf


def build_work_report(month: date, out_dir: Path | None = None) -> Path:
    """Write ``work_report_YYYY-MM.html``: the bureau's work report from the published marts.

    Kept here for the CLI and the DAG task; the report itself lives in ``msdw.reporting``.
    """
    from msdw.reporting import build_work_report as build

    return build(month, out_dir)
