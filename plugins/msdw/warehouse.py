"""The warehouse connection: a configured PostgreSQL, or an embedded one from pgserver.

``dsn()`` is the single way every part of the platform (loader, gates, CLI,
tests) finds the warehouse. With ``MSDW_WAREHOUSE_DSN`` unset, a real
PostgreSQL server from the ``pgserver`` wheel is started (once, and reused) in
``$MSDW_HOME/pgdata``; it holds the ``msdw`` warehouse database and the
``airflow`` metadata database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from msdw.config import settings

log = logging.getLogger(__name__)

WAREHOUSE_DB = "msdw"
AIRFLOW_DB = "airflow"

# Group roles of the warehouse (least privilege; see sql/bootstrap/10_roles.sql)
ROLE_LOADER = "msdw_loader"
ROLE_TRANSFORMER = "msdw_transformer"
ROLE_BI = "msdw_bi"
ROLE_AUDITOR = "msdw_auditor"
ROLE_PII = "msdw_pii_reader"


def _embedded_server():
    import pgserver  # heavy import: only when the embedded default is used

    s = settings()
    s.pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process and is reused by the
    # next command (CLI, DAG task, test), like a normal local PostgreSQL.
    return pgserver.get_server(s.pgdata, cleanup_mode=None)


def _ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(name)))


def _with_dbname(uri: str, dbname: str) -> str:
    """Return ``uri`` pointing at database ``dbname`` (works for URIs with a socket host)."""
    info = psycopg.conninfo.conninfo_to_dict(uri)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)


def admin_dsn() -> str:
    """DSN with rights to bootstrap (create schemas and roles)."""
    s = settings()
    if s.warehouse_dsn:
        return s.warehouse_dsn
    srv = _embedded_server()
    return srv.get_uri()


def dsn() -> str:
    """libpq connection string of the warehouse database."""
    s = settings()
    if s.warehouse_dsn:
        return s.warehouse_dsn
    uri = admin_dsn()
    _ensure_database(uri, WAREHOUSE_DB)
    return _with_dbname(uri, WAREHOUSE_DB)


def airflow_sqlalchemy_url() -> str:
    """SQLAlchemy URL of the Airflow metadata database (embedded default only)."""
    uri = admin_dsn()
    _ensure_database(uri, AIRFLOW_DB)
    info = psycopg.conninfo.conninfo_to_dict(uri)
    host = info.get("host", "")
    user = info.get("user", "postgres")
    if host.startswith("/"):
        return f"postgresql+psycopg2://{user}@/{AIRFLOW_DB}?host={host}"
    port = info.get("port", "5432")
    pw = info.get("password")
    cred = f"{user}:{pw}" if pw else user
    return f"postgresql+psycopg2://{cred}@{host}:{port}/{AIRFLOW_DB}"


def libpq_env(conninfo: str | None = None) -> dict[str, str]:
    """``MSDW_PG*`` variables read by dbt's profiles.yml (and the standard PG* ones)."""
    info = psycopg.conninfo.conninfo_to_dict(conninfo or dsn())
    env = {
        "MSDW_PGHOST": info.get("host") or "localhost",
        "MSDW_PGPORT": str(info.get("port") or 5432),
        "MSDW_PGUSER": info.get("user") or os.environ.get("USER", "postgres"),
        "MSDW_PGPASSWORD": info.get("password") or "",
        "MSDW_PGDATABASE": info.get("dbname") or WAREHOUSE_DB,
    }
    return env


@contextmanager
def connect(role: str | None = None, autocommit: bool = False, **kwargs) -> Iterator[psycopg.Connection]:
    """A psycopg connection to the warehouse, optionally acting as one of the platform roles."""
    conn = psycopg.connect(dsn(), autocommit=autocommit, **kwargs)
    try:
        if role:
            conn.execute(psycopg.sql.SQL("set role {}").format(psycopg.sql.Identifier(role)))
            if not autocommit:
                conn.commit()
        yield conn
    finally:
        conn.close()


def describe() -> str:
    """Human-readable location of the warehouse (for the CLI's closing lines)."""
    s = settings()
    if s.embedded:
        return f"embedded PostgreSQL (pgserver) data dir {s.pgdata}, database '{WAREHOUSE_DB}' — connect with: psql '{dsn()}'"
    info = psycopg.conninfo.conninfo_to_dict(s.warehouse_dsn)
    info.pop("password", None)
    return "PostgreSQL " + " ".join(f"{k}={v}" for k, v in info.items())


def bootstrap_sql_files() -> list[Path]:
    return sorted((Path(__file__).parent / "sql" / "bootstrap").glob("*.sql"))
