"""End-to-end benchmark through the DAG code: a whole generated district year, then one more day.

    .venv/bin/python bench/pipeline.py [--year 2025] [--profile district]

What ``make demo`` does, measured once: generate the year (CSV), bootstrap a
dedicated database ``msdw_bench_pipeline``, then
``msdw.orchestration.runner.run_range`` (the ``dag.test()`` path of ``msdw
run``: ingest ×4 → transform_warehouse → refresh_monthly_marts) over
1 Jan .. 30 Dec, and again for 31 Dec alone — one business day after a loaded
history, all four sources, Airflow overhead included. Each run_range is a
separate process (peak RSS sampled over its tree, dbt included); the Airflow
metadata database (SQLite under the run's MSDW_HOME) is migrated beforehand and
not counted.

Writes ``bench/results/pipeline.json``. ``--child-range`` is also used by
``bench/dbt_build.py`` for the one-day run at each scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402 - script directory on the path first
    SCRATCH,
    admin_dsn,
    bench_env,
    drop_db,
    emit,
    fresh_db,
    load1,
    machine,
    python_step,
    server_info,
    write_result,
)

DB = "msdw_bench_pipeline"
META_DB = "msdw_bench_airflow_meta_pipeline"  # its own: may run beside the scale benches


def child_range(landing: str, start: str, end: str) -> None:
    """run_range in this process; prints per-DAG seconds and the Airflow preparation cost."""
    from msdw.orchestration import airflow_env

    t0 = time.perf_counter()
    airflow_env.prepare(quiet=True)  # metadata DB migration: once per MSDW_HOME, not part of a day's cost
    prepare_s = time.perf_counter() - t0
    from msdw.orchestration.runner import PipelineRunFailed, run_range

    t0 = time.perf_counter()
    error = ""
    try:
        report = run_range(landing, dt.date.fromisoformat(start), dt.date.fromisoformat(end), quiet=True)
        runs = report.runs
    except PipelineRunFailed as exc:
        error, runs = str(exc)[:2000], []
    emit({"seconds": time.perf_counter() - t0, "prepare_s": prepare_s, "ok": not error, "error": error,
          "dags": [{"dag_id": d, "state": s, "seconds": round(sec, 2)} for d, s, sec in runs]})


def child_prepare() -> None:
    from msdw.orchestration import airflow_env

    t0 = time.perf_counter()
    airflow_env.prepare(quiet=True)
    emit({"seconds": time.perf_counter() - t0})


def child_generate(landing: str, profile: str, start: str, end: str) -> None:
    from msdw.generate import generate

    t0 = time.perf_counter()
    s = generate(Path(landing), dt.date.fromisoformat(start), dt.date.fromisoformat(end), profile=profile, seed=0,
                 formats=("csv",))
    emit({"seconds": time.perf_counter() - t0, "rows": s.total_rows})


def child_bootstrap(dsn: str) -> None:
    from msdw.bootstrap import bootstrap

    bootstrap(dsn)
    emit({"ok": True})


def run_year(year: int, profile: str = "district", keep: bool = False) -> dict:
    admin = admin_dsn()
    dsn = fresh_db(admin, DB)
    home = SCRATCH / "pipeline"
    if home.exists():
        shutil.rmtree(home)
    landing = home / "landing"
    drop_db(admin, META_DB)
    env = bench_env(dsn, home / "home", "330106", admin, META_DB)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    last = end - dt.timedelta(days=1)
    doc: dict = {"bench": "pipeline", "profile": profile, "year": year, "machine": machine(),
                 "server": server_info(dsn), "steps": {}}
    steps = doc["steps"]

    def step(label: str, *args: str) -> dict:
        print(f"  [{time.strftime('%H:%M:%S')}] {label} (load {load1()})", flush=True)
        m = python_step("pipeline.py", *args, env=env, check=False)
        print(f"    {m['seconds']:.1f}s, peak RSS {m['peak_process_rss_mb']:.0f} MB"
              + (f", FAILED: {m['stderr_tail'][-400:]}" if m["returncode"] else ""), flush=True)
        return m

    print(f"== pipeline: {profile} {year} through run_range (dag.test) in {DB}", flush=True)
    try:
        steps["generate"] = step("generate the year", "--child-generate", str(landing), profile,
                                 start.isoformat(), end.isoformat())
        steps["bootstrap"] = step("bootstrap", "--child-bootstrap", dsn)
        steps["airflow_prepare"] = step("airflow metadata migrate (not counted)", "--child-prepare")
        write_result("pipeline", doc)
        steps["year"] = step(f"run_range {start}..{last}", "--child-range", str(landing), start.isoformat(),
                             last.isoformat())
        write_result("pipeline", doc)
        steps["one_day"] = step(f"run_range {end} (one business day after the history)", "--child-range",
                                str(landing), end.isoformat(), end.isoformat())
        from dbt_build import input_rows

        doc["input_rows"] = input_rows(landing)
        doc["input_rows_total"] = sum(doc["input_rows"].values())
        doc["one_day_rows"] = sum(input_rows(landing, [end]).values())
    finally:
        doc["machine_after"] = machine()
        write_result("pipeline", doc)
        if not keep:
            drop_db(admin, DB)
            drop_db(admin, META_DB)
            shutil.rmtree(home, ignore_errors=True)
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--profile", default="district")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--child-range", nargs=3)
    ap.add_argument("--child-generate", nargs=4)
    ap.add_argument("--child-bootstrap", nargs=1)
    ap.add_argument("--child-prepare", action="store_true")
    a = ap.parse_args()
    if a.child_range:
        child_range(*a.child_range)
    elif a.child_generate:
        child_generate(*a.child_generate)
    elif a.child_bootstrap:
        child_bootstrap(*a.child_bootstrap)
    elif a.child_prepare:
        child_prepare()
    else:
        os.environ.setdefault("MSDW_PII_HMAC_KEY", "bench-key-not-a-secret")
        run_year(a.year, a.profile, keep=a.keep)


if __name__ == "__main__":
    main()
