"""The end-to-end dataset shared by the dag.test path and the scheduler path.

One generated business day (a Monday, defects, CSV / GB18030 /
XLSX files) run once through the project's DAGs with ``dag.test()`` (what
``msdw run`` does) into their own warehouse. ``test_pipeline`` checks
that run, then runs the same landing zone through Airflow's own
scheduler and must publish the same marts (their checksum is computed here).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from e2e_data import END, MARTS_CHECKSUM, START  # noqa: E402


@pytest.fixture(scope="session")
def e2e_env(pg_admin_dsn, tmp_path_factory):
    """A bootstrapped warehouse database and an MSDW_HOME for the dag.test path (env applied by users)."""
    from msdw.bootstrap import bootstrap

    name = f"msdw_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        c.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(pg_admin_dsn)
    info["dbname"] = name
    dsn = psycopg.conninfo.make_conninfo(**info)
    bootstrap(dsn)
    env = {"MSDW_WAREHOUSE_DSN": dsn, "MSDW_HOME": str(tmp_path_factory.mktemp("e2e_home")),
           "MSDW_PII_HMAC_KEY": "test-key-not-a-secret"}
    yield env
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        c.execute(psycopg.sql.SQL("drop database if exists {} with (force)").format(psycopg.sql.Identifier(name)))


@pytest.fixture(scope="session")
def e2e_pipeline(e2e_env, tmp_path_factory):
    """The day generated and run through every DAG with dag.test(); the marts' checksum."""
    from msdw.generate import generate
    from msdw.orchestration.runner import run_range

    mp = pytest.MonkeyPatch()
    for k, v in e2e_env.items():
        mp.setenv(k, v)
    try:
        landing = tmp_path_factory.mktemp("e2e_landing")
        generate(landing, START, END, profile="district", seed=7, defects=0.02, formats=("csv", "gb18030", "xlsx"))
        report = run_range(str(landing), START, END)
        with psycopg.connect(e2e_env["MSDW_WAREHOUSE_DSN"]) as c:
            checksum = c.execute(MARTS_CHECKSUM).fetchone()[0]
    finally:
        mp.undo()
    return {"dsn": e2e_env["MSDW_WAREHOUSE_DSN"], "landing": landing, "report": report, "marts_checksum": checksum}
