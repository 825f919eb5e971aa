"""Run the platform's DAGs for a range of business dates without a scheduler.

``msdw run`` and ``msdw demo`` use Airflow's ``dag.test()``: the same DAG
objects the scheduler runs, parsed from ``dags/`` by a DagBag, executed
in-process against the project's metadata database. Each ingest DAG gets one
run covering the range (params ``from_date``/``to_date``), then the
transform DAG and the marts DAG run once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

from msdw.contracts import SOURCES

log = logging.getLogger(__name__)


class PipelineRunFailed(RuntimeError):
    """A DAG run did not succeed; the message names the DAG and its failed tasks."""


@dataclass
class RunReport:
    runs: list[tuple[str, str, float]] = field(default_factory=list)  # dag_id, state, seconds

    def add(self, dag_id: str, state: str, seconds: float) -> None:
        self.runs.append((dag_id, state, seconds))


def _dagbag():
    import os

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise PipelineRunFailed(f"DAG import errors: {bag.import_errors}")
    return bag


def _failed_tasks(dr) -> list[str]:
    try:
        return [f"{ti.task_id}={ti.state}" for ti in dr.get_task_instances() if str(ti.state) != "success"]
    except Exception:  # noqa: BLE001 - best effort detail for the error message
        return []


def run_dag(bag, dag_id: str, logical: datetime, conf: dict, report: RunReport) -> None:
    dag = bag.dags.get(dag_id)
    if dag is None:
        raise PipelineRunFailed(f"no DAG {dag_id!r} in dags/")
    t0 = time.perf_counter()
    print(f"  ▶ {dag_id} {conf.get('from_date', '')}..{conf.get('to_date', '')}", flush=True)
    dr = dag.test(logical_date=logical, run_conf=conf)
    seconds = time.perf_counter() - t0
    state = str(getattr(dr, "state", "unknown"))
    report.add(dag_id, state, seconds)
    print(f"    {dag_id}: {state} in {seconds:.1f}s", flush=True)
    if state != "success":
        raise PipelineRunFailed(f"{dag_id} run ended {state}; tasks: {', '.join(_failed_tasks(dr)) or 'see log'}")


def run_range(landing: str, start: date, end: date, *, marts: bool = True, quiet: bool = True) -> RunReport:
    """Load every source for ``start..end``, rebuild the warehouse, then (optionally) publish the marts."""
    from msdw.orchestration import airflow_env

    airflow_env.prepare(quiet=quiet)
    bag = _dagbag()
    tz = ZoneInfo("Asia/Shanghai")
    logical = datetime.combine(end, dtime(0, 0), tz)
    conf = {"from_date": start.isoformat(), "to_date": end.isoformat(), "landing": landing}
    report = RunReport()
    for source in SOURCES:
        run_dag(bag, f"ingest_{source}", logical, conf, report)
    # A new logical date each invocation keeps run ids unique across re-runs.
    now = datetime.now(tz)
    run_dag(bag, "transform_warehouse", now, {}, report)
    if marts:
        run_dag(bag, "refresh_monthly_marts", now, {}, report)
    return report
