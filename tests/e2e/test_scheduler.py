"""The scheduler path: Airflow's own scheduler, dag-processor, triggerer and api-server run the DAGs.

Two generated business days just before today; the ingest DAGs' start_date
is set to the first of them, so the scheduler creates the catch-up runs by
itself (no manual trigger), the transform DAG runs on the raw assets, the
marts DAG on the warehouse asset. Then the marts must equal those of the
dag.test path (``msdw run``) over the same landing zone.

LocalExecutor by default; CeleryExecutor with a Celery worker when
MSDW_CELERY_BROKER_URL is set (e.g. redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

pytestmark = [pytest.mark.slow]

MARTS_CHECKSUM = (
    "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from ("
    " select indicator_code, period_month, region_code, breakdown_type, breakdown_value,"
    " value, numerator, denominator, ytd_value, ytd_numerator, ytd_denominator, as_of_date"
    " from marts.indicator_monthly) t"
)
DAGS = ["ingest_registration", "ingest_sampling", "ingest_equipment", "ingest_complaints",
        "transform_warehouse", "refresh_monthly_marts"]


def _wipe_warehouse(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("drop schema if exists raw, quarantine, staging, intermediate, warehouse, marts_candidate,"
                  " marts_store, marts, audit, seeds cascade")
    from msdw.bootstrap import bootstrap

    bootstrap(dsn)


def _airflow_states(meta_dsn: str) -> dict[tuple[str, str], int]:
    with psycopg.connect(meta_dsn) as c:
        return {(d, s): n for d, s, n in c.execute(
            "select dag_id, state, count(*) from dag_run group by 1, 2")}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    # short path: the embedded server's unix socket lives under it
    h = Path(f"/tmp/msdw-sched-{os.getpid()}")
    mp.setenv("MSDW_HOME", str(h))
    mp.delenv("MSDW_WAREHOUSE_DSN", raising=False)
    mp.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    mp.setenv("MSDW_PII_HMAC_KEY", "scheduler-test-key")
    yield h
    mp.undo()


def test_scheduler_runs_the_pipeline(home, monkeypatch):
    from msdw import warehouse
    from msdw.generate import generate
    from msdw.orchestration import services
    from msdw.orchestration.runner import run_range

    # business days are Asia/Shanghai days: the scheduler runs every day that has ended there
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    start, end = today - timedelta(days=2), today - timedelta(days=1)
    landing = home / "landing"
    generate(landing, start, end, profile="district", seed=11)
    dsn = warehouse.dsn()

    # 1. the dag.test path (msdw run) — the reference
    _wipe_warehouse(dsn)
    run_range(str(landing), start, end)
    with psycopg.connect(dsn) as c:
        reference = c.execute(MARTS_CHECKSUM).fetchone()[0]

    # 2. the scheduler path on a clean warehouse
    _wipe_warehouse(dsn)
    monkeypatch.setenv("MSDW_START_DATE", start.isoformat())
    monkeypatch.setenv("MSDW_LANDING", str(landing))
    monkeypatch.setenv("MSDW_MANIFEST_POKE_SECONDS", "5")
    t0 = time.perf_counter()
    with services.running() as svc:
        meta = svc.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2", "postgresql")
        # DAG runs of the previous path must not count
        with psycopg.connect(meta, autocommit=True) as c:
            c.execute("delete from dag_run")
        svc.airflow("dags", "reserialize")
        for dag_id in DAGS:
            svc.airflow("dags", "unpause", dag_id)
        deadline = time.time() + 900
        done = False
        while time.time() < deadline and not done:
            time.sleep(10)
            states = _airflow_states(meta)
            failed = {k: v for k, v in states.items() if k[1] == "failed"}
            assert not failed, f"DAG runs failed: {failed} (logs in {home}/airflow/logs)"
            ingest_ok = all(states.get((f"ingest_{s}", "success"), 0) >= 2
                            for s in ("registration", "sampling", "equipment", "complaints"))
            busy = any(s in ("running", "queued") for (_, s) in states)
            done = ingest_ok and states.get(("refresh_monthly_marts", "success"), 0) >= 1 and not busy
        assert done, f"pipeline did not finish in time: {_airflow_states(meta)}"
    wall = time.perf_counter() - t0
    print(f"scheduler path wall time: {wall:.0f}s")

    with psycopg.connect(dsn) as c:
        assert c.execute("select max(as_of_date) from marts.indicator_monthly").fetchone()[0] == end
        assert c.execute(MARTS_CHECKSUM).fetchone()[0] == reference
