"""The benchmark suite (``make bench``): every stage, three scales, one table.

    .venv/bin/python bench/run_all.py [--only airflow,district,city,province,pipeline,ingest,gate]
                                      [--days 365] [--province-days 365] [--reuse-ingest]

Runs, each stage in its own processes and each scale in its own database on the
server named by ``MSDW_BENCH_ADMIN_DSN`` (else an embedded pgserver under
``/tmp/msdwb-pg``):

1. ``bench/ingest.py`` — registration_events: load_feed vs raw COPY vs pandas.to_sql;
   ``bench/indexes.py`` — btree vs BRIN on raw ``_business_date``;
2. ``bench/airflow_overhead.py`` — DAG parse, per-task overhead, cosmos comparison;
3. ``bench/dbt_build.py`` at district, city, province (a generated year each by
   default) — per-feed ingestion vs raw
   COPY, dbt full and one-day incremental build, dbt invocation overhead, gate vs
   plain SQL, marts refresh + publish, one business day end to end;
4. ``bench/pipeline.py`` — a whole generated district year through ``run_range``
   (``make demo``), then one more day;

then prints the table (absolute figures, the ratio to the reference measured in
the same run, load average, cores and memory) and the scaling curve (seconds per
million input rows per stage and scale), and writes
``bench/results/summary.json``. Designed to finish in < 60 min on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402 - script directory on the path first
    admin_dsn,
    load1,
    machine,
    python_step,
    read_result,
    write_result,
)

SCALES = ("district", "city", "province")
START = dt.date(2025, 3, 3)  # a Monday outside holidays; the opening register is delivered on day 1
GIB = 1024.0


def _r(step: dict | None, key: str = "seconds"):
    """A figure from a step's child result (else the step's wall time for 'seconds')."""
    if not step:
        return None
    res = step.get("result") or {}
    if isinstance(res, dict) and res.get(key) is not None:
        return res[key]
    return step.get(key) if key == "seconds" else None


def _f(x, spec: str = ".1f") -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and x != x:  # NaN: step failed
        return "failed"
    return format(x, spec)


def _ratio(a, b) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def scale_rows(doc: dict) -> list[tuple[str, str, str, str, str]]:
    """(what, value, reference, ratio, load) rows of one scale's result."""
    s = doc["steps"]
    out = []
    load = lambda st: _f((st or {}).get("load_avg_1m", [None])[0], ".1f")  # noqa: E731
    lh, rc = _r(s.get("load_history"), "feeds") or {}, _r(s.get("raw_copy_history"), "feeds") or {}
    tot_load = sum(v["seconds"] for v in lh.values()) or None
    tot_rows = sum(v["rows_in"] for v in lh.values()) or None
    tot_copy = sum(v["seconds"] for v in rc.values()) or None
    if tot_load and tot_rows:
        out.append(("ingest all feeds, rows/s (vs raw COPY)", f"{tot_rows / tot_load:,.0f}",
                    f"{tot_rows / tot_copy:,.0f}" if tot_copy else "–",
                    f"{tot_copy / tot_load:.0%}" if tot_copy else "–", load(s.get("load_history"))))
    for feed, v in sorted(lh.items(), key=lambda kv: -kv[1]["rows_in"]):
        c = rc.get(feed, {})
        if v["rows_in"] < 1000:
            continue
        out.append((f"  {feed} ({int(v['rows_in']):,} rows) rows/s", f"{v['rows_in'] / v['seconds']:,.0f}",
                    f"{c['rows'] / c['seconds']:,.0f}" if c.get("seconds") else "–",
                    f"{c['seconds'] / v['seconds']:.0%}" if c.get("seconds") else "–", ""))
    inv = _r(s.get("dbt_ls_warm"))
    out.append(("dbt invocation overhead (ls warm / parse warm), s", _f(inv), _f(_r(s.get("dbt_parse_warm"))), "",
                load(s.get("dbt_ls_warm"))))
    full, inc = _r(s.get("dbt_full")), _r(s.get("dbt_incremental"))
    out.append(("dbt build staging+warehouse full, s", _f(full), "", "", load(s.get("dbt_full"))))
    out.append(("dbt build incremental one day, s (vs full)", _f(inc), _f(full), _ratio(inc, full),
                load(s.get("dbt_incremental"))))
    gx, gsql = _r(s.get("gate_gx")), _r(s.get("gate_sql"))
    out.append(("warehouse gate GX, s (vs plain SQL)", _f(gx), _f(gsql), _ratio(gx, gsql), load(s.get("gate_gx"))))
    out.append(("  gate peak RSS MB (vs plain SQL)", _f((s.get("gate_gx") or {}).get("peak_process_rss_mb"), ".0f"),
                _f((s.get("gate_sql") or {}).get("peak_process_rss_mb"), ".0f"), "", ""))
    m = _r(s.get("marts"), "dbt_build_marts_s")
    if s.get("marts"):
        r = s["marts"].get("result") or {}
        out.append(("marts: dbt build + gate + publish, s", _f(_r(s["marts"])),
                    f"{_f(m)} + {_f(r.get('gate_marts_s'))} + {_f(r.get('publish_s'), '.2f')}",
                    "published" if r.get("published") else "NOT published", load(s.get("marts"))))
    if s.get("e2e_day"):
        r = s["e2e_day"].get("result") or {}
        dags = ", ".join(f"{d['dag_id'].replace('ingest_', '')} {d['seconds']:.0f}" for d in r.get("dags", []))
        out.append((f"one business day end to end ({doc.get('e2e_day_rows', 0):,} rows), s", _f(r.get("seconds")),
                    dags[:60], "ok" if r.get("ok") else "FAILED", load(s.get("e2e_day"))))
    peak = max(((st or {}).get("peak_process_rss_mb") or 0, name) for name, st in s.items())
    out.append(("largest process peak RSS, MB (step)", f"{peak[0]:.0f}", peak[1], f"{peak[0] / 2048:.0%} of 2 GiB", ""))
    return out


