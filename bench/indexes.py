"""Raw-table index choice: btree vs BRIN on ``_business_date`` (a script, not a test).

    .venv/bin/python bench/indexes.py [--rows 5000000]

On a synthetic raw-like table (rows appended in business-date order, 20 000
rows per day, ~70 bytes of payload) in its own database ``msdw_bench_indexes``:
index size and build time, and the two day-scoped statements the platform
runs on raw — select one day (raw gate batch) and delete one day (re-delivery
replacement, rolled back) — with only the btree, then only the BRIN index.
Writes ``bench/results/indexes.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import admin_dsn, drop_db, emit, fresh_db, load1, machine, write_result  # noqa: E402

DB = "msdw_bench_indexes"
QUERIES = {
    "select_day": "select count(*), max(payload) from r where _business_date = date '2025-05-01'",
    "delete_day": "delete from r where _business_date = date '2025-05-01'",
}


def _probe(conn: psycopg.Connection) -> dict[str, float]:
    best = {}
    for key, q in QUERIES.items():
        times = []
        for _ in range(3):
            with conn.transaction() as tx:
                t0 = time.perf_counter()
                conn.execute(q)
                times.append(time.perf_counter() - t0)
                raise psycopg.Rollback(tx)
        best[key] = round(min(times) * 1000, 1)
    return best


def run(rows: int) -> dict:
    admin = admin_dsn()
    dsn = fresh_db(admin, DB)
    doc: dict = {"bench": "indexes", "rows": rows, "rows_per_day": 20_000, "machine": machine()}
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("set max_parallel_workers_per_gather = 0")
            c.execute("create table r as select i as id, date '2025-01-01' + (i / 20000) as _business_date, "
                      "md5(i::text) || md5((i + 1)::text) as payload from generate_series(0, %s - 1) i", (rows,))
            c.execute("vacuum analyze r")
            doc["table_mb"] = float(c.execute("select pg_relation_size('r') / 1048576.0").fetchone()[0])
            for kind in ("btree", "brin"):
                t0 = time.perf_counter()
                c.execute(f"create index r_{kind} on r using {kind} (_business_date)")
                doc[f"{kind}_create_s"] = round(time.perf_counter() - t0, 2)
                doc[f"{kind}_mb"] = round(float(c.execute(f"select pg_relation_size('r_{kind}') / 1048576.0").fetchone()[0]), 3)
            with c.transaction() as tx:
                c.execute("drop index r_brin")
                doc["with_btree_ms"] = _probe(c)
                raise psycopg.Rollback(tx)
            with c.transaction() as tx:
                c.execute("drop index r_btree")
                doc["with_brin_ms"] = _probe(c)
                raise psycopg.Rollback(tx)
    finally:
        doc["load_after"] = load1()
        drop_db(admin, DB)
    write_result("indexes", doc)
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    emit(run(ap.parse_args().rows))


if __name__ == "__main__":
    main()
