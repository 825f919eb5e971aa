"""DAG integrity: every DAG file imports, no cycles, and operational defaults are set."""

from __future__ import annotations

import os
import time

import pytest

from msdw.contracts import SOURCES, source_feeds

EXPECTED = {f"ingest_{s}" for s in SOURCES} | {"transform_warehouse", "refresh_monthly_marts"}


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("afhome")
    mp.setenv("MSDW_HOME", str(home))
    # parsing needs no metadata DB: point Airflow at a throw-away SQLite file
    mp.setenv("MSDW_WAREHOUSE_DSN", "postgresql://unused@127.0.0.1:1/unused")
    mp.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'af.db'}")
    from msdw.orchestration import airflow_env

    for k, v in airflow_env.airflow_environ().items():
        mp.setenv(k, v)
    from airflow.dag_processing.dagbag import DagBag

    t0 = time.perf_counter()
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    bag.parse_seconds = time.perf_counter() - t0
    yield bag
    mp.undo()


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dags(dagbag):
    assert set(dagbag.dags) == EXPECTED


def test_parse_is_fast(dagbag):
    # parse time is paid on every scheduler loop; heavy imports belong in tasks
    assert dagbag.parse_seconds < 2.0, dagbag.parse_seconds


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_operational_defaults(dagbag, dag_id):
    dag = dagbag.dags.get(dag_id)
    assert "msdw" in dag.tags
    for t in dag.tasks:
        assert t.owner == "msdw-data-engineering", t.task_id
        if t.task_id != "wait_for_manifest":
            assert t.retries >= 1, t.task_id
            assert t.retry_exponential_backoff, t.task_id
        assert t.execution_timeout is not None, t.task_id
        assert t.on_failure_callback, t.task_id


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_no_cycles(dagbag, dag_id):
    dag = dagbag.dags.get(dag_id)
    order = dag.topological_sort()
    assert len(order) == len(dag.tasks)


@pytest.mark.parametrize("source", SOURCES)
def test_ingest_dag_follows_contracts(dagbag, source):
    dag = dagbag.dags.get(f"ingest_{source}")
    ids = set(dag.task_ids)
    assert {"wait_for_manifest", "verify_delivery"} <= ids
    sensor = dag.get_task("wait_for_manifest")
    assert sensor.mode == "reschedule" and sensor.timeout > 0
    gate = dag.get_task("gate_raw")  # one gate task per source: every feed's suite, one GX import
    assert [a.uri for a in gate.outlets] == [f"msdw://raw/{f.name}" for f in source_feeds(source)]
    assert gate.upstream_task_ids == {"wait_for_manifest"} | {f"load_{f.name}" for f in source_feeds(source)}
    for f in source_feeds(source):
        assert f"load_{f.name}" in ids
        load = dag.get_task(f"load_{f.name}")
        assert "verify_delivery" in load.upstream_task_ids
        for up in f.load_after:
            assert f"load_{up}" in load.upstream_task_ids


def test_marts_pipeline_order(dagbag):
    dag = dagbag.dags.get("refresh_monthly_marts")
    assert dag.get_task("publish_marts").upstream_task_ids == {"gate_marts"}
    assert dag.get_task("gate_marts").upstream_task_ids == {"dbt_build_marts"}



def test_late_publication_alerts(dagbag):
    dag = dagbag.dags.get("refresh_monthly_marts")
    assert dag.dagrun_timeout is not None
    assert dag.on_failure_callback
