"""What each check of a feed costs in the loader's stage 1 (a script, not a test).

    .venv/bin/python bench/ingest_checks.py [--feed registration_events] [--rows 200000]

Generates ``--rows`` rows of the feed, COPYs them into ``pg_temp._in`` as the
loader does (normalised, see msdw.ingest.loader), then times stage 1
(``Statement.typed_sql`` inserted into ``pg_temp._typed``): whole, without any
check, and without each check in turn (best of three each). Prints µs per row;
the differences say which rule to optimise first. Uses the bench server
(bench/common.py) and its own database ``msdw_bench_checks``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import psycopg
from common import admin_dsn, drop_db, fresh_db
from psycopg import sql

DB = "msdw_bench_checks"
BD = dt.date(2024, 5, 8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feed", default="registration_events")
    ap.add_argument("--rows", type=int, default=200_000)
    args = ap.parse_args()

    admin = admin_dsn()
    dsn = fresh_db(admin, DB)
    os.environ["MSDW_WAREHOUSE_DSN"] = dsn
    os.environ.setdefault("MSDW_PII_HMAC_KEY", "bench-key")
    from msdw.bootstrap import bootstrap
    from msdw.contracts import feed
    from msdw.generate.bulk import generate_feed_file
    from msdw.ingest import loader, reader, validate

    bootstrap(dsn)
    contract = feed(args.feed)
    try:
        with tempfile.TemporaryDirectory(prefix="msdw-bench-checks-") as tmp, psycopg.connect(dsn) as conn:
            path = Path(tmp) / f"{args.feed}.csv"
            n = generate_feed_file(args.feed, path, args.rows, seed=7, business_date=BD)
            cur = conn.cursor()
            cur.execute("set temp_buffers = '512MB'")
            cur.execute("set jit = off")
            with path.open("rb") as fh:
                f = reader.open_csv(fh, path.name, contract)
                stmt = validate.render(contract, dict(zip(contract.fields, f.header_map.present, strict=True)))
                params = dict(stmt.params, load_id=1, business_date=BD, source_file=path.name)
                if stmt.needs_ric_regions:
                    loader._load_ric_regions(cur)
                loader._create_input_table(cur, contract)
                loader._stream_records(cur, contract, f, None)  # no stage 1: _in keeps every record
                cur.execute(sql.SQL("create temp table _typed as {} with no data").format(sql.SQL(stmt.typed_sql)), params)
            cur.execute("analyze pg_temp._in")

            def best(query: str) -> float:
                times = []
                for _ in range(3):
                    cur.execute("truncate pg_temp._typed")
                    t0 = time.perf_counter()
                    cur.execute(sql.SQL("insert into pg_temp._typed {}").format(sql.SQL(query)), params)
                    times.append(time.perf_counter() - t0)
                return min(times) * 1e6 / n

            # each check is a "| case when … end" term of the "_r"/"_w" masks, possibly over several lines
            lines = stmt.typed_sql.split("\n")
            checks: list[range] = []
            for i, line in enumerate(lines):
                if line.strip().startswith("| case when"):
                    checks.append(range(i, i + 1))
                elif checks and checks[-1].stop == i and not line.strip().startswith(")"):
                    checks[-1] = range(checks[-1].start, i + 1)
            every = {i for r in checks for i in r}
            full = best(stmt.typed_sql)
            bare = best("\n".join(x for i, x in enumerate(lines) if i not in every))
            print(f"\n{args.feed}, {n:,} rows, stage 1 µs per row (best of 3)")
            print(f"{'whole stage 1':<60}{full:>8.2f}")
            print(f"{'without any check (parsing, typed values, writing _typed)':<60}{bare:>8.2f}")
            print(f"{'the checks':<60}{full - bare:>8.2f}")
            for r in checks:
                cost = full - best("\n".join(x for j, x in enumerate(lines) if j not in r))
                print(f"  {lines[r.start].strip()[12:80]:<58}{cost:>8.2f}")
    finally:
        drop_db(admin, DB)


if __name__ == "__main__":
    main()
