"""Benchmark of one scale of the platform: generate → load → dbt → gates → marts → one day end to end.

    .venv/bin/python bench/dbt_build.py --profile district|city|province [--start 2025-03-03 --days 10]

For a generated period (``msdw.generate.generate``, plain CSV so a raw COPY of
the same bytes is a fair limit) in a dedicated database ``msdw_bench_<profile>``
it measures, each step in its own process (wall seconds, peak RSS of the
largest process of the step's tree and load average next to it):

1. ingestion of days 1..N-2 through ``load_day`` — seconds and rows/s per feed —
   and a raw ``COPY`` of the same files into UNLOGGED text tables (the limit);
2. the fixed overhead of one dbt invocation: ``dbt parse`` and ``dbt ls`` with
   partial parsing warm;
3. ``dbt build`` of staging + warehouse with ``--full-refresh`` (models and tests,
   time split from ``run_results.json``);
4. day N-1 loaded, then the same ``dbt build`` incrementally (one new day);
5. the warehouse gate (``bench/gate.py --child gx``) vs the same checks as plain
   SQL (``--child sql``);
6. marts: ``dbt build --select marts`` + ``run_gate("marts")`` + ``publish_marts``;
7. day N end to end through the DAGs (``bench/pipeline.py --child-range``:
   ``msdw.orchestration.runner.run_range`` = what ``msdw run`` does).

Writes ``bench/results/scale_<profile>.json``; ``bench/run_all.py`` runs all scales.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402 - script directory on the path first
    SCRATCH,
    StepFailed,
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

JURISDICTION = {"district": "330106", "city": "330100", "province": "330000"}
DBT_LAYERS = ["--select", "staging", "intermediate", "warehouse"]


def _dates(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# --------------------------------------------------------------------------- children (one per process)

def child_generate(landing: str, profile: str, start: str, end: str) -> None:
    from msdw.generate import generate

    t0 = time.perf_counter()
    generate(Path(landing), dt.date.fromisoformat(start), dt.date.fromisoformat(end), profile=profile, seed=0,
             formats=("csv",))
    emit({"seconds": time.perf_counter() - t0, "rows": input_rows(Path(landing))})


def input_rows(landing: Path, dates: list[dt.date] | None = None) -> dict[str, int]:
    """Rows per feed delivered (from the manifests) for ``dates`` (all when None)."""
    rows: dict[str, int] = defaultdict(int)
    wanted = {d.isoformat() for d in dates} if dates else None
    for m in sorted(landing.glob("*/*/manifest.json")):
        if wanted is not None and m.parent.name not in wanted:
            continue
        for f in json.loads(m.read_text(encoding="utf-8"))["files"]:
            rows[f["name"].rsplit(".", 1)[0]] += f["rows"]
    return dict(rows)


def child_bootstrap(dsn: str) -> None:
    from msdw.bootstrap import bootstrap

    t0 = time.perf_counter()
    bootstrap(dsn)
    emit({"seconds": time.perf_counter() - t0})


def child_load(landing: str, start: str, end: str) -> None:
    """load_day for every source and day: seconds and rows per feed (the loader's own timing)."""
    from msdw.contracts import SOURCES
    from msdw.ingest import load_day

    per_feed: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    t0 = time.perf_counter()
    for d in _dates(dt.date.fromisoformat(start), dt.date.fromisoformat(end)):
        for source in SOURCES:
            for r in load_day(landing, source, d):
                f = per_feed[r.feed]
                f["seconds"] += r.seconds
                f["rows_in"] += r.rows_in
                f["rows_loaded"] += r.rows_loaded
                f["rows_quarantined"] += r.rows_quarantined
                f["files"] += 1
                for k, v in r.phases.items():
                    f[f"phase_{k}"] += v
    emit({"seconds": time.perf_counter() - t0, "feeds": {k: dict(v) for k, v in per_feed.items()}})


def child_rawcopy(dsn: str, landing: str, start: str, end: str) -> None:
    """COPY the same CSV files into UNLOGGED tables of text columns: the limit for any loader."""
    import psycopg
    from psycopg import sql

    per_feed: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    wanted = {d.isoformat() for d in _dates(dt.date.fromisoformat(start), dt.date.fromisoformat(end))}
    with psycopg.connect(dsn) as conn:
        conn.execute("create schema if not exists bench")
        for m in sorted(Path(landing).glob("*/*/manifest.json")):
            if m.parent.name not in wanted:
                continue
            for f in json.loads(m.read_text(encoding="utf-8"))["files"]:
                path = m.parent / f["name"]
                feed = f["name"].rsplit(".", 1)[0]
                with path.open("rb") as fh:
                    ncols = len(fh.readline().split(b","))  # the generator's headers carry no commas
                table = sql.Identifier("bench", f"copy_{feed}_{ncols}")
                conn.execute(sql.SQL("create unlogged table if not exists {} ({})").format(
                    table, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in range(ncols))))
                conn.commit()
                t0 = time.perf_counter()
                with conn.cursor().copy(sql.SQL("copy {} from stdin (format csv, header true)").format(table)) as cp, \
                        path.open("rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023 - fh is this iteration's
                        cp.write(chunk)
                conn.commit()
                per_feed[feed]["seconds"] += time.perf_counter() - t0
                per_feed[feed]["rows"] += f["rows"]
        conn.execute("drop schema bench cascade")
        conn.commit()
    emit({"feeds": {k: dict(v) for k, v in per_feed.items()}})


def _slowest_nodes(results: list[dict], n: int = 8) -> dict[str, float]:
    """Execution seconds of the ``n`` slowest nodes of a dbt invocation (run_results.json), by node name."""
    slow = sorted(results, key=lambda r: r.get("execution_time") or 0.0, reverse=True)[:n]
    return {(r.get("unique_id") or "?.?.?").split(".")[2]: round(r.get("execution_time") or 0.0, 1) for r in slow}


def child_dbt(args: list[str]) -> None:
    """One dbt invocation through msdw.dbt_runner (what the DAG tasks call); time split models/tests."""
    from msdw.dbt_runner import DbtRunError, run_dbt

    try:
        # each build its own run id (the daily tests are scoped to the rows of their run)
        res = run_dbt(args, vars={"msdw_run_id": os.environ.get("MSDW_BENCH_RUN_ID", "bench")})
        results, ok, err = res.results, True, ""
        seconds = res.seconds
    except DbtRunError as exc:  # the cost still counts; the failure is reported
        results, ok, err, seconds = [], False, str(exc)[:2000], float("nan")
    split: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for r in results:
        kind = r.get("unique_id", "").split(".", 1)[0]
        split[kind] += r.get("execution_time") or 0.0
        counts[kind] += 1
    emit({"seconds": seconds, "ok": ok, "error": err, "node_seconds": dict(split), "nodes": dict(counts),
          "slowest_nodes_s": _slowest_nodes(results)})


def child_seed() -> None:
    """dbt seed the way the daily transform does (msdw.dbt_runner.seed_if_changed): the load is
    recorded in audit.seed_loads, so the end-to-end day does not seed again (nothing changed)."""
    from msdw.dbt_runner import seed_if_changed

    t0 = time.perf_counter()
    seeded = seed_if_changed("bench-seed")
    emit({"seconds": time.perf_counter() - t0, "seeded": seeded})


def child_marts(run_id: str) -> None:
    """Monthly marts refresh as the refresh_monthly_marts DAG does it: build, gate, publish."""
    from msdw.dbt_runner import DbtRunError, run_dbt

    out: dict = {}
    t0 = time.perf_counter()
    try:
        res = run_dbt(["build", "--select", "marts"], vars={"msdw_run_id": run_id})
        out["dbt_build_marts_s"] = res.seconds
        out["slowest_nodes_s"] = _slowest_nodes(res.results)
    except DbtRunError as exc:
        out["dbt_build_marts_s"] = time.perf_counter() - t0
        out["dbt_error"] = str(exc)[:1500]
    t1 = time.perf_counter()
    from msdw.quality import GateFailed, publish_marts, run_gate

    out["gx_import_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    try:
        run_gate("marts", run_id=run_id, data_docs=False)
        out["gate_passed"] = True
    except GateFailed as exc:
        out["gate_passed"] = False
        out["gate_error"] = str(exc)[:1500]
    out["gate_marts_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    try:
        pub = publish_marts(run_id=run_id)
        out["published"] = getattr(pub, "publication_id", True)
    except Exception as exc:  # noqa: BLE001 - a refused publication is a result here
        out["published"] = False
        out["publish_error"] = f"{type(exc).__name__}: {exc}"[:800]
    out["publish_s"] = time.perf_counter() - t1
    out["seconds"] = time.perf_counter() - t0
    emit(out)


CHILDREN = {"generate": child_generate, "bootstrap": child_bootstrap, "load": child_load, "rawcopy": child_rawcopy,
            "seed": child_seed, "marts": child_marts}


# --------------------------------------------------------------------------- driver

def _step(label: str, script: str, *args: str, env: dict[str, str], check: bool = True) -> dict:
    print(f"  [{time.strftime('%H:%M:%S')}] {label} (load {load1()})", flush=True)
    try:
        m = python_step(script, *args, env=env, check=check)
    except StepFailed as exc:
        print(f"    FAILED: {exc}", flush=True)
        m = {**exc.measured, "failed": True}
    r = m.get("result") or {}
    inner = r.get("seconds") if isinstance(r, dict) else None
    print(f"    {m['seconds']:.1f}s wall" + (f", {inner:.1f}s inside" if isinstance(inner, (int, float)) else "")
          + f", peak RSS {m['peak_process_rss_mb']:.0f} MB", flush=True)
    return m


def run_scale(profile: str, start: dt.date, days: int, keep: bool = False, e2e: bool = True) -> dict:
    """All measurements of one scale; returns (and writes) ``scale_<profile>.json``."""
    if days < 3:
        raise ValueError("need at least 3 days: history, one incremental day, one end-to-end day")
    admin = admin_dsn()
    db = f"msdw_bench_{profile}"
    dsn = fresh_db(admin, db)
    home = SCRATCH / profile
    if home.exists():
        shutil.rmtree(home)
    landing = home / "landing"
    env = bench_env(dsn, home / "home", JURISDICTION[profile], admin)
    end = start + dt.timedelta(days=days - 1)
    hist_end, inc_day, e2e_day = end - dt.timedelta(days=2), end - dt.timedelta(days=1), end
    doc: dict = {"bench": "scale", "profile": profile, "jurisdiction": JURISDICTION[profile],
                 "period": [start.isoformat(), end.isoformat()], "days": days,
                 "history": [start.isoformat(), hist_end.isoformat()], "incremental_day": inc_day.isoformat(),
                 "e2e_day": e2e_day.isoformat(), "machine": machine(), "server": server_info(dsn), "steps": {}}
    steps = doc["steps"]

    def save() -> None:
        write_result(f"scale_{profile}", doc)

    print(f"== scale {profile}: {start}..{end} ({days} days) in {db}", flush=True)
    try:
        steps["generate"] = _step("generate", "dbt_build.py", "--child", "generate", str(landing), profile,
                                  start.isoformat(), end.isoformat(), env=env)
        doc["input_rows"] = input_rows(landing)
        doc["input_rows_total"] = sum(doc["input_rows"].values())
        doc["history_rows"] = sum(input_rows(landing, _dates(start, hist_end)).values())
        doc["incremental_day_rows"] = sum(input_rows(landing, [inc_day]).values())
        doc["e2e_day_rows"] = sum(input_rows(landing, [e2e_day]).values())
        save()
        steps["bootstrap"] = _step("bootstrap", "dbt_build.py", "--child", "bootstrap", dsn, env=env)
        steps["load_history"] = _step("load history (load_day)", "dbt_build.py", "--child", "load", str(landing),
                                      start.isoformat(), hist_end.isoformat(), env=env)
        steps["raw_copy_history"] = _step("raw COPY of the same files", "dbt_build.py", "--child", "rawcopy", dsn,
                                          str(landing), start.isoformat(), hist_end.isoformat(), env=env)
        save()
        steps["dbt_seed"] = _step("dbt seed", "dbt_build.py", "--child", "seed", env=env)
        steps["dbt_parse_cold"] = _step("dbt parse (cold)", "dbt_build.py", "--child", "dbt", "parse", env=env)
        steps["dbt_parse_warm"] = _step("dbt parse (warm)", "dbt_build.py", "--child", "dbt", "parse", env=env)
        steps["dbt_ls_warm"] = _step("dbt ls (warm)", "dbt_build.py", "--child", "dbt", "ls", "--resource-type",
                                     "model", env=env)
        steps["dbt_full"] = _step("dbt build staging+warehouse --full-refresh", "dbt_build.py", "--child", "dbt",
                                  "build", *DBT_LAYERS, "--full-refresh", env={**env, "MSDW_BENCH_RUN_ID": "bench-full"})
        save()
        steps["load_incremental_day"] = _step(f"load {inc_day}", "dbt_build.py", "--child", "load", str(landing),
                                              inc_day.isoformat(), inc_day.isoformat(), env=env)
        # as transform_warehouse runs it: its own run id, tests scoped to the rows it rewrote
        steps["dbt_incremental"] = _step("dbt build staging+warehouse (incremental, one day)", "dbt_build.py",
                                         "--child", "dbt", "build", *DBT_LAYERS,
                                         env={**env, "MSDW_BENCH_RUN_ID": "bench-incremental",
                                              "MSDW_DBT_TEST_SCOPE": "changed"})
        save()
        steps["gate_sql"] = _step("warehouse checks as plain SQL", "gate.py", "--child", "sql", "--dsn", dsn, env=env)
        steps["gate_gx"] = _step("warehouse gate (GX)", "gate.py", "--child", "gx", "--dsn", dsn, env=env)
        steps["marts"] = _step("marts: dbt build + gate + publish", "dbt_build.py", "--child", "marts",
                               f"bench_{profile}_marts", env=env)
        save()
        if e2e:
            steps["e2e_day"] = _step(f"{e2e_day} end to end (run_range, dag.test)", "pipeline.py", "--child-range",
                                     str(landing), e2e_day.isoformat(), e2e_day.isoformat(), env=env, check=False)
        with __import__("psycopg").connect(dsn) as conn:
            doc["db_size_mb"] = round(conn.execute("select pg_database_size(current_database())").fetchone()[0] / 2**20)
            doc["largest_relations"] = conn.execute(
                "select n.nspname || '.' || c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) / 1048576 "
                "from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p') "
                "and n.nspname in ('raw', 'staging', 'warehouse', 'marts_store') "
                "order by pg_total_relation_size(c.oid) desc limit 8").fetchall()
    finally:
        doc["machine_after"] = machine()
        save()
        if not keep:
            drop_db(admin, db)
            shutil.rmtree(home, ignore_errors=True)
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=sorted(JURISDICTION), default="district")
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 3, 3))
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the database and files for inspection")
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, *rest = a.child
        if kind == "dbt":
            child_dbt(rest)
        else:
            CHILDREN[kind](*rest)
        return
    os.environ.setdefault("MSDW_PII_HMAC_KEY", "bench-key-not-a-secret")
    run_scale(a.profile, a.start, a.days, keep=a.keep, e2e=not a.no_e2e)


if __name__ == "__main__":
    main()
