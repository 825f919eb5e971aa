"""Shared fixtures: a real PostgreSQL for every test that needs one.

With ``MSDW_TEST_ADMIN_DSN`` set (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``)
tests create throw-away databases on that server; otherwise they start an
embedded PostgreSQL from the ``pgserver`` wheel in a temporary directory, so
``make test`` needs nothing on the machine but Python.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from msdw.warehouse import create_database

REPO = Path(__file__).resolve().parents[1]

# `make test` runs two pytest-xdist workers with --dist loadscope: each test module runs whole on
# one worker, so its module fixtures are built once (tests/e2e/test_pipeline.py holds both end-to-end
# paths for that reason: they share one session fixture). (--dist loadgroup would group by mark, but
# pytest-xdist 3.8 groups by a node-id suffix that pytest 9's Item.nodeid no longer returns.)
# Each worker has its own embedded server (pg_admin_dsn, by pid) and its own dbt target and log
# directories, so two dbt invocations never share partial_parse.msgpack or run_results.json.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _dbt_dir = Path("/tmp") / f"msdw-test-dbt-{os.getpid()}"
    os.environ.setdefault("DBT_TARGET_PATH", str(_dbt_dir / "target"))
    os.environ.setdefault("DBT_LOG_PATH", str(_dbt_dir / "logs"))


@pytest.fixture(scope="session")
def pg_admin_dsn(tmp_path_factory) -> str:
    dsn = os.environ.get("MSDW_TEST_ADMIN_DSN")
    if dsn:
        yield dsn
        return
    import pgserver

    # short path: the server's unix socket lives in its data directory
    datadir = Path("/tmp") / f"msdw-test-pg-{os.getpid()}"
    srv = pgserver.get_server(datadir, cleanup_mode="stop")
    yield srv.get_uri()
    try:
        srv.cleanup()
    except Exception:  # pragma: no cover - best effort at exit
        pass


def _with_db(dsn: str, dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)


def _create_db(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        create_database(conn, name)  # as the platform creates its warehouse (collation "C")
    return _with_db(admin, name)


def _drop_db(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def empty_db(pg_admin_dsn):
    """A fresh, empty database (no bootstrap)."""
    name = f"msdw_t_{uuid.uuid4().hex[:10]}"
    dsn = _create_db(pg_admin_dsn, name)
    yield dsn
    _drop_db(pg_admin_dsn, name)


@pytest.fixture
def warehouse_env(empty_db, tmp_path, monkeypatch):
    """A fresh, bootstrapped warehouse database; MSDW_* env points at it.

    Yields the DSN. ``MSDW_HOME`` is a temporary directory, the landing zone
    ``$MSDW_HOME/landing``.
    """
    monkeypatch.setenv("MSDW_WAREHOUSE_DSN", empty_db)
    monkeypatch.setenv("MSDW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MSDW_PII_HMAC_KEY", "test-key-not-a-secret")
    from msdw.bootstrap import bootstrap

    bootstrap(empty_db)
    yield empty_db


@pytest.fixture(scope="module")
def module_warehouse(pg_admin_dsn, tmp_path_factory):
    """Like ``warehouse_env`` but shared by a test module (set the env yourself via ``mp``)."""
    name = f"msdw_m_{uuid.uuid4().hex[:10]}"
    dsn = _create_db(pg_admin_dsn, name)
    from msdw.bootstrap import bootstrap

    mp = pytest.MonkeyPatch()
    mp.setenv("MSDW_WAREHOUSE_DSN", dsn)
    mp.setenv("MSDW_HOME", str(tmp_path_factory.mktemp("home")))
    mp.setenv("MSDW_PII_HMAC_KEY", "test-key-not-a-secret")
    bootstrap(dsn)
    yield dsn
    mp.undo()
    _drop_db(pg_admin_dsn, name)
