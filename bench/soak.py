"""Soak run: a generated province period through the whole pipeline, two loaders at once.

What it does (a script, not a test; figures go to docs/reliability.md):

1. generate ``--profile`` (default ``province``) deliveries for ``--start``..``--end``
   with defects (msdw.generate);
2. bootstrap a dedicated database (``msdw_soak`` on the server of
   ``MSDW_BENCH_ADMIN_DSN`` / ``MSDW_TEST_ADMIN_DSN``; never the database ``msdw``);
3. load every day with TWO worker processes running at the same time, each
   owning different sources (registration+sampling | equipment+complaints),
   days in order within a worker — the production shape of two ingest DAGs
   running concurrently;
4. ``dbt build`` (models and seeds) of staging → warehouse → marts, the warehouse and marts
   gates, publish;
5. the day after ``--end`` (generated with the period) loaded and built as the daily transform
   builds it (staging, then intermediate + warehouse, tests scoped to the rows the run wrote), the
   warehouse gate, the marts build, their gate and publish: the incremental day at this scale;
6. report rows/s of the load phase, the peak RSS of the children
   (``ru_maxrss`` of RUSAGE_CHILDREN: the largest worker or dbt process) and
   the reconciliation Σ rows_in = Σ rows_loaded + Σ rows_quarantined over every
   file from audit.load_files (zero lost rows), plus every manifest's rows = rows_in.

Usage::

    .venv/bin/python bench/soak.py [--profile province] [--start 2025-01-01] [--end 2025-01-31] [--defects 0.02]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
SOURCES_BY_WORKER = (("registration", "sampling"), ("equipment", "complaints"))
DB = "msdw_soak"


def admin_dsn() -> str:
    dsn = os.environ.get("MSDW_BENCH_ADMIN_DSN") or os.environ.get("MSDW_TEST_ADMIN_DSN")
    if not dsn:
        sys.exit("set MSDW_BENCH_ADMIN_DSN (or MSDW_TEST_ADMIN_DSN) to an administrator DSN, e.g. "
                 "postgresql://postgres@127.0.0.1:5432/postgres")
    return dsn


def with_db(dsn: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def worker(landing: str, sources: list[str], start: date, end: date) -> None:
    """Load ``sources`` day by day (run in a child process; env carries the warehouse DSN)."""
    from msdw.ingest import load_day

    d = start
    while d <= end:
        for s in sources:
            if (Path(landing) / s / d.isoformat() / "manifest.json").exists():
                load_day(landing, s, d)
        d += timedelta(days=1)


def incremental_day(landing: Path, day: date, dsn: str, target: Path) -> dict:
    """The next day as production runs it: load, transform (as the transform DAG), gates, marts, publish."""
    from msdw.dbt_runner import run_dbt
    from msdw.ingest import load_day
    from msdw.quality import publish_marts, run_gate

    out: dict = {"incremental_day": day.isoformat()}
    t = time.perf_counter()
    rows = 0
    for source in ("registration", "sampling", "equipment", "complaints"):
        if (landing / source / day.isoformat() / "manifest.json").exists():
            rows += sum(r.rows_in for r in load_day(str(landing), source, day))
    out["incremental_rows"], out["incremental_load_s"] = rows, round(time.perf_counter() - t, 1)
    run_id = "soak-incremental"
    t = time.perf_counter()
    for select in (["staging"], ["intermediate", "warehouse"]):  # msdw.orchestration.factory: transform_warehouse
        run_dbt(["build", "--select", *select], vars={"msdw_run_id": run_id}, conninfo=dsn, target_path=target,
                test_scope="changed")
    out["incremental_dbt_warehouse_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    run_gate("warehouse", run_id=run_id)
    out["incremental_warehouse_gate_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    run_dbt(["build", "--select", "marts"], vars={"msdw_run_id": run_id}, conninfo=dsn, target_path=target)
    out["incremental_dbt_marts_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    run_gate("marts", run_id=run_id)
    out["incremental_published"] = str(publish_marts(run_id=run_id))
    out["incremental_marts_gate_publish_s"] = round(time.perf_counter() - t, 1)
    print(f"incremental day {day}: {rows:,} rows; {out}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="province")
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    ap.add_argument("--end", type=date.fromisoformat, default=date(2025, 1, 31))
    ap.add_argument("--defects", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--scratch", type=Path, default=Path(os.environ.get("MSDW_BENCH_SCRATCH", "/tmp/msdw-soak")))
    ap.add_argument("--no-dbt", action="store_true", help="stop after the loads")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)  # internal: run one worker
    args = ap.parse_args()

    if args.worker:
        worker(args.worker[0], args.worker[1:], args.start, args.end)
        return

    admin = admin_dsn()
    dsn = with_db(admin, DB)
    home = args.scratch / "home"
    landing = args.scratch / "landing"
    os.environ.update({"MSDW_WAREHOUSE_DSN": dsn, "MSDW_HOME": str(home), "MSDW_PII_HMAC_KEY": "soak-key-not-a-secret",
                       "MSDW_REPORTS_DIR": str(args.scratch / "reports")})
    from msdw.bootstrap import bootstrap
    from msdw.generate import generate

    figures: dict = {"profile": args.profile, "start": args.start.isoformat(), "end": args.end.isoformat(),
                     "defects": args.defects, "cores": os.cpu_count(), "load_avg_before": os.getloadavg()}
    t0 = time.perf_counter()
    if not (landing / "_generator" / "summary.json").exists():
        # one day more than the soak period: the incremental day of step 5
        summary = generate(landing, args.start, args.end + timedelta(days=1), profile=args.profile, seed=args.seed,
                           defects=args.defects, formats=("csv", "gb18030"))
        figures["generated_rows"] = summary.total_rows
    else:
        figures["generated_rows"] = json.loads((landing / "_generator" / "summary.json").read_text())["total_rows"]
    figures["generate_s"] = round(time.perf_counter() - t0, 1)
    print(f"generated {figures['generated_rows']:,} rows in {figures['generate_s']} s", flush=True)

    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'drop database if exists "{DB}" with (force)')
        from msdw.warehouse import create_database

        create_database(c, DB)
    bootstrap(dsn)

    t1 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--start", args.start.isoformat(), "--end", args.end.isoformat(),
                               "--worker", str(landing), *sources], env=os.environ.copy())
             for sources in SOURCES_BY_WORKER]
    codes = [p.wait() for p in procs]
    figures["load_s"] = round(time.perf_counter() - t1, 1)
    print(f"loads done in {figures['load_s']} s (worker exit codes {codes})", flush=True)
    if any(codes):
        sys.exit(f"a loader worker failed: exit codes {codes}")
    with psycopg.connect(dsn) as c:
        n_files, rows_in, loaded, quarantined, bad = c.execute(
            """select count(*), sum(rows_in), sum(rows_loaded), sum(rows_quarantined),
                      count(*) filter (where rows_in <> rows_loaded + rows_quarantined)
               from audit.load_files where status in ('loaded', 'replaced')""").fetchone()
        statuses = dict(c.execute("select status, count(*) from audit.load_files group by 1").fetchall())
        audited = {(s, str(d), f): n for s, d, f, n in c.execute(
            "select source, business_date, file_name, rows_in from audit.load_files where status in ('loaded', 'replaced')")}
    manifests = {}
    for m in landing.glob("*/*/manifest.json"):
        doc = json.loads(m.read_text(encoding="utf-8"))
        if date.fromisoformat(doc["business_date"]) > args.end:  # the incremental day, loaded later
            continue
        for f in doc["files"]:
            manifests[(doc["source"], doc["business_date"], f["name"])] = f["rows"]
    figures.update({
        "files": n_files, "rows_in": int(rows_in), "rows_loaded": int(loaded), "rows_quarantined": int(quarantined),
        "lost_rows": int(rows_in - loaded - quarantined), "files_not_reconciling": bad, "statuses": statuses,
        "manifest_rows_mismatch": sorted(str(k) for k in manifests if manifests[k] != audited.get(k)),
        "load_rows_per_s": round(int(rows_in) / figures["load_s"]),
        "loader_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    })
    print(f"loaded {rows_in:,} rows ({n_files} files) in {figures['load_s']} s with 2 workers: "
          f"{figures['load_rows_per_s']:,} rows/s; lost {figures['lost_rows']}", flush=True)

    if not args.no_dbt:
        from msdw.dbt_runner import run_dbt
        from msdw.quality import publish_marts, run_gate

        t2 = time.perf_counter()
        run_dbt(["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
                vars={"msdw_run_id": "soak"}, conninfo=dsn, target_path=args.scratch / "dbt_target")
        figures["dbt_build_s"] = round(time.perf_counter() - t2, 1)
        t3 = time.perf_counter()
        try:
            run_gate("warehouse", run_id="soak")
            figures["warehouse_gate_s"] = round(time.perf_counter() - t3, 1)
            t3 = time.perf_counter()
            run_gate("marts", run_id="soak")
            pub = publish_marts(run_id="soak")
            figures["published"] = str(pub)
        except Exception as exc:  # noqa: BLE001 - reported, the soak figures still stand
            figures["published"] = f"not published: {type(exc).__name__}: {str(exc)[:300]}"
        figures["gate_publish_s"] = round(time.perf_counter() - t3, 1)
        figures.update(incremental_day(landing, args.end + timedelta(days=1), dsn, args.scratch / "dbt_target"))
    figures["peak_child_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    figures["total_s"] = round(time.perf_counter() - t0, 1)
    figures["load_avg_after"] = os.getloadavg()
    out = REPO / "bench" / "results" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    if figures["lost_rows"] or figures["files_not_reconciling"] or figures["manifest_rows_mismatch"]:
        sys.exit("rows were lost")


if __name__ == "__main__":
    main()
