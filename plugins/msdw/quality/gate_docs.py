"""The project's own Data Docs: static pages of every quality gate run, from the audit, readable offline.

Great Expectations' Data Docs load Bootstrap, jQuery and Font Awesome from
CDNs (they render unstyled and empty inside a government network) and, with
the platform's ephemeral GX context, index only the last gate run. These
pages replace them: rendered from ``audit.quality_runs`` / ``quality_results``
(the durable record of every run), in Chinese, with inline CSS and no script
or remote asset, so they open from disk or from ``msdw docs`` with no network.

    $MSDW_REPORTS_DIR/gate_docs/index.html        every month with gate runs
    $MSDW_REPORTS_DIR/gate_docs/YYYY-MM.html      all gate runs filed under the month (as the quality report
                                                  files them: by the business dates they covered)
    $MSDW_REPORTS_DIR/gate_docs/runs/<id>.html    one gate run: every relation and every expectation,
                                                  passed or not, its Chinese name, bounds and masked examples

A run page never changes once written (the audit is append-only), so a
refresh writes only the pages of new runs and rewrites the month pages and
the index. ``run_gate`` refreshes after recording a run (``data_docs=True``);
``msdw docs`` and ``msdw report`` refresh everything.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from msdw.config import settings
from msdw.quality.report import (
    TZ,
    auditor_connection,
    env,
    filing_window,
    group_gate_runs,
    month_bounds,
    rows,
)

log = logging.getLogger(__name__)

DIR_NAME = "gate_docs"


def docs_dir(out_dir: Path | None = None) -> Path:
    return (Path(out_dir) if out_dir else settings().reports_dir) / DIR_NAME


def _run_page(conn, target: Path, runs: list[dict[str, Any]]) -> None:
    ids = [r["quality_run_id"] for r in runs]
    results = rows(conn, "gate_run_results", {"run_ids": ids})
    by_run: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in results:
        by_run[r["quality_run_id"]].append(r)
    html = env().get_template("gate_docs.html.j2").render(
        page="run", runs=runs, results=by_run, generated_at=datetime.now(TZ))
    target.write_text(html, encoding="utf-8")


def build_gate_docs(out_dir: Path | None = None, months: list[date] | None = None) -> Path:
    """(Re)write the index, the pages of ``months`` (default: every month with gate runs) and missing run pages.

    Returns the index's path.
    """
    root = docs_dir(out_dir)
    (root / "runs").mkdir(parents=True, exist_ok=True)
    written = 0
    with auditor_connection() as conn:
        all_months = [r["month"] for r in rows(conn, "gate_months")]
        summary = []
        for month in all_months:
            start, end = month_bounds(month)
            cutoff = filing_window(conn, start)
            runs = rows(conn, "gate_runs", {"month_start": start, "month_end": end, "cutoff": cutoff})
            groups = group_gate_runs(runs)
            summary.append({"month": start, "runs": len(groups),
                            "failed": sum(not all(r["success"] for r in rs) for rs in groups.values()),
                            "report": (root.parent / f"quality_report_{start:%Y-%m}.html").exists()})
            if months is not None and start not in months:
                continue
            for key, rs in groups.items():
                page = root / "runs" / f"{key}.html"
                if not page.exists():
                    _run_page(conn, page, rs)
                    written += 1
            html = env().get_template("gate_docs.html.j2").render(
                page="month", month=start, cutoff=cutoff, groups=groups, generated_at=datetime.now(TZ))
            (root / f"{start:%Y-%m}.html").write_text(html, encoding="utf-8")
    index = root / "index.html"
    index.write_text(env().get_template("gate_docs.html.j2").render(
        page="index", months=summary, generated_at=datetime.now(TZ)), encoding="utf-8")
    log.info("gate pages: %s (%d month(s), %d new run page(s))", index, len(summary), written)
    return index


def refresh_after_run(date_from: date | None, date_to: date | None) -> None:
    """After a gate run: the pages of the months it covered (new run pages, month pages, index).

    Never raises: the pages are a view of the audit, which already holds the run.
    """
    try:
        months = None
        if date_from and date_to:
            months, m = [], date_from.replace(day=1)
            while m <= date_to:
                months.append(m)
                m = month_bounds(m)[1]
        build_gate_docs(months=months)
    except Exception as exc:  # noqa: BLE001 - documentation must not fail a gate
        log.warning("gate pages not refreshed: %s", exc)
