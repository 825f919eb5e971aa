"""Idempotent creation of the warehouse's schemas, roles, audit tables and raw tables.

Run by ``msdw bootstrap``, by ``msdw demo``/``msdw run`` before anything else,
by the compose init service, and by the tests. Safe to run any number of
times: every statement is ``create ... if not exists`` or a re-grant.
"""

from __future__ import annotations

import logging

import psycopg

from msdw import warehouse

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
        collation = conn.execute("select datcollate from pg_database where datname = current_database()").fetchone()[0]
        if collation not in ("C", "POSIX"):
            log.warning("bootstrap: the warehouse database collates text as %r; a database created with "
                        "LC_COLLATE 'C' returns the same order for UTF-8 and sorts ~2x faster "
                        "(docs/performance.md §9)", collation)
