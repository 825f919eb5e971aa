"""End to end below Airflow: generate a district month, load it, ``dbt build`` all green.

Then one more day is loaded and built incrementally; the incremental facts must
equal a full refresh. Build times are printed (``pytest -s``) for docs/warehouse.md.
"""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest

from msdw.contracts import SOURCES
from msdw.dbt_runner import run_dbt
from msdw.generate import generate
from msdw.ingest.loader import load_day

pytestmark = [pytest.mark.slow, pytest.mark.db]

START = dt.date(2025, 6, 1)
END = dt.date(2025, 6, 30)
NEXT = END + dt.timedelta(days=1)
INCREMENTAL_FACTS = ("fct_registration_event", "fct_annual_report", "fct_rapid_test", "fct_complaint",
                     "fct_complaint_status_history")


def _load(landing: str, dsn: str, first: dt.date, last: dt.date) -> None:
    d = first
    while d <= last:
        for source in SOURCES:
            load_day(landing, source, d, conninfo=dsn)
        d += dt.timedelta(days=1)


def _facts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {
            t: conn.execute(
                psycopg.sql.SQL("select count(*), md5(string_agg(r::text, '|' order by r::text)) from warehouse.{} as r")
                .format(psycopg.sql.Identifier(t))
            ).fetchone()
            for t in INCREMENTAL_FACTS
        }


def test_generated_month_builds_green(warehouse_env, tmp_path) -> None:
    landing = str(tmp_path / "landing")
    generate(tmp_path / "landing", START, NEXT, seed=5)
    _load(landing, warehouse_env, START, END)
    target = tmp_path / "target"

    t0 = time.perf_counter()
    run_dbt(["build"], conninfo=warehouse_env, target_path=target)  # raises with the failing nodes
    full = time.perf_counter() - t0

    _load(landing, warehouse_env, NEXT, NEXT)
    t0 = time.perf_counter()
    run_dbt(["build", "--exclude", "resource_type:seed"], conninfo=warehouse_env, target_path=target)
    incremental = time.perf_counter() - t0
    after_incremental = _facts(warehouse_env)

    run_dbt(["run", "--select", "warehouse", "--full-refresh"], conninfo=warehouse_env, target_path=target)
    assert _facts(warehouse_env) == after_incremental
    with psycopg.connect(warehouse_env) as conn:
        n_tickets = conn.execute("select count(*) from warehouse.fct_complaint").fetchone()[0]
        n_entities = conn.execute("select count(*) from warehouse.dim_market_entity where is_current").fetchone()[0]
    assert n_tickets > 0 and n_entities > 0
    print(f"\ndbt build month: {full:.1f}s; one-day incremental build: {incremental:.1f}s; "
          f"tickets {n_tickets}, entities {n_entities}")
