"""Shared helpers of the reliability and security suite (tests/reliability).

The hand-made deliveries come from ``tests/integration/ingest_helpers.py`` (one
valid row per feed, CSV writer, ``deliver``): the suite re-uses them instead of
keeping a second copy of the contract's example rows.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from ingest_helpers import BD, VALID, csv_bytes, deliver, row  # noqa: E402

__all__ = ["BD", "VALID", "audit_rows", "csv_bytes", "deliver", "q", "relation_checksums", "row", "scalar"]

# Columns whose values legitimately differ between two loads of the same data:
# the load id (an identity sequence), timestamps of the load/build and run ids.
VOLATILE_COLUMNS = frozenset({
    "_load_id", "load_id", "source_load_id", "latest_load_id", "first_load_id",
    "published_run_id", "msdw_run_id", "run_id", "loaded_at", "built_at", "_loaded_at", "dbt_updated_at",
    "valid_from_load_id", "valid_to_load_id",
})


def q(dsn: str, query: str | sql.Composable, params: Any = None) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def scalar(dsn: str, query: str | sql.Composable, params: Any = None) -> Any:
    return q(dsn, query, params)[0][0]


def audit_rows(dsn: str, feed: str) -> list[dict[str, Any]]:
    """audit.load_files rows of one feed, oldest first, as dicts."""
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(
            "select load_id, status, business_date, file_name, rows_in, rows_loaded, rows_quarantined, rows_warned,"
            " quarantine_by_rule, warnings_by_rule, extra_columns, replaces_load_id, message"
            " from audit.load_files where feed = %s order by load_id", (feed,))
        names = [d.name for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def relation_checksums(dsn: str, schemas: tuple[str, ...], exclude: frozenset[str] = VOLATILE_COLUMNS) -> dict[str, tuple[int, str]]:
    """(row count, md5) of every table/view in ``schemas``, rows ordered by all their columns.

    Columns in ``exclude`` are left out (they differ between loads by design).
    Every row is rendered as the text of a row constructor, the texts sorted,
    then hashed, so the checksum depends only on the multiset of rows.
    """
    out: dict[str, tuple[int, str]] = {}
    with psycopg.connect(dsn) as conn:
        rels = conn.execute(
            """select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p') order by 1, 2""",
            (list(schemas),)).fetchall()
        for schema, rel in rels:
            cols = [r[0] for r in conn.execute(
                """select attname from pg_attribute where attrelid = %s::regclass and attnum > 0
                   and not attisdropped order by attnum""",
                (sql.Identifier(schema, rel).as_string(conn),)).fetchall() if r[0] not in exclude]
            if not cols:
                continue
            stmt = sql.SQL("select count(*), coalesce(md5(string_agg(t, E'\\n' order by t)), '') from "
                           "(select row({cols})::text as t from {rel}) s").format(
                cols=sql.SQL(", ").join(sql.Identifier(c) for c in cols), rel=sql.Identifier(schema, rel))
            n, md5 = conn.execute(stmt).fetchone()
            out[f"{schema}.{rel}"] = (n, md5)
    return out
