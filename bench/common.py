"""Shared helpers of the benchmark suite (bench/run_all.py and the stage scripts).

* where to benchmark: a dedicated database on the server named by
  ``MSDW_BENCH_ADMIN_DSN`` (else ``MSDW_TEST_ADMIN_DSN``), else an embedded
  pgserver under a short ``/tmp`` path — never the demo's ``.msdw`` nor the
  database ``msdw``;
* what machine: cores, memory, load average (other jobs share the cores, so
  every figure is printed next to the load it was measured under);
* how much memory: a child command's process tree is sampled with psutil, so
  the peak RSS of the largest single process (dbt, a GX gate, the loader) and of
  the whole tree are known even for grandchildren (dbt under an Airflow task);
* results: one JSON file per stage under ``bench/results/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

from msdw.warehouse import create_database

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
SCRATCH = Path(os.environ.get("MSDW_BENCH_SCRATCH", "/tmp/msdwb"))
PROTECTED_DBS = {"msdw", "postgres", "template0", "template1", "airflow"}


def machine() -> dict[str, Any]:
    """Cores, memory and load of this machine, for the header of every result."""
    la = os.getloadavg()
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "mem_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg": [round(x, 2) for x in la],
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def admin_dsn() -> str:
    """Admin DSN of the server the benchmark may create databases on.

    ``MSDW_BENCH_ADMIN_DSN`` (or ``MSDW_TEST_ADMIN_DSN``); else an embedded
    pgserver in ``/tmp/msdwb-pg`` (a short path: the Unix socket path limit is
    107 bytes), started once and reused.
    """
    dsn = os.environ.get("MSDW_BENCH_ADMIN_DSN") or os.environ.get("MSDW_TEST_ADMIN_DSN")
    if dsn:
        return dsn
    import pgserver

    srv = pgserver.get_server(Path("/tmp/msdwb-pg"), cleanup_mode=None)
    return srv.get_uri()


def with_db(dsn: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def fresh_db(admin: str, name: str) -> str:
    """Drop and create database ``name`` (refuses the demo's and the server's own); returns its DSN."""
    if name in PROTECTED_DBS or not name.startswith("msdw_bench"):
        raise ValueError(f"refusing to recreate database {name!r}: bench databases are named msdw_bench_*")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        create_database(conn, name)  # as the platform creates its warehouse (collation "C")
    return with_db(admin, name)


def drop_db(admin: str, name: str) -> None:
    if name in PROTECTED_DBS or not name.startswith("msdw_bench"):
        raise ValueError(f"refusing to drop database {name!r}")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def server_info(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        version = conn.execute("show server_version").fetchone()[0]
        settings = dict(conn.execute(
            "select name, setting || coalesce(unit, '') from pg_settings where name in "
            "('shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_parallel_workers_per_gather', 'jit')"
        ).fetchall())
    return {"postgres": version, "settings": settings}


class TreeSampler:
    """Samples the RSS of a process and all its descendants every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid = pid
        self.interval = interval
        self.max_process_mb = 0.0
        self.max_process_name = ""
        self.max_tree_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            total = 0.0
            for p in procs:
                try:
                    mb = p.memory_info().rss / 2**20
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += mb
                if mb > self.max_process_mb:
                    self.max_process_mb = mb
                    try:
                        self.max_process_name = " ".join(p.cmdline()[:3])[-80:]
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        pass
            self.max_tree_mb = max(self.max_tree_mb, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class StepFailed(RuntimeError):
    """A measured child command exited non-zero; carries its measurement and output tail."""

    def __init__(self, cmd: list[str], measured: dict[str, Any]):
        self.measured = measured
        super().__init__(f"{' '.join(cmd[:4])}… exited {measured['returncode']}:\n{measured['stderr_tail']}")


def run_measured(cmd: list[str], env: dict[str, str] | None = None, check: bool = True,
                 timeout: float | None = None) -> dict[str, Any]:
    """Run ``cmd``; return wall seconds, peak RSS (largest process / whole tree), load, and the
    JSON object on the last line of its stdout (``result``) when there is one."""
    load_before = load1()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    with TreeSampler(proc.pid) as s:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    result: Any = None
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            break
    measured = {
        "seconds": round(seconds, 2),
        "peak_process_rss_mb": round(s.max_process_mb, 1),
        "peak_process": s.max_process_name,
        "peak_tree_rss_mb": round(s.max_tree_mb, 1),
        "load_avg_1m": [load_before, load1()],
        "returncode": proc.returncode,
        "result": result,
        "stderr_tail": "\n".join((err or "").splitlines()[-25:]) if proc.returncode else "",
    }
    if check and proc.returncode:
        raise StepFailed(cmd, measured)
    return measured


def python_step(script: str, *args: str, env: dict[str, str] | None = None, check: bool = True,
                timeout: float | None = None) -> dict[str, Any]:
    """``run_measured`` of ``python bench/<script> <args>`` with the venv's interpreter."""
    return run_measured([sys.executable, str(HERE / script), *args], env=env, check=check, timeout=timeout)


def emit(obj: Any) -> None:
    """Print a child's result as the last stdout line (read by ``run_measured``)."""
    print(json.dumps(obj, default=str), flush=True)


def write_result(name: str, doc: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def read_result(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


AIRFLOW_META_DB = "msdw_bench_airflow_meta"


def airflow_meta_url(admin: str, db: str = AIRFLOW_META_DB) -> str:
    """SQLAlchemy URL of the bench's Airflow metadata database (created once, migrated by the first run).

    PostgreSQL, as in production and in the embedded demo: the SQLite fallback of
    ``airflow_env`` fails in ``dag.test()`` on Airflow 3.3 (deadline_alert UUID
    binding: "'dict' object has no attribute 'hex'")."""
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
    info = psycopg.conninfo.conninfo_to_dict(admin)
    host, user = info.get("host") or "localhost", info.get("user") or "postgres"
    cred = f"{user}:{info['password']}" if info.get("password") else user
    if host.startswith("/"):
        return f"postgresql+psycopg2://{cred}@/{db}?host={host}&port={info.get('port') or 5432}"
    return f"postgresql+psycopg2://{cred}@{host}:{info.get('port') or 5432}/{db}"


def bench_env(dsn: str, home: Path, jurisdiction: str = "330106", admin: str | None = None,
              airflow_db: str = AIRFLOW_META_DB) -> dict[str, str]:
    """Environment of a measured child: its own warehouse DB, MSDW_HOME (Airflow home, dbt targets,
    reports), dbt target/log paths and, given ``admin``, the bench's PostgreSQL Airflow metadata DB,
    so nothing is shared with the demo or other runs."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for k in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW_HOME", "MSDW_LANDING", "MSDW_REPORTS_DIR"):
        env.pop(k, None)
    env.update({
        "MSDW_WAREHOUSE_DSN": dsn,
        "MSDW_HOME": str(home),
        "MSDW_JURISDICTION": jurisdiction,
        "MSDW_PII_HMAC_KEY": os.environ.get("MSDW_PII_HMAC_KEY", "bench-key-not-a-secret"),
        "DBT_TARGET_PATH": str(home / "dbt-target"),
        "DBT_LOG_PATH": str(home / "dbt-logs"),
        "MSDW_MANIFEST_POKE_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    })
    if admin:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = airflow_meta_url(admin, airflow_db)
    return env
