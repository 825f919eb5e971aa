"""Monthly reports as self-contained HTML (inline CSS, no script, no server needed).

``build_quality_report`` is the auditors' view of a month: per source and day
the rows received, loaded and quarantined (by reason), warnings by rule, the
quality gates with every failed expectation explained (examples masked), what
was published to BI and what was held back. It reads only ``audit`` (as
msdw_auditor). ``build_work_report`` delegates to ``msdw.reporting`` (the bureau's work
report from the published marts, read as msdw_bi).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
import psycopg
import psycopg.rows

from msdw import warehouse
from msdw.config import settings
from msdw.quality.queries import query

TEMPLATES = Path(__file__).parent / "templates"
SOURCE_ZH = {"registration": "市场主体登记", "sampling": "食品抽检与快检", "equipment": "特种设备", "complaints": "投诉举报"}
GATE_ZH = {"warehouse": "仓库层闸门", "marts": "集市闸门"}


def _month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v: "" if v is None else (f"{v:,}" if isinstance(v, int) else f"{float(v):,.2f}".rstrip("0").rstrip("."))
    env.filters["js"] = lambda v: "" if v is None else json.dumps(v, ensure_ascii=False, default=str)
    return env


def _rows(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(query(name), params)
        return cur.fetchall()


def _out_path(out_dir: Path | None, stem: str, month: date) -> Path:
    out_dir = Path(out_dir) if out_dir else settings().reports_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir / f"{stem}_{month:%Y-%m}.html"


def gate_label(gate: str) -> str:
    if gate.startswith("raw_"):
        return f"原始层闸门 {gate[4:]}"
    return GATE_ZH.get(gate, gate)


def quality_data(month: date) -> dict[str, Any]:
    """Everything the quality report shows, read from the audit as msdw_auditor."""
    start, end = _month_bounds(month)
    p = {"month_start": start, "month_end": end}
    with warehouse.connect(role=warehouse.ROLE_AUDITOR) as conn:
        loads = _rows(conn, "loads_by_day", p)
        quarantine = _rows(conn, "quarantine_by_reason", p)
        warnings = _rows(conn, "warnings_by_rule", p)
        runs = _rows(conn, "gate_runs", p)
        failed_ids = [r["quality_run_id"] for r in runs if not r["success"]]
        failures = _rows(conn, "failed_results", {"run_ids": failed_ids}) if failed_ids else []
        pubs = _rows(conn, "publications", p)
        held = _rows(conn, "held_back", p)
        days = _rows(conn, "delivery_days", p)
    missing = [d for d in days if not d["deliveries"]]
    by_run: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in failures:
        by_run[f["quality_run_id"]].append(f)
    totals = {
        "files": sum(r["attempts"] for r in loads),
        "refused": sum(r["refused"] for r in loads),
        "rows_in": sum(r["rows_in"] or 0 for r in loads),
        "rows_loaded": sum(r["rows_loaded"] or 0 for r in loads),
        "rows_quarantined": sum(r["rows_quarantined"] or 0 for r in loads),
        "rows_warned": sum(r["rows_warned"] or 0 for r in loads),
        "gate_runs": len(runs),
        "gate_failed": len(failed_ids),
        "publications": len(pubs),
        "held_back": len(held),
        "days_delivered": sum(1 for d in days if d["deliveries"]),
        "days_missing": sum(1 for d in missing if not d["waiver"]),
        "days_waived": sum(1 for d in missing if d["waiver"]),
    }
    per_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in loads:
        s = per_source[r["source"]]
        for k in ("rows_in", "rows_loaded", "rows_quarantined", "rows_warned"):
            s[k] += r[k] or 0
        s["days"] += 1
    return {
        "month": start, "generated_at": datetime.now().replace(microsecond=0), "totals": totals,
        "per_source": {k: dict(v) for k, v in per_source.items()},
        "loads": loads, "quarantine": quarantine, "warnings": warnings,
        "runs": runs, "failures": dict(by_run), "publications": pubs, "held_back": held,
        "missing_days": missing,
    }


def build_quality_report(month: date, out_dir: Path | None = None) -> Path:
    """Write ``quality_report_YYYY-MM.html`` (the auditors' monthly report) and return its path."""
    data = quality_data(month)
    html = _env().get_template("quality_report.html.j2").render(
        **data, source_zh=SOURCE_ZH, gate_label=gate_label)
    path = _out_path(out_dir, "quality_report", data["month"])
    path.write_text(html, encoding="utf-8")
    return path


def build_work_report(month: date, out_dir: Path | None = None) -> Path:
    """Write ``work_report_YYYY-MM.html``: the bureau's work report from the published marts.

    Kept here for the CLI and the DAG task; the report itself lives in ``msdw.reporting``.
    """
    from msdw.reporting import build_work_report as build

    return build(month, out_dir)
