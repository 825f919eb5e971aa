"""Benchmark of the loader (a script, not a test).

    .venv/bin/python bench/ingest.py [--rows 1000000] [--rss-rows 1000000,5000000] [--to-sql-rows N]

Needs a PostgreSQL admin DSN in MSDW_TEST_ADMIN_DSN (or MSDW_BENCH_ADMIN_DSN);
creates and drops its own database ``msdw_bench_ingest``. For one generated
``registration_events`` file it times, in one run:

  (a) the limit: COPY of the file's bytes into an UNLOGGED table of text columns;
  (b) the project's ``load_feed`` (decode, parse, normalise, pseudonymise, COPY
      into a temp table, validate in SQL, write raw + quarantine, audit), in a
      subprocess so its peak RSS (VmHWM; ru_maxrss where /proc is absent) is its own;
  (c) pandas.read_csv + DataFrame.to_sql through SQLAlchemy's default PostgreSQL
      driver (psycopg2), on the same file (or its first ``--to-sql-rows`` rows,
      extrapolated linearly);
  (d) a reference for the gap between (a) and (b): the rows of (a), already
      parsed by COPY, typed (casts only, no rule) and inserted with one
      ``INSERT … SELECT`` into a copy of ``raw.registration_events`` — logged,
      with its two indexes, in one transaction: the floor of a loader that
      checks in SQL after a COPY;
  (e) the same typed rows, as canonical CSV, COPYed straight into another copy
      of the raw table: the floor of any loader that lands rows in the durable,
      indexed raw table (it would have to check every row on the client, within
      the time left on two cores); and the same COPY into a copy without
      indexes (what the two btree indexes cost);
  (f) the client's floor: Python's csv module reading the records and writing
      them back as CSV (no normalisation, no rule, no database).

Prints a table and writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
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

HERE = Path(__file__).resolve().parent
FEED = "registration_events"
SOURCE = "registration"
BD = dt.date(2024, 5, 8)
DB = "msdw_bench_ingest"


def _with_db(dsn: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def make_delivery(landing: Path, rows: int) -> Path:
    """A day's delivery with one generated registration_events.csv of ``rows`` rows."""
    from msdw.generate.bulk import generate_feed_file

    day = landing / SOURCE / BD.isoformat()
    day.mkdir(parents=True, exist_ok=True)
    path = day / f"{FEED}.csv"
    n = generate_feed_file(FEED, path, rows, seed=7, business_date=BD)
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    manifest = {"source": SOURCE, "business_date": BD.isoformat(), "files": [{"name": path.name, "rows": n, "sha256": h.hexdigest()}]}
    (day / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def raw_copy(dsn: str, path: Path) -> float:
    """(a) COPY the bytes into an UNLOGGED table of text columns: the floor for any loader."""
    from msdw.contracts import feed

    cols = feed(FEED).fields
    with psycopg.connect(dsn) as conn:
        conn.execute("drop table if exists bench_raw_copy")
        conn.execute("create unlogged table bench_raw_copy (" + ", ".join(f'"{c}" text' for c in cols) + ")")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor().copy("copy bench_raw_copy from stdin (format csv, header true)") as cp, path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                cp.write(chunk)
        conn.commit()
        secs = time.perf_counter() - t0
        conn.execute("drop table bench_raw_copy")
        conn.commit()
    return secs


def raw_write_floor(dsn: str, path: Path) -> dict:
    """(d) COPY (as in a) + one typed INSERT … SELECT into a logged, indexed copy of the raw table."""
    from msdw.contracts import feed

    contract = feed(FEED)
    cols = contract.fields
    pg_type = {"date": "date", "timestamp": "timestamp", "numeric": "numeric", "int": "integer", "bool": "boolean"}
    casts = ", ".join(
        f'nullif(s."{c.field}", \'\')::{pg_type[c.type]}' if c.type in pg_type else f's."{c.field}"' for c in contract.columns
    )
    with psycopg.connect(dsn) as conn:
        conn.execute("drop table if exists bench_floor_in, bench_floor_raw")
        conn.execute("create unlogged table bench_floor_in (" + ", ".join(f'"{c}" text' for c in cols) + ")")
        conn.execute("create table bench_floor_raw (like raw.registration_events including defaults including indexes)")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor().copy("copy bench_floor_in from stdin (format csv, header true)") as cp, path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                cp.write(chunk)
        t1 = time.perf_counter()
        conn.execute(
            "insert into bench_floor_raw (_load_id, _business_date, _source_file, _line_no, "
            + ", ".join(f'"{c}"' for c in cols) + f") select 1, %s, 'x.csv', 0, {casts} from bench_floor_in s", (BD,)
        )
        conn.commit()
        t2 = time.perf_counter()
        # (e) the typed rows, as canonical CSV, COPYed straight into another copy of the raw table
        canonical = bytearray()
        with conn.cursor().copy("copy bench_floor_raw to stdout (format csv)") as cp:
            for data in cp:
                canonical += data
        view = memoryview(canonical)

        def timed_copy(table: str, including: str) -> float:
            conn.execute(f"create table {table} (like raw.registration_events {including})")
            conn.commit()
            t = time.perf_counter()
            with conn.cursor().copy(f"copy {table} from stdin (format csv)") as cp:
                for i in range(0, len(view), 1 << 20):
                    cp.write(view[i:i + (1 << 20)])
            conn.commit()
            return time.perf_counter() - t

        direct = timed_copy("bench_direct_raw", "including defaults including indexes")
        # what the two indexes cost: the same COPY into a copy without them
        direct_noidx = timed_copy("bench_direct_noidx", "including defaults")
        conn.execute("drop table bench_floor_in, bench_floor_raw, bench_direct_raw, bench_direct_noidx")
        conn.commit()
    return {"copy_s": round(t1 - t0, 2), "insert_select_s": round(t2 - t1, 2), "seconds": round(t2 - t0, 2),
            "direct_copy_s": round(direct, 2), "direct_copy_no_index_s": round(direct_noidx, 2)}


def python_csv_floor(path: Path) -> float:
    """(f) the client's floor: Python's csv module reading the records and writing them back as CSV."""
    import csv
    import io

    buf = io.StringIO()
    writerow = csv.writer(buf, lineterminator="\n").writerow
    t0 = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        records = csv.reader(fh)
        next(records)
        for rec in records:
            writerow(rec)
            if buf.tell() >= 1 << 20:
                buf.seek(0)
                buf.truncate()
    return time.perf_counter() - t0


def _peak_rss_kb() -> int:
    """Peak RSS of this process. On Linux VmHWM of /proc/self/status: ru_maxrss
    survives execve, so a child would report its parent's peak (the generator's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_load(dsn: str, landing: str) -> None:
    """(b) in a subprocess: one load_feed; prints seconds, result and peak RSS as JSON."""
    from msdw.ingest import load_feed

    t0 = time.perf_counter()
    res = load_feed(landing, SOURCE, FEED, BD, conninfo=dsn)
    secs = time.perf_counter() - t0
    rss_kb = _peak_rss_kb()
    print(json.dumps({"seconds": secs, "rss_mb": rss_kb / 1024, "status": res.status, "rows_in": res.rows_in,
                      "rows_loaded": res.rows_loaded, "rows_quarantined": res.rows_quarantined,
                      "rows_warned": res.rows_warned, "phases": res.phases, "warnings_by_rule": res.warnings_by_rule,
                      "quarantine_by_rule": res.quarantine_by_rule}))


def run_load(dsn: str, landing: Path) -> dict:
    env = dict(os.environ, MSDW_WAREHOUSE_DSN=dsn, MSDW_PII_HMAC_KEY=os.environ.get("MSDW_PII_HMAC_KEY", "bench-key"))
    out = subprocess.run([sys.executable, __file__, "--child-load", dsn, str(landing)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pandas_to_sql(dsn: str, path: Path, rows: int) -> float:
    """(c) the common anti-pattern: read_csv + to_sql (SQLAlchemy + psycopg2 default driver)."""
    import pandas as pd
    import sqlalchemy

    info = psycopg.conninfo.conninfo_to_dict(dsn)
    url = sqlalchemy.engine.URL.create(
        "postgresql", username=info.get("user"), password=info.get("password"), host=info.get("host"),
        port=int(info["port"]) if info.get("port") else None, database=info.get("dbname"),
    )
    engine = sqlalchemy.create_engine(url)
    t0 = time.perf_counter()
    df = pd.read_csv(path, nrows=rows, dtype=str)
    df.to_sql("bench_to_sql", engine, if_exists="replace", index=False)
    secs = time.perf_counter() - t0
    with engine.begin() as c:
        c.exec_driver_sql("drop table if exists bench_to_sql")
    engine.dispose()
    return secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rss-rows", default="1000000,5000000", help="row counts for which (b)'s peak RSS is measured")
    ap.add_argument("--to-sql-rows", type=int, default=None, help="(c) on the first N rows only (default: the whole file)")
    ap.add_argument("--child-load", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_load:
        child_load(*args.child_load)
        return

    admin = os.environ.get("MSDW_BENCH_ADMIN_DSN") or os.environ.get("MSDW_TEST_ADMIN_DSN")
    if not admin:
        sys.exit("set MSDW_TEST_ADMIN_DSN (or MSDW_BENCH_ADMIN_DSN) to a PostgreSQL admin DSN")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'drop database if exists "{DB}" with (force)')
        from msdw.warehouse import create_database

        create_database(c, DB)
    dsn = _with_db(admin, DB)
    os.environ["MSDW_WAREHOUSE_DSN"] = dsn
    os.environ.setdefault("MSDW_PII_HMAC_KEY", "bench-key")
    from msdw.bootstrap import bootstrap

    bootstrap(dsn)
    results: dict = {"feed": FEED, "rows": args.rows, "host": platform.node(), "cpus": os.cpu_count(),
                     "python": platform.python_version(), "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with psycopg.connect(dsn) as c:
        results["postgres"] = c.execute("show server_version").fetchone()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="msdw-bench-") as tmp:
            landing = Path(tmp) / "landing"
            t0 = time.perf_counter()
            path = make_delivery(landing, args.rows)
            results["file_mb"] = round(path.stat().st_size / 1e6, 1)
            results["generate_s"] = round(time.perf_counter() - t0, 2)

            a = raw_copy(dsn, path)
            d = raw_write_floor(dsn, path)
            b = run_load(dsn, landing)
            c_rows = min(args.to_sql_rows or args.rows, args.rows)
            c = pandas_to_sql(dsn, path, c_rows) * args.rows / c_rows
            results["a_raw_copy"] = {"seconds": round(a, 2), "rows_per_s": round(args.rows / a)}
            results["b_load_feed"] = {**b, "seconds": round(b["seconds"], 2), "rows_per_s": round(args.rows / b["seconds"])}
            results["c_pandas_to_sql"] = {"seconds_extrapolated": round(c, 1), "measured_rows": c_rows,
                                          "rows_per_s": round(args.rows / c)}
            results["d_copy_plus_insert_into_raw"] = {**d, "rows_per_s": round(args.rows / d["seconds"]),
                                                      "share_of_a": round(a / d["seconds"], 3)}
            results["e_copy_into_raw"] = {"seconds": d["direct_copy_s"], "rows_per_s": round(args.rows / d["direct_copy_s"]),
                                          "share_of_a": round(a / d["direct_copy_s"], 3),
                                          "no_index_seconds": d["direct_copy_no_index_s"]}
            f = python_csv_floor(path)
            results["f_python_csv_floor"] = {"seconds": round(f, 2), "us_per_row": round(f * 1e6 / args.rows, 2)}
            results["ratio_b_over_a"] = round(a / b["seconds"], 3)
            results["ratio_b_over_c"] = round(c / b["seconds"], 1)
            results["rss"] = {args.rows: round(b["rss_mb"], 1)}
            for n in [int(x) for x in args.rss_rows.split(",") if x]:
                if n == args.rows:
                    continue
                import shutil

                shutil.rmtree(landing)
                make_delivery(landing, n)
                r = run_load(dsn, landing)
                results["rss"][n] = round(r["rss_mb"], 1)
                results.setdefault("b_load_feed_other", {})[n] = {"seconds": round(r["seconds"], 2),
                                                                   "rows_per_s": round(n / r["seconds"])}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{DB}" with (force)')

    out = HERE / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    a, b, c = results["a_raw_copy"], results["b_load_feed"], results["c_pandas_to_sql"]
    print(f"\nregistration_events, {args.rows:,} rows, {results['file_mb']} MB, PostgreSQL {results['postgres']}")
    print(f"{'method':<52}{'seconds':>10}{'rows/s':>12}")
    print(f"{'(a) COPY into UNLOGGED text table (limit)':<52}{a['seconds']:>10.2f}{a['rows_per_s']:>12,}")
    print(f"{'(b) msdw load_feed (parse+validate+quarantine+audit)':<52}{b['seconds']:>10.2f}{b['rows_per_s']:>12,}")
    label = "(c) pandas read_csv + to_sql" + ("" if c["measured_rows"] == args.rows else " (extrapolated)")
    print(f"{label:<52}{c['seconds_extrapolated']:>10.1f}{c['rows_per_s']:>12,}")
    d = results["d_copy_plus_insert_into_raw"]
    print(f"{'(d) COPY + typed INSERT…SELECT into raw (no rules)':<52}{d['seconds']:>10.2f}{d['rows_per_s']:>12,}")
    e = results["e_copy_into_raw"]
    print(f"{'(e) COPY of typed rows straight into raw (no rules)':<52}{e['seconds']:>10.2f}{e['rows_per_s']:>12,}")
    print(f"{'    the same COPY into raw without its two indexes':<52}{e['no_index_seconds']:>10.2f}")
    fl = results["f_python_csv_floor"]
    print(f"{'(f) Python csv read + write of the records (client)':<52}{fl['seconds']:>10.2f}"
          f"{round(args.rows / fl['seconds']):>12,}")
    print(f"d/a: {d['share_of_a']:.0%} — the ceiling of a loader that checks in SQL after a COPY")
    print(f"max(d, e)/a: {max(d['share_of_a'], e['share_of_a']):.0%} — the ceiling of any loader writing the logged, "
          "indexed raw table")
    print(f"b/a (share of the limit): {results['ratio_b_over_a']:.0%}   b/c (speed-up over pandas): {results['ratio_b_over_c']}x")
    print("peak RSS of (b): " + ", ".join(f"{n:,} rows: {mb} MB" for n, mb in results["rss"].items()))
    print(f"(b) result: loaded {b['rows_loaded']:,}, quarantined {b['rows_quarantined']:,}, warned {b['rows_warned']:,}")
    print(f"written {out}")


if __name__ == "__main__":
    main()
