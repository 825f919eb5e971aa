"""One factory builds every DAG of the platform from the feed contracts.

* ``ingest_<source>`` (one per source, from ``msdw.contracts``): wait for the
  day's ``manifest.json`` → verify the delivery → ``load_<feed>`` →
  ``gate_raw`` (every feed of the source, one process: one Great Expectations
  import per source and day instead of one per feed) → Asset
  ``msdw://raw/<feed>`` for each feed.
* ``transform_warehouse``: runs when any raw asset is updated; dbt seeds,
  staging and warehouse layers, then ``gate_warehouse`` → Asset
  ``msdw://warehouse``.
* ``refresh_monthly_marts``: runs when the warehouse asset is updated and on
  the first day of every month (month close); builds the candidate marts,
  ``gate_marts``, publishes, writes the reports.

Parse-time cost is a few YAML files: nothing here touches the database, the
landing zone or dbt at import.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from airflow.sdk import (
    DAG,
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    Param,
    PokeReturnValue,
    get_current_context,
    task,
)

from msdw.contracts import SOURCES, source_feeds
from msdw.orchestration import tasks
from msdw.orchestration.airflow_env import WAREHOUSE_POOL
from msdw.orchestration.callbacks import on_failure, on_publication_late_or_failed, on_sla_miss_like

TZ = "Asia/Shanghai"
OWNER = "msdw-data-engineering"
_TZINFO = ZoneInfo(TZ)
# First business date the ingest DAGs catch up from (go-live), and optionally
# the last one they schedule (a decommissioned feed, a bounded backfill
# environment, the scheduler test). Airflow compares end_date with a run's
# data-interval start, i.e. the business date's midnight.
START_DATE = datetime.fromisoformat(os.environ.get("MSDW_START_DATE", "2024-01-01")).replace(tzinfo=_TZINFO)
END_DATE = (datetime.fromisoformat(os.environ["MSDW_END_DATE"]).replace(tzinfo=_TZINFO)
            if os.environ.get("MSDW_END_DATE") else None)
# How long a day's delivery may be late before the sensor fails loudly (hours).
MANIFEST_TIMEOUT_H = float(os.environ.get("MSDW_MANIFEST_TIMEOUT_HOURS", "12"))
MANIFEST_POKE_S = float(os.environ.get("MSDW_MANIFEST_POKE_SECONDS", "300"))
# A marts refresh must be published within this many hours of starting, else
# the run fails and the "late publication" alert fires. (Airflow 3.3's
# DeadlineAlert was tried: storing its row fails under dag.test(), which
# `msdw run` relies on; a late delivery is alerted by the manifest sensor.)
PUBLISH_DEADLINE_H = float(os.environ.get("MSDW_PUBLISH_DEADLINE_HOURS", "3"))

WAREHOUSE_ASSET = Asset("msdw://warehouse", group="msdw")
MARTS_ASSET = Asset("msdw://marts", group="msdw")


def raw_asset(feed: str) -> Asset:
    return Asset(f"msdw://raw/{feed}", group="msdw")


def default_args(retries: int = 2) -> dict:
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": on_failure,
    }


RANGE_PARAMS = {
    "from_date": Param(None, type=["null", "string"], format="date",
                       description="First business date (catch-up runs); default: the run's data interval"),
    "to_date": Param(None, type=["null", "string"], format="date", description="Last business date (inclusive)"),
    "landing": Param(None, type=["null", "string"], description="Landing zone path/URI; default MSDW_LANDING"),
}


def build_ingest_dag(source: str) -> DAG:
    feeds = source_feeds(source)
    dag_id = f"ingest_{source}"
    with DAG(
        dag_id=dag_id,
        description=f"Load the daily {source} extracts ({', '.join(f.name for f in feeds)}) into raw",
        # a data-interval timetable: the run for business date D covers [D, D+1)
        # and starts after D has ended (a trigger timetable would start at D 00:00,
        # before the day's extract can exist)
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TZ),
        start_date=START_DATE,
        end_date=END_DATE,
        catchup=True,
        max_active_runs=1,  # days load in order: a re-delivery never races an earlier day
        default_args=default_args(),
        params=RANGE_PARAMS,
        tags=["msdw", "ingest", source],
        doc_md=__doc__,
    ) as dag:

        @task.sensor(
            task_id="wait_for_manifest",
            poke_interval=MANIFEST_POKE_S,
            timeout=MANIFEST_TIMEOUT_H * 3600,
            mode="reschedule",
            # A sensor timeout (the delivery is late) fails at once and is never
            # retried. The retries absorb Airflow 3.3's reschedule race
            # (apache/airflow#71172): a stale executor "success" of the previous poke
            # can fail a re-queued sensor as "state changed externally".
            retries=3,
            retry_delay=timedelta(seconds=MANIFEST_POKE_S),
            retry_exponential_backoff=False,
            on_failure_callback=on_sla_miss_like,
        )
        def wait_for_manifest() -> PokeReturnValue:
            ctx = get_current_context()
            dates = tasks.business_dates(ctx["params"], ctx.get("data_interval_start"))
            missing = tasks.manifests_missing(source, dates, tasks.landing_of(ctx["params"]))
            return PokeReturnValue(is_done=not missing, xcom_value=[d.isoformat() for d in dates])

        @task(task_id="verify_delivery", pool=WAREHOUSE_POOL)
        def verify_delivery(dates: list[str]) -> dict:
            ctx = get_current_context()
            return tasks.verify(source, _dates(dates), tasks.landing_of(ctx["params"]), ctx["dag"].dag_id, ctx["run_id"])

        dates = wait_for_manifest()
        verified = verify_delivery(dates)
        loads = {}
        for f in feeds:

            @task(task_id=f"load_{f.name}", pool=WAREHOUSE_POOL)
            def load(dates: list[str], feed: str = f.name) -> dict:
                ctx = get_current_context()
                return tasks.load(source, feed, _dates(dates), tasks.landing_of(ctx["params"]),
                                  ctx["dag"].dag_id, ctx["run_id"])

            loads[f.name] = load(dates)
            verified >> loads[f.name]

        # One task validates every feed of the source: each feed's suite runs and is
        # recorded even when another fails; the task fails naming every failed feed.
        @task(task_id="gate_raw", pool=WAREHOUSE_POOL, outlets=[raw_asset(f.name) for f in feeds])
        def gate_raw(dates: list[str], loaded: dict) -> list:
            ctx = get_current_context()
            return tasks.gate_source(source, _dates(dates), loaded, tasks.run_label(ctx), ctx["run_id"])

        gate_raw(dates, dict(loads))  # XComArgs inside the dict: the gate waits for every load
        for f in feeds:  # declared order dependencies (e.g. registry before inspections)
            for upstream in f.load_after:
                loads[upstream] >> loads[f.name]
    return dag


def _dates(values: list[str]):
    from datetime import date

    return [date.fromisoformat(v) for v in values]


def build_transform_dag() -> DAG:
    all_raw = [raw_asset(f.name) for s in SOURCES for f in source_feeds(s)]
    with DAG(
        dag_id="transform_warehouse",
        description="dbt: staging → conformed dimensions and facts, then the warehouse quality gate",
        schedule=AssetAny(*all_raw),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["msdw", "dbt", "warehouse"],
        doc_md=__doc__,
    ) as dag:

        @task(task_id="dbt_seed", pool=WAREHOUSE_POOL)
        def dbt_seed():
            tasks.dbt(["seed"], tasks.run_label(get_current_context()), "seed")

        @task(task_id="dbt_build_staging", pool=WAREHOUSE_POOL)
        def dbt_build_staging():
            tasks.dbt(["build", "--select", "staging"], tasks.run_label(get_current_context()), "staging")

        @task(task_id="dbt_build_warehouse", pool=WAREHOUSE_POOL)
        def dbt_build_warehouse():
            tasks.dbt(["build", "--select", "intermediate", "warehouse"], tasks.run_label(get_current_context()),
                      "warehouse")

        @task(task_id="gate_warehouse", pool=WAREHOUSE_POOL, outlets=[WAREHOUSE_ASSET])
        def gate_warehouse():
            ctx = get_current_context()
            return tasks.gate("warehouse", tasks.run_label(ctx), ctx["run_id"])

        dbt_seed() >> dbt_build_staging() >> dbt_build_warehouse() >> gate_warehouse()
    return dag


def build_marts_dag() -> DAG:
    with DAG(
        dag_id="refresh_monthly_marts",
        description="Build the monthly indicator marts as candidates, gate them, publish for BI, write reports",
        # when the warehouse is updated (month-to-date figures refresh daily) and at
        # 06:00 on the 1st of each month (close of the month just ended)
        schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 6 1 * *", timezone=TZ),
                                     assets=WAREHOUSE_ASSET),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["msdw", "marts", "publish"],
        doc_md=__doc__,
        dagrun_timeout=timedelta(hours=PUBLISH_DEADLINE_H),
        on_failure_callback=on_publication_late_or_failed,
    ) as dag:

        @task(task_id="require_validated_warehouse")
        def require_validated_warehouse():
            return tasks.require_validated_warehouse()

        @task(task_id="dbt_build_marts", pool=WAREHOUSE_POOL)
        def dbt_build_marts():
            tasks.dbt(["build", "--select", "marts"], tasks.run_label(get_current_context()), "marts")

        @task(task_id="gate_marts", pool=WAREHOUSE_POOL)
        def gate_marts():
            ctx = get_current_context()
            return tasks.gate("marts", tasks.run_label(ctx), ctx["run_id"])

        @task(task_id="publish_marts", pool=WAREHOUSE_POOL, outlets=[MARTS_ASSET])
        def publish_marts():
            ctx = get_current_context()
            return tasks.publish(tasks.run_label(ctx), ctx["run_id"])

        @task(task_id="quality_report", pool=WAREHOUSE_POOL)
        def quality_report():
            return tasks.report(None)

        require_validated_warehouse() >> dbt_build_marts() >> gate_marts() >> publish_marts() >> quality_report()
    return dag


def build_all() -> list[DAG]:
    return [build_ingest_dag(s) for s in SOURCES] + [build_transform_dag(), build_marts_dag()]
