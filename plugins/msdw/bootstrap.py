"""Idempotent creation of the warehouse's schemas, roles, audit tables and raw tables.

Run by ``msdw bootstrap``, by ``msdw demo``/``msdw run`` before anything else,
by the compose init service, and by the tests. Safe to run any number of
times: every statement is ``create ... if not exists`` or a re-grant.

It ends by checking what the jobs will do with the privileges it granted
(``check_job_roles``): the connecting user can ``SET ROLE`` to every job role
(on a managed server where a DBA created the roles, it may not be a member),
and the loader and the transformer can create temporary tables. A failure is
one line naming the statement an administrator must run.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from msdw import warehouse
from msdw.errors import ConfigurationError

log = logging.getLogger(__name__)

# Serialises concurrent bootstraps (two DAG tasks starting at once).
_LOCK_ID = 7_261_001


def bootstrap(conninfo: str | None = None) -> None:
    conninfo = conninfo or warehouse.dsn()
    with psycopg.connect(conninfo) as conn:
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        for path in warehouse.bootstrap_sql_files():
            log.info("bootstrap: %s", path.name)
            conn.execute(path.read_text(encoding="utf-8"))
        # Raw and quarantine tables are derived from the feed contracts.
        from msdw.ingest import ddl

        ddl.create_feed_tables(conn)
        conn.commit()
        check_job_roles(conn)
        collation = conn.execute("select datcollate from pg_database where datname = current_database()").fetchone()[0]
        if collation not in ("C", "POSIX"):
            log.warning("bootstrap: the warehouse database collates text as %r; a database created with "
                        "LC_COLLATE 'C' returns the same order for UTF-8 and sorts ~2x faster "
                        "(docs/performance.md §9)", collation)


def check_job_roles(conn: psycopg.Connection) -> None:
    """Raise ``ConfigurationError`` unless the connecting user can act as every job role.

    1. ``SET ROLE`` to each of ``warehouse.JOB_ROLES``: membership with the SET
       option (PostgreSQL 16+; plain membership before). A superuser passes.
    2. As each of ``warehouse.TEMP_TABLE_ROLES``, create a temporary table (rolled back):
       the probe of the TEMPORARY privilege the loader and dbt need.
    """
    user, db = conn.execute("select current_user, current_database()").fetchone()
    option = "SET" if conn.info.server_version >= 160000 else "MEMBER"
    cannot = [r for r in warehouse.JOB_ROLES
              if not conn.execute("select pg_has_role(current_user, %s, %s)", (r, option)).fetchone()[0]]
    conn.rollback()
    if cannot:
        roles = ", ".join(cannot)
        raise ConfigurationError(
            f"bootstrap: user {user} cannot SET ROLE {roles} (the roles exist, {user} is not a member); "
            f"as an administrator run: grant {roles} to {user}")
    no_temp = []
    for role in warehouse.TEMP_TABLE_ROLES:
        try:
            with conn.transaction():
                conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
                conn.execute("create temporary table msdw_bootstrap_probe (probe int) on commit drop")
                raise psycopg.Rollback()
        except psycopg.errors.InsufficientPrivilege:
            no_temp.append(role)
    conn.rollback()
    if no_temp:
        roles = ", ".join(no_temp)
        raise ConfigurationError(
            f"bootstrap: {roles} cannot create temporary tables in database {db} (loads and dbt need them); "
            f"as the database owner or an administrator run: grant temporary on database {db} to {roles}")
    log.info("bootstrap: %s can SET ROLE %s; %s can create temporary tables", user,
             ", ".join(warehouse.JOB_ROLES), ", ".join(warehouse.TEMP_TABLE_ROLES))
