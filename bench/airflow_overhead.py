"""Orchestration overhead: DAG parse time, per-task overhead, one dbt invocation per layer vs cosmos.

    .venv/bin/python bench/airflow_overhead.py [--tasks 10]

Each measurement in a fresh process (its own imports, its own peak RSS):

* ``dagbag``: ``import airflow`` and ``DagBag(dags/)`` — what the dag-processor
  pays per parse of the platform's DAG file (6 DAGs from one factory);
* ``tasks``: a DAG of 1 and of N trivial ``@task``s run with ``dag.test()``
  (the path ``msdw run`` uses); per-task overhead = (t_N − t_1)/(N − 1),
  compared with calling the same function directly;
* ``dbt``: ``dbt parse`` (partial parsing warm) and ``dbt ls`` — the fixed cost of
  one dbt invocation, and the manifest cosmos needs;
* ``cosmos``: a DAG file with an astronomer-cosmos ``DbtTaskGroup`` over the same
  project (``LoadMode.DBT_MANIFEST``, tests after each model) parsed by a
  DagBag: parse time and task count. Its run-time overhead is estimated as
  (one dbt invocation) × (dbt tasks), against the platform's one invocation per
  layer (seed, staging, warehouse, marts = 4). astronomer-cosmos is a benchmark-only
  package (requirements-dev.in; the production image does not carry it): without it
  these steps are skipped and the result says so.

Writes ``bench/results/airflow_overhead.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402 - script directory on the path first
    REPO,
    SCRATCH,
    admin_dsn,
    bench_env,
    drop_db,
    emit,
    fresh_db,
    load1,
    machine,
    python_step,
    write_result,
)

DB = "msdw_bench_airflow"
DBT_INVOCATIONS_PER_DAY = 4  # dbt seed, build staging, build intermediate+warehouse, build marts


def child_dagbag(folder: str) -> None:
    from msdw.orchestration import airflow_env

    airflow_env.apply(quiet=True)  # AIRFLOW__* (no examples, this run's home) before airflow is imported
    t0 = time.perf_counter()
    import airflow  # noqa: F401

    t_import = time.perf_counter() - t0
    from airflow.dag_processing.dagbag import DagBag

    t0 = time.perf_counter()
    bag = DagBag(dag_folder=folder)
    seconds = time.perf_counter() - t0
    emit({"seconds": seconds, "import_airflow_s": t_import, "dags": len(bag.dags),
          "tasks": sum(len(d.tasks) for d in bag.dags.values()), "import_errors": {k: v[:500] for k, v in bag.import_errors.items()}})


def _work() -> int:
    return sum(range(1000))


TRIVIAL_DAG = '''
"""Benchmark only: chains of trivial tasks (per-task overhead of dag.test)."""
from datetime import datetime

from airflow.sdk import DAG, task


def work() -> int:
    return sum(range(1000))


for k in {sizes!r}:
    with DAG(dag_id=f"bench_trivial_{{k}}", schedule=None, start_date=datetime(2025, 1, 1), catchup=False) as dag:
        prev = None
        for i in range(k):
            t = task(task_id=f"t{{i}}")(work)()
            if prev is not None:
                prev >> t
            prev = t
    globals()[dag.dag_id] = dag
'''


def child_tasks(n: str, folder: str) -> None:
    """dag.test() of a 1-task and an n-task DAG of trivial tasks; the difference is per-task overhead.

    dag.test() syncs the DAG's bundle (the dags folder) to the metadata DB, so the
    DAGs live in a file of their own folder, as real DAGs do."""
    from msdw.orchestration import airflow_env

    airflow_env.prepare(quiet=True)
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "bench_trivial.py").write_text(TRIVIAL_DAG.format(sizes=(1, int(n))), encoding="utf-8")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = folder
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder)
    out = {}
    for k in (1, int(n)):
        dag = bag.dags[f"bench_trivial_{k}"]
        dag.test()  # warm-up: serialisation, first DagRun rows
        t0 = time.perf_counter()
        dr = dag.test()
        out[k] = {"seconds": time.perf_counter() - t0, "state": str(dr.state)}
    t0 = time.perf_counter()
    for _ in range(1000):
        _work()
    direct = (time.perf_counter() - t0) / 1000
    k = int(n)
    emit({"dag_test": out, "per_task_s": (out[k]["seconds"] - out[1]["seconds"]) / (k - 1), "direct_call_s": direct})


def child_cosmos(dag_file: str) -> None:
    """DagBag of a file holding a cosmos DbtTaskGroup; import of cosmos measured apart."""
    from msdw.orchestration import airflow_env

    airflow_env.apply(quiet=True)
    t0 = time.perf_counter()
    import airflow  # noqa: F401
    import cosmos  # noqa: F401

    t_import = time.perf_counter() - t0
    from airflow.dag_processing.dagbag import DagBag

    t0 = time.perf_counter()
    bag = DagBag(dag_folder=dag_file)
    seconds = time.perf_counter() - t0
    tasks = [t for d in bag.dags.values() for t in d.tasks]
    kinds: dict[str, int] = {}
    for t in tasks:
        kinds[type(t).__name__] = kinds.get(type(t).__name__, 0) + 1
    emit({"seconds": seconds, "import_s": t_import, "tasks": len(tasks), "task_types": kinds,
          "import_errors": {k: v[:800] for k, v in bag.import_errors.items()}})


def child_dbt(*args: str) -> None:
    from msdw.dbt_runner import run_dbt

    res = run_dbt(list(args))
    emit({"seconds": res.seconds})


COSMOS_DAG = '''
"""Benchmark only: the dbt project as astronomer-cosmos tasks (one task per model + its tests)."""
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG
from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig

PROJECT = Path({project!r})
with DAG(dag_id="bench_cosmos_dbt", schedule=None, start_date=datetime(2025, 1, 1), catchup=False):
    DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(manifest_path={manifest!r}, project_name="msdw"),
        profile_config=ProfileConfig(profile_name="msdw", target_name="warehouse",
                                     profiles_yml_filepath=PROJECT / "profiles.yml"),
        execution_config=ExecutionConfig(dbt_project_path=PROJECT),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST),
    )
'''


def run(n_tasks: int = 10) -> dict:
    admin = admin_dsn()
    dsn = fresh_db(admin, DB)
    home = SCRATCH / "airflow"
    if home.exists():
        shutil.rmtree(home)
    env = bench_env(dsn, home / "home", admin=admin)
    doc: dict = {"bench": "airflow_overhead", "machine": machine(), "steps": {}}
    steps = doc["steps"]

    def step(label: str, *args: str) -> dict:
        print(f"  [{time.strftime('%H:%M:%S')}] {label} (load {load1()})", flush=True)
        m = python_step("airflow_overhead.py", *args, env=env, check=False)
        r = m.get("result") or {}
        print(f"    {m['seconds']:.1f}s wall, peak RSS {m['peak_process_rss_mb']:.0f} MB "
              + (json.dumps(r)[:300] if r else m["stderr_tail"][-600:]), flush=True)
        return m

    print("== airflow overhead", flush=True)
    try:
        steps["dagbag"] = step("DagBag(dags/)", "--child", "dagbag", str(REPO / "dags"))
        steps["dagbag_2"] = step("DagBag(dags/) again", "--child", "dagbag", str(REPO / "dags"))
        steps["tasks"] = step(f"dag.test of 1 and {n_tasks} trivial tasks", "--child", "tasks", str(n_tasks),
                              str(home / "trivial_dags"))
        steps["dbt_parse_cold"] = step("dbt parse (cold)", "--child", "dbt", "parse")
        steps["dbt_parse_warm"] = step("dbt parse (warm)", "--child", "dbt", "parse")
        steps["dbt_ls_warm"] = step("dbt ls (warm)", "--child", "dbt", "ls", "--resource-type", "model")
        manifest = home / "home" / "dbt-target" / "manifest.json"
        m = json.loads(manifest.read_text(encoding="utf-8"))
        nodes = m["nodes"].values()
        doc["dbt_nodes"] = {kind: sum(1 for n in nodes if n["resource_type"] == kind)
                            for kind in ("model", "seed", "test", "unit_test", "snapshot")}
        doc["dbt_nodes"]["unit_test"] = len(m.get("unit_tests", {}))
        if importlib.util.find_spec("cosmos") is None:
            doc["cosmos_skipped"] = "astronomer-cosmos is not installed (requirements-dev.lock)"
            print(f"  cosmos steps skipped: {doc['cosmos_skipped']}", flush=True)
            return doc
        dag_dir = home / "cosmos_dags"
        dag_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(manifest, dag_dir / "manifest.json")
        (dag_dir / "bench_cosmos_dag.py").write_text(textwrap.dedent(COSMOS_DAG.format(
            project=str(REPO / "dbt_project"), manifest=str(dag_dir / "manifest.json"))), encoding="utf-8")
        steps["cosmos_parse"] = step("cosmos DbtTaskGroup (DBT_MANIFEST) parse", "--child", "cosmos",
                                     str(dag_dir / "bench_cosmos_dag.py"))
        steps["cosmos_parse_2"] = step("cosmos parse again", "--child", "cosmos", str(dag_dir / "bench_cosmos_dag.py"))
        inv = (steps["dbt_ls_warm"].get("result") or {}).get("seconds")
        ct = (steps["cosmos_parse"].get("result") or {}).get("tasks")
        if inv and ct:
            doc["cosmos_estimate"] = {
                "dbt_invocation_s": round(inv, 2), "cosmos_dbt_tasks": ct,
                "cosmos_overhead_s": round(inv * ct, 1),
                "layer_invocations": DBT_INVOCATIONS_PER_DAY,
                "layer_overhead_s": round(inv * DBT_INVOCATIONS_PER_DAY, 1),
            }
    finally:
        doc["machine_after"] = machine()
        write_result("airflow_overhead", doc)
        drop_db(admin, DB)
        shutil.rmtree(home, ignore_errors=True)
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, *rest = a.child
        {"dagbag": child_dagbag, "tasks": child_tasks, "cosmos": child_cosmos, "dbt": child_dbt}[kind](*rest)
        return
    os.environ.setdefault("MSDW_PII_HMAC_KEY", "bench-key-not-a-secret")
    run(a.tasks)


if __name__ == "__main__":
    main()
