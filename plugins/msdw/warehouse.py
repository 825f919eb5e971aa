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
# The roles the platform's jobs `SET ROLE` to (loader, dbt and the gates, the work
# report, the quality report), and those of them that create temporary tables.
JOB_ROLES = (ROLE_LOADER, ROLE_TRANSFORMER, ROLE_BI, ROLE_AUDITOR)
TEMP_TABLE_ROLES = (ROLE_LOADER, ROLE_TRANSFORMER)


def _embedded_server():
    try:
        import pgserver  # heavy import: only when the embedded default is used
    except ImportError:  # the production image carries the runtime lock only
        from msdw.errors import ConfigurationError

        raise ConfigurationError("MSDW_WAREHOUSE_DSN is not set and the embedded PostgreSQL (pgserver, in "
                                 "requirements-dev.lock only) is not installed: set MSDW_WAREHOUSE_DSN") from None

    s = settings()
    s.pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process and is reused by the
    # next command (CLI, DAG task, test), like a normal local PostgreSQL.
    return pgserver.get_server(s.pgdata, cleanup_mode=None)


def stop_embedded(pgdata: Path | None = None) -> bool:
    """Stop the embedded server of ``pgdata`` (default: this MSDW_HOME's), if it runs. True if it was stopped.

    The embedded server outlives the commands that use it (``msdw stop``
    ends it; tests call this at teardown so nothing keeps running after them).
    """
    pgdata = Path(pgdata or settings().pgdata)
    if not (pgdata / "postmaster.pid").exists():
        return False
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    except Exception:  # noqa: BLE001 - already stopped / stale pid file
        log.warning("could not stop the embedded PostgreSQL in %s", pgdata, exc_info=True)
        return False
    return True


def create_database(conn: psycopg.Connection, name: str) -> None:
    """``CREATE DATABASE name`` for a warehouse: UTF-8, byte-order collation ("C").

    Byte order of UTF-8 is code-point order, the same order as glibc's
    ``C.UTF-8`` that pgserver's cluster uses, so every ``ORDER BY`` returns the
    same rows; but PostgreSQL sorts and indexes "C" text with memcmp and
    abbreviated keys instead of ``strcoll``: on this machine ``count(distinct)``
    over 3M codes 2.98 → 1.53 s, a text btree build 4.23 → 2.83 s (see
    docs/performance.md §9). ``lc_ctype`` (upper/lower, regex classes
    on Chinese text) stays the server's (template0's). ``conn`` must be in
    autocommit. docker/postgres-init creates the production database the same way.
    """
    provider = psycopg.sql.SQL(" locale_provider 'libc'" if conn.info.server_version >= 150000 else "")
    conn.execute(psycopg.sql.SQL("create database {} template template0 encoding 'UTF8' lc_collate 'C'{}").format(
        psycopg.sql.Identifier(name), provider))


def _ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            create_database(conn, name)


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


# Advisory locks that keep each layer's build on one consistent state of its inputs
# (two-key form: namespace, lock). Loads hold RAW shared for their transaction
# (msdw.ingest loader_queries.sql lock_feed_day); a warehouse build holds RAW
# exclusive, so dims and facts, built by separate statements, see the same raw
# rows; the marts build holds WAREHOUSE shared while seeds, staging and
# warehouse builds hold it exclusive. Always taken in the order RAW, WAREHOUSE.
LOCK_NAMESPACE = 1836278903  # 'msdw' as an int4
LOCK_RAW = 1
LOCK_WAREHOUSE = 2
BUILD_LOCKS = {
    # what a dbt build of a layer must exclude: (lock, shared?)
    "seed": [(LOCK_WAREHOUSE, False)],
    "staging": [(LOCK_WAREHOUSE, False)],
    "warehouse": [(LOCK_RAW, False), (LOCK_WAREHOUSE, False)],
    "marts": [(LOCK_WAREHOUSE, True)],
}


@contextmanager
def build_lock(layer: str) -> Iterator[None]:
    """Hold the advisory locks of ``layer`` (BUILD_LOCKS) for the duration of the block.

    A session-level lock on a connection of its own, so it spans the dbt
    subprocess's many connections and transactions; released when the block
    ends or the process dies (the server drops the session).
    """
    conn = psycopg.connect(dsn(), autocommit=True, application_name=f"msdw-build-lock-{layer}")
    try:
        for lock, shared in BUILD_LOCKS[layer]:
            if shared:
                conn.execute("select pg_advisory_lock_shared(%s, %s)", (LOCK_NAMESPACE, lock))
            else:
                conn.execute("select pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, lock))
        yield
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
