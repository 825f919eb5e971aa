"""The project's Airflow home: configured from the repository, never by hand.

``airflow_environ()`` returns the ``AIRFLOW__*`` variables that make any
``airflow`` process (CLI, ``dag.test()``, scheduler, api-server) use the
repository's ``dags/`` and ``plugins/``, no example DAGs, and a metadata
database:

* ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` (or its ``_CMD``/``_SECRET`` variant) if the
  operator set it (production);
* else, on the embedded default, a database ``airflow`` in the embedded
  PostgreSQL (so LocalExecutor and a real scheduler work);
* else (a configured warehouse but no metadata DB) SQLite in ``$MSDW_HOME``.

They must be in ``os.environ`` before ``airflow`` is imported; ``prepare()``
does that, migrates the metadata DB once and creates the pools.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from msdw.config import DAGS_DIR, PLUGINS_DIR, settings

log = logging.getLogger(__name__)

WAREHOUSE_POOL = "warehouse"
WAREHOUSE_POOL_SLOTS = 4


def airflow_environ(executor: str = "LocalExecutor") -> dict[str, str]:
    s = settings()
    home = s.airflow_home
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    }
    # the operator's metadata DB, also as Airflow's _CMD/_SECRET variants (compose reads it from a secret file)
    configured = [k for k in ("", "_CMD", "_SECRET") if os.environ.get(f"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN{k}")]
    if configured:
        key = f"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN{configured[0]}"
        env[key] = os.environ[key]
    elif s.embedded:
        from msdw import warehouse

        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = warehouse.airflow_sqlalchemy_url()
    else:
        home.mkdir(parents=True, exist_ok=True)
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
        # SQLite only supports one writer: dag.test() runs tasks in-process, which works.
    return env


def apply(executor: str = "LocalExecutor", quiet: bool = False) -> dict[str, str]:
    """Put the Airflow settings into this process's environment (before importing airflow).

    ``quiet`` keeps Airflow's own INFO lines (task state changes, DAG test
    progress) out of the console of ``msdw run``/``msdw demo``; task logs are
    still written under ``$AIRFLOW_HOME/logs``.
    """
    env = airflow_environ(executor)
    if quiet and "AIRFLOW__LOGGING__LOGGING_LEVEL" not in os.environ:
        env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ.update(env)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def airflow_cli(*args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
    """Run the venv's ``airflow`` CLI with the project's settings."""
    env = {**os.environ, **airflow_environ()}
    exe = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run([exe, *args], env=env, check=check, text=True, capture_output=capture)


def prepare(reserialize: bool = False, quiet: bool = False) -> dict[str, str]:
    """Configure, migrate the metadata DB (idempotent, skipped when current) and create the pools.

    ``reserialize`` parses dags/ into the metadata DB now (what the dag-processor
    does continuously), so ``airflow dags list`` shows the DAGs without one running.
    """
    env = apply(quiet=quiet)
    marker = Path(env["AIRFLOW_HOME"]) / ".migrated"
    conn = next(v for k, v in env.items() if k.startswith("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"))
    if not marker.exists() or marker.read_text() != conn:
        log.info("airflow: migrating the metadata database")
        airflow_cli("db", "migrate", capture=True)
        airflow_cli(
            "pools", "set", WAREHOUSE_POOL, str(WAREHOUSE_POOL_SLOTS),
            "Concurrent warehouse connections of msdw tasks", capture=True,
        )
        marker.write_text(conn)
    if reserialize:
        airflow_cli("dags", "reserialize", capture=True)
    return env
