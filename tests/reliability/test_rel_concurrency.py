"""Concurrent DAGs on the scheduler path: loads, the warehouse build and the marts build exclude each other.

On Airflow's scheduler the ingest DAGs, ``transform_warehouse`` and
``refresh_monthly_marts`` run at the same time. A warehouse build is many
statements (dims, then facts); a load committing between them would give a
fact whose device the dimension never saw. The build locks of
``msdw.warehouse.BUILD_LOCKS`` prevent that: these tests hold one and prove
the other side waits, then proceeds, and nothing is lost.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from rel_helpers import BD, csv_bytes, deliver, row, scalar

from msdw import warehouse
from msdw.ingest import load_day

pytestmark = [pytest.mark.db]


def _waiting_on_build_lock(dsn: str, lock: int) -> int:
    """Sessions waiting for the advisory lock ``lock`` of the msdw namespace."""
    return scalar(dsn, """select count(*) from pg_locks
                          where locktype = 'advisory' and not granted and classid = %s and objid = %s""",
                  (warehouse.LOCK_NAMESPACE, lock))


def _wait_until(predicate, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_load_waits_for_the_warehouse_build_then_lands(warehouse_env, tmp_path):
    landing = tmp_path / "landing"
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", [row("rapid_tests")])})
    outcome: dict = {}

    def load() -> None:
        try:
            outcome["results"] = load_day(str(landing), "sampling", BD)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc

    with warehouse.build_lock("warehouse"):
        t = threading.Thread(target=load)
        t.start()
        assert _wait_until(lambda: _waiting_on_build_lock(warehouse_env, warehouse.LOCK_RAW) == 1), \
            "the load did not wait for the warehouse build"
        assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 0
    t.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert [r.status for r in outcome["results"]] == ["loaded"]
    assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 1


def test_loads_do_not_wait_for_each_other_and_a_marts_build_waits_for_the_warehouse(warehouse_env):
    # two loads hold RAW shared at once: a second shared holder is granted at once
    with psycopg.connect(warehouse_env) as a, psycopg.connect(warehouse_env) as b:
        for c in (a, b):
            c.execute("select pg_advisory_xact_lock_shared(%s, %s)", (warehouse.LOCK_NAMESPACE, warehouse.LOCK_RAW))
        assert _waiting_on_build_lock(warehouse_env, warehouse.LOCK_RAW) == 0
    entered = threading.Event()

    def marts() -> None:
        with warehouse.build_lock("marts"):
            entered.set()

    with warehouse.build_lock("staging"):
        t = threading.Thread(target=marts)
        t.start()
        assert _wait_until(lambda: _waiting_on_build_lock(warehouse_env, warehouse.LOCK_WAREHOUSE) == 1)
        assert not entered.is_set()
    t.join(30)
    assert entered.is_set()

