"""Write–audit–publish of the marts: move validated candidates into the store, re-point BI's views.

dbt builds every mart in ``marts_candidate``; the ``marts`` gate validates
them there. ``publish_marts`` then, in ONE transaction, renames each
candidate to ``marts_store.<mart>__p<publication id>``, (re)creates the view
``marts.<mart>`` on it with the Chinese column comments, grants it to BI and
auditors and stamps ``audit.publications``. Readers see either the old or the
new set of marts, never a mix; a failed gate publishes nothing, so the views
keep pointing at the previous store tables. ``restore_publication``
re-points the views to an earlier publication's store tables (recorded as a
new publication row). Store tables are kept, so any publication can be restored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from msdw import warehouse
from msdw.errors import PermanentError
from msdw.quality.config import suites_of_gate
from msdw.quality.queries import query

log = logging.getLogger(__name__)

CANDIDATE_SCHEMA = "marts_candidate"
STORE_SCHEMA = "marts_store"
VIEW_SCHEMA = "marts"
READERS = (warehouse.ROLE_BI, warehouse.ROLE_AUDITOR)


class PublishError(PermanentError):
    """Publishing or restoring was refused (no passing gate, missing candidate or store table)."""


@dataclass(frozen=True)
class Publication:
    """One row of audit.publications."""

    publication_id: int
    action: str
    run_id: str
    airflow_run_id: str | None
    as_of_date: date | None
    relations: list[str]
    store_tables: dict[str, str]
    row_counts: dict[str, int]
    replaces_publication_id: int | None
    restored_from_publication_id: int | None
    published_at: datetime
    actor: str | None = None    # the person, for a publication made by hand (restore); None: the pipeline
    reason: str | None = None

    def __str__(self) -> str:
        what = f"restore of #{self.restored_from_publication_id}" if self.action == "restore" else "publish"
        return f"publication #{self.publication_id} ({what}, as of {self.as_of_date}, {sum(self.row_counts.values())} rows)"


def published_marts() -> list[str]:
    """The marts that are published: exactly the ones the marts gate validates (expectations/marts/*.json)."""
    return [s.table for s in suites_of_gate("marts") if s.schema == CANDIDATE_SCHEMA]


def _columns(conn: psycopg.Connection, relation: str) -> list[tuple[str, str | None]]:
    return [(r[0], r[1]) for r in conn.execute(query("column_comments"), {"relation": relation}).fetchall()]


def _column_types(conn: psycopg.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    return conn.execute(
        """select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
           where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum""",
        (f'"{schema}"."{table}"',),
    ).fetchall()


def _point_view(conn: psycopg.Connection, mart: str, store_table: str, comments_from: str) -> None:
    """(Re)create ``marts.<mart>`` on ``marts_store.<store_table>``; copy comments; grant readers."""
    view = sql.Identifier(VIEW_SCHEMA, mart)
    cols = _column_types(conn, STORE_SCHEMA, store_table)
    old = _column_types(conn, VIEW_SCHEMA, mart)
    select = sql.SQL("select {cols} from {src}").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c, _ in cols), src=sql.Identifier(STORE_SCHEMA, store_table))
    if old and old != cols:  # columns changed: a view cannot be replaced in place
        conn.execute(sql.SQL("drop view {}").format(view))
    conn.execute(sql.SQL("create or replace view {} as {}").format(view, select))
    table_comment = conn.execute(query("table_comment"), {"relation": comments_from}).fetchone()[0]
    conn.execute(sql.SQL("comment on view {} is {}").format(view, sql.Literal(table_comment)))
    for col, comment in _columns(conn, comments_from):
        conn.execute(sql.SQL("comment on column {} is {}").format(sql.Identifier(VIEW_SCHEMA, mart, col), sql.Literal(comment)))
    conn.execute(sql.SQL("grant select on {} to {}").format(view, sql.SQL(", ").join(sql.Identifier(r) for r in READERS)))


def _insert(conn: psycopg.Connection, row: dict[str, Any]) -> Publication:
    row = {"actor": None, "reason": None, **row}
    published_at = conn.execute(query("insert_publication"), {
        **row,
        "store_tables": Jsonb(row["store_tables"]),
        "row_counts": Jsonb(row["row_counts"]),
    }).fetchone()[0]
    return Publication(published_at=published_at, **row)


def _exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    return bool(conn.execute(query("relation_exists"), {"relation": f'"{schema}"."{table}"'}).fetchone()[0])


def publish_marts(*, run_id: str, as_of_date: date | None = None, airflow_run_id: str | None = None) -> Publication:
    """Publish the validated candidates of ``run_id`` atomically; refuse unless its marts gate passed.

    ``as_of_date`` defaults to the newest ``as_of_date`` found in the candidates.
    """
    marts = published_marts()
    with warehouse.connect(role=warehouse.ROLE_TRANSFORMER) as conn:
        conn.execute(query("lock_publication"))
        gate = dict(conn.execute(query("marts_gate_outcome"), {"run_id": run_id}).fetchall())
        not_passed = [m for m in marts if gate.get(f"{CANDIDATE_SCHEMA}.{m}") is not True]
        if not_passed:
            raise PublishError(
                f"run {run_id}: the marts gate has not passed for {', '.join(not_passed)} "
                f"(audit.quality_runs); nothing published, marts.* unchanged")
        missing = [m for m in marts if not _exists(conn, CANDIDATE_SCHEMA, m)]
        if missing:
            raise PublishError(f"run {run_id}: no candidate table for {', '.join(missing)} in {CANDIDATE_SCHEMA}; nothing published")
        current = conn.execute(query("current_publication")).fetchone()
        pid = conn.execute(query("next_publication_id")).fetchone()[0]
        store_tables, row_counts, dates = {}, {}, []
        for m in marts:
            src = sql.Identifier(CANDIDATE_SCHEMA, m)
            # no reader or dbt run may change the candidate between count and move
            conn.execute(sql.SQL("lock table {} in access exclusive mode").format(src))
            row_counts[m] = conn.execute(sql.SQL("select count(*) from {}").format(src)).fetchone()[0]
            if any(c == "as_of_date" for c, _ in _column_types(conn, CANDIDATE_SCHEMA, m)):
                dates.append(conn.execute(sql.SQL("select max(as_of_date) from {}").format(src)).fetchone()[0])
            store = f"{m}__p{pid}"
            conn.execute(sql.SQL("alter table {} rename to {}").format(src, sql.Identifier(store)))
            conn.execute(sql.SQL("alter table {} set schema {}").format(
                sql.Identifier(CANDIDATE_SCHEMA, store), sql.Identifier(STORE_SCHEMA)))
            _point_view(conn, m, store, f'"{STORE_SCHEMA}"."{store}"')
            store_tables[m] = f"{STORE_SCHEMA}.{store}"
        if as_of_date is None:
            known = [d for d in dates if d is not None]
            as_of_date = max(known) if known else None
        pub = _insert(conn, {
            "publication_id": pid, "action": "publish", "run_id": run_id, "airflow_run_id": airflow_run_id,
            "as_of_date": as_of_date, "relations": [f"{VIEW_SCHEMA}.{m}" for m in marts],
            "store_tables": store_tables, "row_counts": row_counts,
            "replaces_publication_id": current[0] if current else None, "restored_from_publication_id": None,
        })
        conn.commit()
    log.info("published %s", pub)
    return pub


def restore_publication(publication_id: int, *, run_id: str | None = None, by: str | None = None,
                        reason: str | None = None) -> Publication:
    """Re-point ``marts.*`` to the store tables of an earlier publication (a new 'restore' row records it).

    A restore is a human decision: the row names the person (``by``, default
    the OS user — ``msdw.actors.actor``, never the database role) and why.
    """
    from msdw.actors import actor

    person = actor(by)
    with warehouse.connect(role=warehouse.ROLE_TRANSFORMER) as conn:
        conn.execute(query("lock_publication"))
        row = conn.execute(query("publication"), {"publication_id": publication_id}).fetchone()
        if row is None:
            raise PublishError(f"no publication #{publication_id} in audit.publications")
        _, _, _, as_of_date, relations, store_tables, row_counts = row
        gone = [t for t in store_tables.values() if not _exists(conn, *t.split(".", 1))]
        if gone:
            raise PublishError(f"publication #{publication_id} cannot be restored: {', '.join(gone)} no longer exist")
        current = conn.execute(query("current_publication")).fetchone()
        for mart, table in store_tables.items():
            store = table.split(".", 1)[1]
            _point_view(conn, mart, store, f'"{STORE_SCHEMA}"."{store}"')
        pid = conn.execute(query("next_publication_id")).fetchone()[0]
        pub = _insert(conn, {
            "publication_id": pid, "action": "restore", "run_id": run_id or f"restore:{publication_id}",
            "airflow_run_id": None, "as_of_date": as_of_date, "relations": list(relations),
            "store_tables": dict(store_tables), "row_counts": dict(row_counts),
            "replaces_publication_id": current[0] if current else None,
            "restored_from_publication_id": publication_id,
            "actor": person, "reason": reason.strip() if reason and reason.strip() else None,
        })
        conn.commit()
    log.info("restored: %s", pub)
    return pub
