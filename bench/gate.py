"""Benchmark of the warehouse quality gate (a script, not a test).

    .venv/bin/python bench/gate.py [--doublings 8,12] [--repeat 3]

Needs a PostgreSQL admin DSN in MSDW_TEST_ADMIN_DSN (or MSDW_BENCH_ADMIN_DSN);
creates and drops its own database ``msdw_bench_gate``. It builds the
warehouse with the real dbt project from the raw test fixture, then doubles
every fact table ``d`` times (keys suffixed, so uniqueness still holds) and,
at each scale, times in a fresh subprocess (so peak RSS is its own):

  (a) ``run_gate("warehouse")`` — Great Expectations 1.x, SQL datasource,
      every metric computed in PostgreSQL (Data Docs off; GX import excluded
      and reported separately);
  (b) the same checks as plain SQL: each suite compiled to ONE aggregate query
      per table (counts of NULLs, duplicates, values outside the set, and the
      suite's own unexpected-rows queries as scalar sub-queries).

Prints a table and writes bench/results/gate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DB = "msdw_bench_gate"


def _dsn(admin: str, db: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(admin)
    info["dbname"] = db
    return psycopg.conninfo.make_conninfo(**info)


def _unique_key(spec) -> str | None:
    for e in spec.expectations:
        if e["type"] == "expect_column_values_to_be_unique":
            return e["kwargs"]["column"]
    return None


def build(admin: str, tmp: Path) -> str:
    from msdw.bootstrap import bootstrap
    from msdw.dbt_runner import run_dbt

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))
        from msdw.warehouse import create_database

        create_database(conn, DB)
    dsn = _dsn(admin, DB)
    bootstrap(dsn)
    with psycopg.connect(dsn) as conn:
        conn.execute((REPO / "tests/integration/test_dbt_raw_fixture.sql").read_text(encoding="utf-8"))
    run_dbt(["build", "--full-refresh", "--exclude", "test_type:unit"], conninfo=dsn, target_path=tmp / "target")
    return dsn


def double(dsn: str, times: int) -> dict[str, int]:
    """Double every fact ``times`` times; returns row counts."""
    from msdw.quality.config import suites_of_gate

    counts = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("set role msdw_transformer")
        for spec in suites_of_gate("warehouse"):
            t = sql.Identifier(spec.schema, spec.table)
            key = _unique_key(spec)
            for i in range(times):
                conn.execute("drop table if exists _dup")
                conn.execute(sql.SQL("create temp table _dup as select * from {}").format(t))
                if key:
                    conn.execute(sql.SQL("update _dup set {k} = {k} || {s}").format(k=sql.Identifier(key), s=sql.Literal(f"#{i}")))
                conn.execute(sql.SQL("insert into {} select * from _dup").format(t))
            conn.execute(sql.SQL("analyze {}").format(t))
            counts[spec.relation] = conn.execute(sql.SQL("select count(*) from {}").format(t)).fetchone()[0]
        conn.commit()
    return counts


def plain_sql_queries() -> dict[str, sql.Composable]:
    """Every warehouse suite as one aggregate query on its table (the hand-written alternative)."""
    from msdw.quality.config import render_sql_parameters, suites_of_gate
    from msdw.quality.gate import _warehouse_parameters

    out = {}
    for spec in suites_of_gate("warehouse"):
        t = sql.Identifier(spec.schema, spec.table)
        parts: list[sql.Composable] = [sql.SQL("count(*)")]
        for e in render_sql_parameters(spec, _warehouse_parameters()):
            kw = e["kwargs"]
            col = sql.Identifier(kw["column"]) if "column" in kw else None
            if e["type"] == "expect_column_values_to_not_be_null":
                parts.append(sql.SQL("count(*) filter (where {} is null)").format(col))
            elif e["type"] == "expect_column_values_to_be_unique":
                parts.append(sql.SQL("count({c}) - count(distinct {c})").format(c=col))
            elif e["type"] == "expect_column_values_to_be_in_set":
                parts.append(sql.SQL("count(*) filter (where {} not in ({}))").format(
                    col, sql.SQL(", ").join(sql.Literal(v) for v in kw["value_set"])))
            elif e["type"] == "unexpected_rows_expectation":
                q = kw["unexpected_rows_query"].format(batch=t.as_string(None))
                parts.append(sql.SQL("(select count(*) from ({}) as u)").format(sql.SQL(q)))
        out[spec.relation] = sql.SQL("select {} from {}").format(sql.SQL(", ").join(parts), t)
    return out


def child(mode: str, dsn: str) -> None:
    """Run one measurement in this (fresh) process and print JSON."""
    os.environ["MSDW_WAREHOUSE_DSN"] = dsn
    t0 = time.perf_counter()
    if mode == "gx":
        import great_expectations  # noqa: F401 - import cost measured apart

        t_import = time.perf_counter() - t0
        from msdw.quality import GateFailed, run_gate

        t1 = time.perf_counter()
        try:
            res = run_gate("warehouse", run_id="bench", data_docs=False)
        except GateFailed as exc:  # the verdict does not matter here, the cost does
            res = exc.result
        seconds = time.perf_counter() - t1
        n = res.evaluated
    else:
        t_import = 0.0
        queries = plain_sql_queries()
        t1 = time.perf_counter()
        with psycopg.connect(dsn) as conn:
            conn.execute("set role msdw_transformer")
            n = 0
            for q in queries.values():
                n += len(conn.execute(q).fetchone()) - 1
        seconds = time.perf_counter() - t1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": seconds, "import_seconds": t_import, "checks": n, "peak_rss_mb": rss_mb}))


def measure(mode: str, dsn: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--dsn", dsn], capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"bench child {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--doublings", default="8,12", help="fact tables doubled this many times at each scale")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child")
    ap.add_argument("--dsn")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.dsn)
        return
    admin = os.environ.get("MSDW_BENCH_ADMIN_DSN") or os.environ.get("MSDW_TEST_ADMIN_DSN")
    if not admin:
        sys.exit("set MSDW_TEST_ADMIN_DSN (or MSDW_BENCH_ADMIN_DSN) to a PostgreSQL admin DSN")
    os.environ.setdefault("MSDW_PII_HMAC_KEY", "bench-key-not-a-secret")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MSDW_HOME"] = tmp
        dsn = build(admin, Path(tmp))
        done = 0
        for d in sorted(int(x) for x in a.doublings.split(",")):
            counts = double(dsn, d - done)
            done = d
            rows = sum(counts.values())
            runs = {m: [measure(m, dsn) for _ in range(a.repeat)] for m in ("sql", "gx")}
            best = {m: min(r, key=lambda x: x["seconds"]) for m, r in runs.items()}
            results.append({
                "doublings": d, "fact_rows": rows, "largest_table_rows": max(counts.values()),
                "plain_sql_s": round(best["sql"]["seconds"], 3), "gate_s": round(best["gx"]["seconds"], 3),
                "ratio": round(best["gx"]["seconds"] / best["sql"]["seconds"], 2),
                "gx_import_s": round(min(r["import_seconds"] for r in runs["gx"]), 2),
                "checks": best["gx"]["checks"],
                "plain_sql_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["sql"]), 1),
                "gate_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["gx"]), 1),
            })
            print(json.dumps(results[-1]), flush=True)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))
    (HERE / "results").mkdir(exist_ok=True)
    doc = {"bench": "gate", "machine": platform.platform(), "cpus": os.cpu_count(), "results": results}
    (HERE / "results" / "gate.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{'fact rows':>12} {'plain SQL s':>12} {'gate s':>8} {'ratio':>6} {'SQL RSS MB':>11} {'gate RSS MB':>12}")
    for r in results:
        print(f"{r['fact_rows']:>12,} {r['plain_sql_s']:>12} {r['gate_s']:>8} {r['ratio']:>6} "
              f"{r['plain_sql_peak_rss_mb']:>11} {r['gate_peak_rss_mb']:>12}")


if __name__ == "__main__":
    main()