def curve(docs: dict[str, dict]) -> list[dict]:
    """Seconds per million input rows, per stage and scale (fixed overhead shows as a high district cost)."""
    rows = []
    for profile, doc in docs.items():
        s = doc["steps"]
        mrows = (doc.get("history_rows") or 0) / 1e6
        lh = _r(s.get("load_history"), "feeds") or {}
        day = (doc.get("incremental_day_rows") or 0) / 1e6
        entry = {"profile": profile, "history_rows": doc.get("history_rows"), "day_rows": doc.get("incremental_day_rows"),
                 "total_rows": doc.get("input_rows_total")}
        if mrows:
            entry["load_s_per_mrow"] = sum(v["seconds"] for v in lh.values()) / mrows if lh else None
            entry["generate_s_per_mrow"] = (_r(s.get("generate")) or 0) / (doc["input_rows_total"] / 1e6)
            for k in ("dbt_full", "gate_gx", "gate_sql", "marts"):
                v = _r(s.get(k))
                entry[f"{k}_s_per_mrow"] = v / mrows if isinstance(v, (int, float)) and v == v else None
        if day:
            for k in ("dbt_incremental",):
                v = _r(s.get(k))
                entry[f"{k}_s_per_mrow_of_history"] = v / mrows if v and mrows else None
        rows.append(entry)
    return rows


