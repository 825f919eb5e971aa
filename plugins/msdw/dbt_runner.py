"""How Python (CLI, Airflow tasks, tests) invokes dbt on the warehouse.

dbt runs as a subprocess of the virtualenv's own ``dbt`` executable rather than
in-process through ``dbtRunner``: dbt keeps process-global state (adapter
registry, logging, flags) that is not safe to reuse across invocations in a
long-lived process such as an Airflow worker or a pytest session, and a crash
inside dbt cannot take the caller down. The price is interpreter start-up;
partial parsing (``target/partial_parse.msgpack``, on by default and kept on
here) keeps the rest of the fixed overhead low — figures in docs/warehouse.md.

Connection settings reach ``dbt_project/profiles.yml`` only through the
environment (``msdw.warehouse.libpq_env()``), so no secret is written to disk.
On failure the error names every failing node with its message, read from
``target/run_results.json``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from msdw.config import DBT_PROJECT_DIR, settings

log = logging.getLogger(__name__)

FAILED_STATUSES = {"error", "fail", "runtime error"}


class DbtRunError(RuntimeError):
    """A dbt invocation failed; ``failures`` lists (node, status, message) of each failing node."""

    def __init__(self, args: list[str], returncode: int, failures: list[tuple[str, str, str]], output_tail: str):
        self.args_ = args
        self.returncode = returncode
        self.failures = failures
        self.output_tail = output_tail
        lines = [f"dbt {' '.join(args)} failed (exit {returncode})"]
        if failures:
            lines += [f"  {node} [{status}]: {msg}" for node, status, msg in failures]
        else:
            lines.append("  no node failed; dbt output (tail):\n" + output_tail)
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class DbtResult:
    """What one successful invocation did (for logs, task return values and benchmarks)."""

    args: list[str]
    seconds: float
    results: list[dict[str, Any]]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.get("status") == status)


def dbt_executable() -> str:
    """The ``dbt`` next to the running interpreter (the project's venv), else the one on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt executable not found next to the interpreter or on PATH")
    return found


def default_vars() -> dict[str, Any]:
    """Project vars every invocation gets: the jurisdiction and a run id for lineage."""
    return {
        "jurisdiction": settings().jurisdiction,
        "msdw_run_id": os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") or os.environ.get("MSDW_RUN_ID") or "manual",
    }


def dbt_env(conninfo: str | None = None) -> dict[str, str]:
    """Environment of a dbt subprocess: the caller's, plus the warehouse connection and dirs."""
    from msdw.warehouse import libpq_env

    env = dict(os.environ)
    env.update(libpq_env(conninfo))
    env["DBT_PROFILES_DIR"] = str(DBT_PROJECT_DIR)
    env["DBT_PROJECT_DIR"] = str(DBT_PROJECT_DIR)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DBT_USE_COLORS", "false")
    return env


def _failures(run_results: Path, started: float) -> list[tuple[str, str, str]]:
    """Failing nodes from run_results.json, if it was written by this invocation."""
    if not run_results.exists() or run_results.stat().st_mtime < started:
        return []
    doc = json.loads(run_results.read_text(encoding="utf-8"))
    out = []
    for r in doc.get("results", []):
        if r.get("status") in FAILED_STATUSES:
            msg = (r.get("message") or "").strip().replace("\n", " ")
            out.append((r.get("unique_id", "?"), r["status"], msg[:500]))
    return out


def run_dbt(
    args: list[str],
    *,
    vars: dict[str, Any] | None = None,  # noqa: A002 - mirrors dbt's --vars
    conninfo: str | None = None,
    target_path: Path | None = None,
    test_scope: str | None = None,
) -> DbtResult:
    """Run ``dbt <args>`` against the warehouse; raise :class:`DbtRunError` naming failing nodes.

    ``vars`` are merged over :func:`default_vars`. ``conninfo`` defaults to
    ``msdw.warehouse.dsn()``. ``target_path`` lets concurrent invocations
    (parallel Airflow tasks) keep separate artefacts; by default the project's
    ``target/`` is used so partial parsing is shared.
    """
    merged = {**default_vars(), **(vars or {})}
    # the run id travels as an env var (macro run_id): a --vars value that changes every run
    # would make dbt re-parse the whole project on every invocation (≈ 2 s each)
    run_id = str(merged.pop("msdw_run_id", "manual"))
    cmd = [dbt_executable(), *args, "--vars", yaml.safe_dump(merged, default_flow_style=True).strip()]
    target = target_path or Path(os.environ.get("DBT_TARGET_PATH") or DBT_PROJECT_DIR / "target")
    env = dbt_env(conninfo)
    env["DBT_TARGET_PATH"] = str(target)
    # tests of per-key rebuilt models check the rows this run wrote ("changed", the daily
    # transform) or every row ("all"); dbt renders test configs from env vars, not --vars
    # (macros/incremental.sql)
    test_scope = test_scope or os.environ.get("MSDW_DBT_TEST_SCOPE") or "all"
    if test_scope not in ("all", "changed"):
        raise ValueError(f"test_scope must be 'all' or 'changed', not {test_scope!r}")
    env["MSDW_DBT_RUN_ID"] = run_id
    env["MSDW_DBT_TEST_SCOPE"] = test_scope
    started = time.time()
    log.info("dbt %s", " ".join(args))
    proc = subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    seconds = time.time() - started
    for line in proc.stdout.splitlines():
        log.info("dbt| %s", line)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise DbtRunError(args, proc.returncode, _failures(target / "run_results.json", started), tail)
    results: list[dict[str, Any]] = []
    rr = target / "run_results.json"
    if rr.exists() and rr.stat().st_mtime >= started:
        results = json.loads(rr.read_text(encoding="utf-8")).get("results", [])
    log.info("dbt %s finished in %.1fs", args[0] if args else "", seconds)
    return DbtResult(list(args), seconds, results)


def seed_fingerprint() -> tuple[str, dict[str, str]]:
    """sha256 of every seed file (CSV and its YAML, which sets column types), and one over all of them."""
    import hashlib

    seeds = DBT_PROJECT_DIR / "seeds"
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(seeds.iterdir())
             if p.suffix in (".csv", ".yml")}
    overall = hashlib.sha256("".join(f"{k}:{v};" for k, v in files.items()).encode()).hexdigest()
    return overall, files


