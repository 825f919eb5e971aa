"""End to end over one generated business day: the dag.test path, then the scheduler path.

1. The dag.test path (what `msdw run` and `msdw demo` do): every DAG of dags/
   runs in-process against a real PostgreSQL (the session fixture
   ``e2e_pipeline``, tests/e2e/conftest.py); the tests check what an auditor
   and a BI tool see afterwards, and that a re-run changes nothing.
2. The scheduler path: Airflow's own scheduler, dag-processor, triggerer and
   api-server run the same DAGs over a copy of the same landing zone.

   The landing zone of the shared e2e dataset (tests/e2e/conftest.py: one fixed
   business day, so neither the data nor the verdict depend on the day the suite
   runs); the ingest DAGs' start_date/end_date (MSDW_START_DATE/MSDW_END_DATE)
   bound them, so the scheduler creates the catch-up runs by itself (no manual
   trigger), the transform DAG runs on the raw assets, the marts DAG on the
   warehouse asset (its month-close cron also fires at unpause: it is skipped
   while no warehouse has passed its gate). The marts must equal those of the
   dag.test path (``msdw run``) over the same landing zone.

   LocalExecutor by default; CeleryExecutor with a Celery worker when
   MSDW_CELERY_BROKER_URL is set (e.g. redis://127.0.0.1:6379/0).

One module, so that test distribution by module (``make test``: pytest-xdist
``--dist loadscope``) runs both paths on one worker and the shared dag.test
run happens once.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from e2e_data import END, MARTS_CHECKSUM, START

from msdw.warehouse import create_database

pytestmark = [pytest.mark.slow]


# --- 1. the dag.test path -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline(e2e_pipeline, e2e_env):
    """The shared dag.test run; its environment stays set for the module (the re-run test runs again)."""
    mp = pytest.MonkeyPatch()
    for k, v in e2e_env.items():
        mp.setenv(k, v)
    yield e2e_pipeline
    mp.undo()


def test_every_dag_succeeded(pipeline):
    states = {dag_id: state for dag_id, state, _ in pipeline["report"].runs}
    assert states == {
        "ingest_registration": "success",
        "ingest_sampling": "success",
        "ingest_equipment": "success",
        "ingest_complaints": "success",
        "transform_warehouse": "success",
        "refresh_monthly_marts": "success",
    }


def test_nothing_lost(pipeline):
    """For every file: rows in = rows loaded + rows quarantined, and rows in = manifest rows."""
    landing: Path = pipeline["landing"]
    expected = {}
    for manifest in landing.glob("*/*/manifest.json"):
        m = json.loads(manifest.read_text(encoding="utf-8"))
        for f in m["files"]:
            expected[(m["source"], m["business_date"], f["name"])] = f["rows"]
    with psycopg.connect(pipeline["dsn"]) as c:
        rows = c.execute(
            "select source, business_date::text, file_name, rows_in, rows_loaded, rows_quarantined"
            " from audit.load_files where status in ('loaded', 'replaced')"
        ).fetchall()
    got = {(s, d, f): n for s, d, f, n, _, _ in rows}
    assert got == expected
    for *_, n_in, n_loaded, n_q in rows:
        assert n_in == n_loaded + n_q


def test_defects_were_quarantined(pipeline):
    sidecar = pipeline["landing"] / "_generator" / "defects.jsonl"
    refused = [json.loads(line) for line in sidecar.read_text().splitlines() if line.strip()]
    refused = [d for d in refused if d.get("expected", {}).get("level") == "R"]
    assert refused, "the generator injected no R-level defect"
    with psycopg.connect(pipeline["dsn"]) as c:
        n_q = c.execute("select coalesce(sum(rows_quarantined), 0) from audit.load_files").fetchone()[0]
    assert n_q >= len({(d["feed"], d["business_date"], d["line"]) for d in refused})


def test_marts_published_for_bi(pipeline):
    with psycopg.connect(pipeline["dsn"]) as c:
        c.execute("set role msdw_bi")
        n, as_of = c.execute(
            "select count(*), max(as_of_date) from marts.indicator_monthly"
        ).fetchone()
        assert n > 0
        assert as_of == END
        codes = {r[0] for r in c.execute("select distinct indicator_code from marts.indicator_monthly")}
        assert {"REG_NEW", "SMP_PASS_RATE", "EQ_INSPECTION_RATE", "CP_ONTIME_RATE"} <= codes
        c.rollback()
        c.execute("set role msdw_bi")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select * from raw.complaints limit 1")


def test_rerun_is_idempotent(pipeline):
    """Re-running the same days loads nothing new (same sha256 → noop) and the marts do not change."""
    from msdw.orchestration.runner import run_range

    def marts_checksum():
        with psycopg.connect(pipeline["dsn"]) as c:
            return c.execute(
                "select md5(string_agg(t::text, '|' order by t::text)) from ("
                " select indicator_code, period_month, region_code, breakdown_type, breakdown_value,"
                " value, numerator, denominator, ytd_value from marts.indicator_monthly) t"
            ).fetchone()[0]

    def load_counts():
        with psycopg.connect(pipeline["dsn"]) as c:
            return dict(c.execute("select status, count(*) from audit.load_files group by status").fetchall())

    before, counts_before = marts_checksum(), load_counts()
    run_range(str(pipeline["landing"]), START, END)
    counts_after = load_counts()
    assert counts_after.get("loaded") == counts_before.get("loaded")
    assert counts_after.get("replaced", 0) == counts_before.get("replaced", 0)
    files = counts_before.get("loaded", 0) + counts_before.get("replaced", 0)
    assert counts_after.get("noop", 0) - counts_before.get("noop", 0) == files
    assert marts_checksum() == before


# --- 2. the scheduler path ------------------------------------------------------------------------------------

DAGS = ["ingest_registration", "ingest_sampling", "ingest_equipment", "ingest_complaints",
        "transform_warehouse", "refresh_monthly_marts"]
DAGS_REGEX = "^(" + "|".join(DAGS) + ")$"


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


def _wait(meta: str, done, what: str, timeout: float = 900) -> dict:
    """Poll the metadata DB until ``done(states)``; fail at once on a failed run of a DAG not expected to fail."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(5)
        states = _airflow_states(meta)
        if done(states):
            return states
    raise AssertionError(f"{what}: not done in {timeout:.0f}s: {_airflow_states(meta)}")