def print_table(summary: dict) -> None:
    m = summary["machine"]
    print(f"\nmachine: {m['cpus']} cores, {m['mem_gib']} GiB RAM, {m['platform']}; load average at start "
          f"{m['load_avg']}, at end {summary['machine_after']['load_avg']} (other jobs share the cores)")
    w = (58, 14, 26, 18, 6)
    head = ("what", "value", "reference (same run)", "ratio", "load")

    def line(cols):
        print("".join(str(c)[: wi - 1].ljust(wi) if i == 0 or i == 2 else str(c)[: wi - 1].rjust(wi - 1) + " "
                      for i, (c, wi) in enumerate(zip(cols, w, strict=True))))

    ing = summary.get("ingest")
    if ing:
        print(f"\n== ingestion, registration_events {ing['rows']:,} rows (bench/ingest.py)")
        line(head)
        line(("load_feed rows/s (vs raw COPY into UNLOGGED)", f"{ing['b_load_feed']['rows_per_s']:,}",
              f"{ing['a_raw_copy']['rows_per_s']:,}", f"{ing['ratio_b_over_a']:.1%}", ""))
        line(("load_feed rows/s (vs pandas read_csv+to_sql)", f"{ing['b_load_feed']['rows_per_s']:,}",
              f"{ing['c_pandas_to_sql']['rows_per_s']:,}", f"{ing['ratio_b_over_c']}×", ""))
        d = ing.get("d_copy_plus_insert_into_raw")
        if d:  # the write floor: COPY + one typed INSERT … SELECT into the logged, indexed raw table
            line(("write floor rows/s, no rules (vs raw COPY)", f"{d['rows_per_s']:,}",
                  f"{ing['a_raw_copy']['rows_per_s']:,}", f"{d['share_of_a']:.1%}", ""))
            line(("load_feed rows/s (vs the write floor)", f"{ing['b_load_feed']['rows_per_s']:,}",
                  f"{d['rows_per_s']:,}", f"{ing['b_load_feed']['rows_per_s'] / d['rows_per_s']:.1%}", ""))
        e = ing.get("e_copy_into_raw")
        if e:  # COPY of typed rows straight into the logged, indexed raw table: no loader can beat it
            line(("COPY straight into raw, no rules (vs raw COPY)", f"{e['rows_per_s']:,}",
                  f"{ing['a_raw_copy']['rows_per_s']:,}", f"{e['share_of_a']:.1%}", ""))
    ix = summary.get("indexes")
    if ix:
        print(f"\n== raw index on _business_date, {ix['rows']:,} rows, {ix['rows_per_day']:,}/day (bench/indexes.py)")
        line(head)
        line(("BRIN size MB (vs btree)", _f(ix["brin_mb"], ".3f"), _f(ix["btree_mb"]), _ratio(ix["brin_mb"], ix["btree_mb"]), ""))
        for k in ("select_day", "delete_day"):
            line((f"{k} with BRIN, ms (vs btree)", _f(ix["with_brin_ms"][k]), _f(ix["with_btree_ms"][k]),
                  _ratio(ix["with_brin_ms"][k], ix["with_btree_ms"][k]), _f(ix["machine"]["load_avg"][0])))
    af = summary.get("airflow_overhead")
    if af:
        s = af["steps"]
        print("\n== orchestration (bench/airflow_overhead.py)")
        line(head)
        line(("DagBag(dags/) parse, s (6 DAGs)", _f(_r(s.get("dagbag_2"))), f"import airflow {_f(_r(s.get('dagbag_2'), 'import_airflow_s'))}",
              "", _f(s.get("dagbag_2", {}).get("load_avg_1m", [None])[0])))
        t = _r(s.get("tasks"), "per_task_s")
        d = _r(s.get("tasks"), "direct_call_s")
        line(("per-task overhead dag.test, s (vs direct call)", _f(t, ".2f"), _f(d, ".2e"),
              f"{t / d:,.0f}×" if t and d else "–", _f(s.get("tasks", {}).get("load_avg_1m", [None])[0])))
        cp = s.get("cosmos_parse_2") or s.get("cosmos_parse")
        line(("cosmos DbtTaskGroup parse, s (vs DagBag dags/)", _f(_r(cp)), _f(_r(s.get("dagbag_2"))),
              _ratio(_r(cp), _r(s.get("dagbag_2"))), _f((cp or {}).get("load_avg_1m", [None])[0])))
        ce = af.get("cosmos_estimate")
        if ce:
            line((f"dbt overhead/day: cosmos {ce['cosmos_dbt_tasks']} tasks vs 4 layer calls, s",
                  _f(ce["cosmos_overhead_s"]), _f(ce["layer_overhead_s"]),
                  _ratio(ce["cosmos_overhead_s"], ce["layer_overhead_s"]), ""))
    for profile in SCALES:
        doc = summary["scales"].get(profile)
        if not doc:
            continue
        print(f"\n== {profile} ({doc['jurisdiction']}), {doc['period'][0]}..{doc['period'][1]}: "
              f"{doc.get('input_rows_total', 0):,} input rows (history {doc.get('history_rows', 0):,}, "
              f"incremental day {doc.get('incremental_day_rows', 0):,})")
        line(head)
        for row in scale_rows(doc):
            line(row)
    p = summary.get("pipeline")
    if p:
        s = p["steps"]
        print(f"\n== pipeline: generated district year {p['year']} through run_range (make demo), "
              f"{p.get('input_rows_total', 0):,} rows")
        line(head)
        y, d = s.get("year", {}), s.get("one_day", {})
        line(("year (1 Jan..30 Dec) end to end, s", _f(_r(y)), "generate " + _f(_r(s.get("generate"))),
              "ok" if (y.get("result") or {}).get("ok") else "FAILED", _f(y.get("load_avg_1m", [None])[0])))
        line(("one more business day end to end, s", _f(_r(d)), "", "ok" if (d.get("result") or {}).get("ok") else "FAILED",
              _f(d.get("load_avg_1m", [None])[0])))
        line(("peak RSS of the year run, MB", _f(y.get("peak_process_rss_mb"), ".0f"), y.get("peak_process", ""), "", ""))
    if summary.get("curve"):
        print("\n== scaling curve: seconds per million input rows (history rows for build/gate/marts)")
        keys = ["load_s_per_mrow", "dbt_full_s_per_mrow", "dbt_incremental_s_per_mrow_of_history", "gate_gx_s_per_mrow",
                "gate_sql_s_per_mrow", "marts_s_per_mrow"]
        print("scale".ljust(10) + "rows".rjust(12) + "".join(k.replace("_s_per_mrow", "").replace("_of_history", "").rjust(16)
                                                         for k in keys))
        for c in summary["curve"]:
            print(c["profile"].ljust(10) + f"{c.get('history_rows') or 0:>12,}" + "".join(_f(c.get(k)).rjust(16) for k in keys))