def seed_if_changed(run_id: str, *, conninfo: str | None = None, target_path: Path | None = None) -> bool:
    """``dbt seed`` unless the warehouse already holds exactly these reference files. True if it seeded.

    The seeds are full-refreshed tables (4 748 calendar days among them): re-loading
    them every day costs a dbt invocation for nothing. audit.seed_loads records
    each version loaded; a missing seed table (a wiped warehouse) always reseeds.
    """
    import psycopg

    from msdw import warehouse

    fingerprint, files = seed_fingerprint()
    stems = [n[:-4] for n in files if n.endswith(".csv")]
    with psycopg.connect(conninfo or warehouse.dsn()) as conn:
        latest = conn.execute("select fingerprint from audit.seed_loads order by seed_load_id desc limit 1").fetchone()
        present = conn.execute("select count(*) from unnest(%s::text[]) s where to_regclass('seeds.' || s) is not null",
                               (stems,)).fetchone()[0]
    if latest and latest[0] == fingerprint and present == len(stems):
        log.info("reference data unchanged (seed fingerprint %s): no dbt seed", fingerprint[:12])
        return False
    run_dbt(["seed"], vars={"msdw_run_id": run_id}, conninfo=conninfo, target_path=target_path)
    with psycopg.connect(conninfo or warehouse.dsn()) as conn:
        conn.execute("insert into audit.seed_loads (fingerprint, files, run_id) values (%s, %s, %s)",
                     (fingerprint, json.dumps(files), run_id))
        conn.commit()
    return True