def _runs(meta: str, dag_id: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(meta) as c:
        return c.execute("select run_id, run_type, state from dag_run where dag_id = %s order by logical_date, run_id",
                         (dag_id,)).fetchall()


def _timeline(meta: str) -> str:
    """Per DAG: runs, tasks, the tasks' summed duration and the span first start → last end (where time goes)."""
    with psycopg.connect(meta) as c:
        rows = c.execute("""
            select ti.dag_id, count(distinct ti.run_id), count(*), round(sum(ti.duration)::numeric, 1),
                   round(extract(epoch from max(ti.end_date) - min(ti.start_date))::numeric, 1)
            from task_instance ti group by 1 order by min(ti.start_date)""").fetchall()
    return "\n".join(f"  {d}: {r} runs, {n} tasks, {s}s in tasks, span {w}s" for d, r, n, s, w in rows)


def _busy(states: dict) -> bool:
    return any(s in ("running", "queued") for (_, s) in states)


@pytest.fixture(scope="module")
def scheduler(home, e2e_pipeline):
    """Airflow's components running on this machine over a copy of the e2e landing zone, the pipeline done."""
    import shutil

    from msdw import warehouse
    from msdw.orchestration import services

    landing = home / "landing"
    shutil.copytree(e2e_pipeline["landing"], landing)
    dsn = warehouse.dsn()  # the embedded warehouse of this module's MSDW_HOME
    _wipe_warehouse(dsn)
    mp = pytest.MonkeyPatch()
    mp.setenv("MSDW_START_DATE", START.isoformat())
    mp.setenv("MSDW_END_DATE", END.isoformat())
    mp.setenv("MSDW_LANDING", str(landing))
    # every manifest is there: the sensor succeeds at its first poke (a short reschedule interval
    # would run into Airflow 3.3's reschedule race, apache/airflow#71172; see docs/runbook.md)
    mp.setenv("MSDW_MANIFEST_POKE_SECONDS", "60")
    t0 = time.perf_counter()
    try:
        with services.running() as svc:
            meta = svc.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2", "postgresql")
            with psycopg.connect(meta, autocommit=True) as c:  # runs of the dag.test path must not count
                c.execute("delete from dag_run")
            svc.airflow("dags", "reserialize")
            # one CLI process for the six DAGs (each `airflow` invocation costs seconds of imports)
            out = svc.airflow("dags", "unpause", "--treat-dag-id-as-regex", "-y", DAGS_REGEX)
            assert out.returncode == 0, out.stderr[-2000:]

            def pipeline_done(states: dict) -> bool:
                failed = {k: v for k, v in states.items() if k[1] == "failed"}
                assert not failed, f"DAG runs failed: {failed} (logs in {home}/airflow/logs)"
                ingest_ok = all(states.get((f"ingest_{s}", "success"), 0) == 1
                                for s in ("registration", "sampling", "equipment", "complaints"))
                return ingest_ok and not _busy(states) and _marts_after_last_transform(meta)

            states = _wait(meta, pipeline_done, "scheduled pipeline")
            wall = time.perf_counter() - t0
            print(f"\nscheduler path wall time: {wall:.0f}s; runs: {states}\n{_timeline(meta)}")
            yield {"svc": svc, "meta": meta, "dsn": dsn, "landing": landing, "wall": wall}
    finally:
        mp.undo()


def test_scheduler_runs_the_pipeline(scheduler, e2e_pipeline):
    """The scheduled runs publish exactly the marts of the dag.test path (msdw run)."""
    assert all(scheduler["svc"].alive().values()), f"a component died during the run: {scheduler['svc'].alive()}"
    with psycopg.connect(scheduler["dsn"]) as c:
        assert c.execute("select max(as_of_date) from marts.indicator_monthly").fetchone()[0] == END
        assert c.execute(MARTS_CHECKSUM).fetchone()[0] == e2e_pipeline["marts_checksum"]
        # one scheduled run per business day and feed, nothing else loaded
        days = c.execute("select count(distinct business_date) from audit.load_files where airflow_run_id like 'scheduled__%%'"
                         ).fetchone()[0]
    assert days == 1


def _run_of_day(meta: str, dag_id: str, day) -> str:
    """The run_id of the scheduled run of business date ``day``.

    Its logical date is the start of its data interval, ``day`` 00:00 Asia/Shanghai (the run_id names
    the interval's end, when it ran); the CLI's ``-s/-e`` and backfill dates read a bare date in the
    default timezone (Asia/Shanghai), so the business date itself selects the run, as docs/runbook.md says.
    """
    with psycopg.connect(meta) as c:
        run_id, logical = c.execute(
            "select run_id, logical_date from dag_run where dag_id = %s and run_type = 'scheduled'"
            " and (data_interval_start at time zone 'Asia/Shanghai')::date = %s", (dag_id, day)).fetchone()
    assert (logical.astimezone(ZoneInfo("Asia/Shanghai")).date(), logical.astimezone(ZoneInfo("Asia/Shanghai")).hour) \
        == (day, 0)
    return run_id


def _complaints_file(landing: Path, day):
    import json

    d = landing / "complaints" / day.isoformat()
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    entry = next(f for f in manifest["files"] if f["name"].rsplit(".", 1)[0] == "complaints")
    return d, manifest, entry


def _break_transfer(landing: Path, day) -> None:
    """A re-delivery cut short: the file no longer matches its manifest (rows, sha256)."""
    d, _, entry = _complaints_file(landing, day)
    data = (d / entry["name"]).read_bytes()
    (d / entry["name"]).write_bytes(data[: len(data) // 2])


def _correct_delivery(landing: Path, day, original: bytes) -> str:
    """The corrected re-delivery: the day's tickets as a UTF-8 CSV with the first ticket's 处理结果 corrected."""
    import csv
    import hashlib
    import io
    import json

    from msdw.contracts import feed
    from msdw.ingest import reader

    d, manifest, entry = _complaints_file(landing, day)
    contract = feed("complaints")
    f = (reader.open_xlsx(original, entry["name"], contract) if entry["name"].endswith(".xlsx")
         else reader.open_csv(io.BytesIO(original), entry["name"], contract))
    rows = [["" if v is None else v for v in cells] for _, cells in f.records()]
    col = [c.field for c in contract.columns]
    rows[0][col.index("outcome")] = "调解成功已更正"
    (d / entry["name"]).unlink()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([[c.header for c in contract.columns], *rows])
    path = d / "complaints.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    entry.update(name=path.name, rows=len(rows), sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return rows[0][col.index("ticket_id")]


def _raw_day(dsn: str, day) -> tuple:
    with psycopg.connect(dsn) as c:
        return c.execute("select count(*), md5(string_agg(ticket_id || '|' || coalesce(outcome, '') || '|' || status,"
                         " ',' order by ticket_id)) from raw.complaints where _business_date = %s", (day,)).fetchone()


def test_corrected_redelivery_rerun_and_clear_of_the_failed_task(scheduler):
    """Re-run one day after a re-delivery: first a broken transfer (the re-run fails, the day keeps its load),
    then the corrected files and `airflow tasks clear --only-failed`: the day is replaced exactly as a clean
    load of the corrected delivery would be."""
    import uuid

    from msdw.bootstrap import bootstrap
    from msdw.ingest import load_day

    svc, meta, landing, dsn = scheduler["svc"], scheduler["meta"], scheduler["landing"], scheduler["dsn"]
    # proven above; here the ingest side
    svc.airflow("dags", "pause", "--treat-dag-id-as-regex", "-y", "^(transform_warehouse|refresh_monthly_marts)$")
    day = START
    run_id = _run_of_day(meta, "ingest_complaints", day)
    d, _, entry = _complaints_file(landing, day)
    original = (d / entry["name"]).read_bytes()
    loaded_before = _raw_day(dsn, day)

    _break_transfer(landing, day)
    svc.airflow("tasks", "clear", "ingest_complaints", "-s", day.isoformat(), "-e", day.isoformat(), "-y")
    _wait(meta, lambda st: ("ingest_complaints", "failed") in st and not _busy(st), "the broken re-delivery fails")
    assert _raw_day(dsn, day) == loaded_before  # refused as a whole: the day keeps its earlier load
    with psycopg.connect(dsn) as c:
        refused = c.execute("select message from audit.load_files where feed = 'complaints' and business_date = %s"
                            " and status = 'refused' and airflow_run_id = %s", (day, run_id)).fetchall()
    assert refused and any("sha256" in m or "rows" in m for (m,) in refused)

    ticket = _correct_delivery(landing, day, original)
    svc.airflow("tasks", "clear", "ingest_complaints", "-f", "-s", day.isoformat(), "-e", day.isoformat(), "-y")
    _wait(meta, lambda st: ("ingest_complaints", "failed") not in st and not _busy(st), "the cleared run succeeds")
    with psycopg.connect(dsn) as c:
        last = c.execute("select status, airflow_run_id from audit.load_files where feed = 'complaints'"
                         " and business_date = %s order by load_id desc limit 1", (day,)).fetchone()
        assert last == ("replaced", run_id)
        assert c.execute("select outcome from raw.complaints where ticket_id = %s and _business_date = %s",
                         (ticket, day)).fetchall() == [("调解成功已更正",)]

    admin = psycopg.conninfo.make_conninfo(**{**psycopg.conninfo.conninfo_to_dict(dsn), "dbname": "postgres"})
    clean = f"msdw_clean_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as c:
        create_database(c, clean)
    clean_dsn = psycopg.conninfo.make_conninfo(**{**psycopg.conninfo.conninfo_to_dict(dsn), "dbname": clean})
    try:
        bootstrap(clean_dsn)
        load_day(str(landing), "complaints", day, conninfo=clean_dsn)
        assert _raw_day(clean_dsn, day) == _raw_day(dsn, day)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(psycopg.sql.SQL("drop database if exists {} with (force)").format(psycopg.sql.Identifier(clean)))


def test_backfill_of_the_range_is_a_noop(scheduler):
    """Airflow 3 backfill of the business dates START..END with completed runs reprocessed (runbook):
    the existing runs of those days are re-run in place, no other day is created, every file is a noop."""
    svc, meta, dsn = scheduler["svc"], scheduler["meta"], scheduler["dsn"]

    def sampling_raw() -> tuple:
        with psycopg.connect(dsn) as c:
            return c.execute("select count(*), md5(string_agg(test_id, ',' order by test_id)) from raw.rapid_tests"
                             ).fetchone()

    before = sampling_raw()
    with psycopg.connect(dsn) as c:
        last_load = c.execute("select coalesce(max(load_id), 0) from audit.load_files").fetchone()[0]
    out = svc.airflow("backfill", "create", "--dag-id", "ingest_sampling", "--from-date", START.isoformat(),
                      "--to-date", END.isoformat(), "--reprocess-behavior", "completed")
    assert out.returncode == 0, out.stderr[-2000:]

    def backfilled(states: dict) -> bool:
        runs = [r for r in _runs(meta, "ingest_sampling") if r[1] == "backfill"]
        return len(runs) == 1 and all(r[2] == "success" for r in runs) and not _busy(states)

    _wait(meta, backfilled, "backfill of ingest_sampling")
    assert len(_runs(meta, "ingest_sampling")) == 1  # the day re-run in place, no day outside the range
    with psycopg.connect(dsn) as c:
        statuses = c.execute("select business_date, status, count(*) from audit.load_files where source = 'sampling'"
                             " and load_id > %s group by 1, 2 order by 1, 2", (last_load,)).fetchall()
    assert [(d, s) for d, s, _ in statuses] == [(START, "noop")]
    assert sampling_raw() == before