def _start(days: int) -> dt.date:
    """A year from 1 January (the annual-report season included); shorter periods from a Monday in March."""
    return dt.date(2025, 1, 1) if days >= 365 else START


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="ingest,indexes,airflow,district,city,province,pipeline")
    ap.add_argument("--days", type=int, default=365, help="days generated at district and city scale")
    ap.add_argument("--province-days", type=int, default=365)
    ap.add_argument("--ingest-rows", type=int, default=1_000_000)
    ap.add_argument("--reuse-ingest", action="store_true", help="use the existing results/ingest.json")
    ap.add_argument("--print-only", action="store_true",
                    help="no measurement: summarise the existing results/*.json into the table and summary.json")
    a = ap.parse_args()
    only = set(a.only.split(","))
    os.environ.setdefault("MSDW_PII_HMAC_KEY", "bench-key-not-a-secret")
    t0 = time.perf_counter()
    start_machine = machine()
    if not a.print_only:
        admin = admin_dsn()
        os.environ["MSDW_BENCH_ADMIN_DSN"] = admin  # bench/ingest.py and bench/gate.py read it
        from common import AIRFLOW_META_DB, drop_db

        drop_db(admin, AIRFLOW_META_DB)  # a fresh Airflow metadata DB per suite run
        print(f"bench on {admin.split('@')[-1]}; {start_machine['cpus']} cores, {start_machine['mem_gib']} GiB, "
              f"load {start_machine['load_avg']}", flush=True)
        if "ingest" in only and not a.reuse_ingest:
            print(f"== ingest.py --rows {a.ingest_rows} (load {load1()})", flush=True)
            python_step("ingest.py", "--rows", str(a.ingest_rows), "--rss-rows", f"{a.ingest_rows},5000000",
                        check=False)
        if "indexes" in only:
            print(f"== indexes.py (load {load1()})", flush=True)
            python_step("indexes.py", check=False)
        if "airflow" in only:
            from airflow_overhead import run as run_airflow

            run_airflow()
        from dbt_build import run_scale

        for profile in ("district", "city"):
            if profile in only:
                run_scale(profile, _start(a.days), a.days)
        if "province" in only:
            run_scale("province", _start(a.province_days), a.province_days)
        if "pipeline" in only:
            from pipeline import run_year

            run_year(2025)
    summary = {"bench": "summary", "machine": start_machine, "seconds": round(time.perf_counter() - t0),
               "ingest": read_result("ingest"), "indexes": read_result("indexes"), "airflow_overhead": read_result("airflow_overhead"),
               "scales": {p: d for p in SCALES if (d := read_result(f"scale_{p}"))},
               "pipeline": read_result("pipeline")}
    summary["curve"] = curve(summary["scales"])
    summary["machine_after"] = machine()
    write_result("summary", summary)
    print_table(summary)
    print(f"\nbench finished in {summary['seconds'] / 60:.1f} min; results in bench/results/*.json")


if __name__ == "__main__":
    main()
