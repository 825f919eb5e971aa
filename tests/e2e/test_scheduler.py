"""The scheduler path: Airflow's own scheduler, dag-processor, triggerer and api-server run the DAGs.

The landing zone of the shared e2e dataset (tests/e2e/conftest.py: two fixed
business days, so neither the data nor the verdict depend on the day the suite
runs); the ingest DAGs' start_date/end_date (MSDW_START_DATE/MSDW_END_DATE)
bound them, so the scheduler creates the catch-up runs by itself (no manual
trigger), the transform DAG runs on the raw assets, the marts DAG on the
warehouse asset (its month-close cron also fires at unpause: it is skipped
while no warehouse has passed its gate). The marts must equal those of the
dag.test path (``msdw run``) over the same landing zone.

LocalExecutor by default; CeleryExecutor with a Celery worker when
MSDW_CELERY_BROKER_URL is set (e.g. redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest
from e2e_data import END, MARTS_CHECKSUM, START

pytestmark = [pytest.mark.slow]

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


def _marts_after_last_transform(meta_dsn: str) -> bool:
    """The newest successful marts run started after the newest warehouse gate (which emits the asset) ended."""
    with psycopg.connect(meta_dsn) as c:
        t_end, m_start = c.execute("""
            select (select max(end_date) from task_instance
                     where dag_id = 'transform_warehouse' and task_id = 'gate_warehouse' and state = 'success'),
                   (select max(start_date) from dag_run where dag_id = 'refresh_monthly_marts' and state = 'success'
                      and exists (select 1 from task_instance ti where ti.dag_id = dag_run.dag_id
                                  and ti.run_id = dag_run.run_id and ti.task_id = 'publish_marts'
                                  and ti.state = 'success'))""").fetchone()
    return t_end is not None and m_start is not None and m_start >= t_end


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
    from airflow import settings as airflow_settings

    from msdw.warehouse import stop_embedded

    airflow_settings.dispose_orm()  # the dag.test path's pooled metadata connections, before their server stops
    stop_embedded(h / "pgdata")  # nothing of the test keeps running after it
    mp.undo()


def test_scheduler_runs_the_pipeline(home, e2e_pipeline, monkeypatch):
    from msdw import warehouse
    from msdw.orchestration import services

    # the reference: the dag.test path (msdw run) over the same landing zone
    landing, reference = e2e_pipeline["landing"], e2e_pipeline["marts_checksum"]
    dsn = warehouse.dsn()  # the embedded warehouse of this test's MSDW_HOME
    _wipe_warehouse(dsn)
    monkeypatch.setenv("MSDW_START_DATE", START.isoformat())
    monkeypatch.setenv("MSDW_END_DATE", END.isoformat())
    monkeypatch.setenv("MSDW_LANDING", str(landing))
    # every manifest is there: the sensor succeeds at its first poke (a short reschedule interval
    # would run into Airflow 3.3's reschedule race, apache/airflow#71172; see docs/runbook.md)
    monkeypatch.setenv("MSDW_MANIFEST_POKE_SECONDS", "60")
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
            time.sleep(5)
            states = _airflow_states(meta)
            failed = {k: v for k, v in states.items() if k[1] == "failed"}
            assert not failed, f"DAG runs failed: {failed} (logs in {home}/airflow/logs)"
            ingest_ok = all(states.get((f"ingest_{s}", "success"), 0) == 2
                            for s in ("registration", "sampling", "equipment", "complaints"))
            busy = any(s in ("running", "queued") for (_, s) in states)
            done = ingest_ok and not busy and _marts_after_last_transform(meta)
        assert done, f"pipeline did not finish in time: {_airflow_states(meta)}"
        states = _airflow_states(meta)
        assert all(svc.alive().values()), f"a component died during the run: {svc.alive()}"
    wall = time.perf_counter() - t0
    print(f"scheduler path wall time: {wall:.0f}s; runs: {states}")

    with psycopg.connect(dsn) as c:
        assert c.execute("select max(as_of_date) from marts.indicator_monthly").fetchone()[0] == END
        assert c.execute(MARTS_CHECKSUM).fetchone()[0] == reference
        # one scheduled run per business day and feed, nothing else loaded
        days = c.execute("select count(distinct business_date) from audit.load_files where airflow_run_id like 'scheduled__%%'"
                         ).fetchone()[0]
    assert days == 2
