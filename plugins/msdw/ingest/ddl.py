"""Raw and quarantine tables, derived from the feed contracts (rendered from sql/feed_tables.sql.j2)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import psycopg

from msdw.contracts import Feed, all_feeds

SQL_TYPES = {
    "text": "text",
    "code": "text",
    "date": "date",
    "timestamp": "timestamp",
    "numeric": "numeric",
    "int": "integer",
    "bool": "boolean",
}

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "sql"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def feed_tables_sql(feed: Feed) -> str:
    return _ENV.get_template("feed_tables.sql.j2").render(feed=feed, sql_type=SQL_TYPES, literal=_literal)


def create_feed_tables(conn: psycopg.Connection) -> None:
    for feed in all_feeds():
        conn.execute(feed_tables_sql(feed))
    # grants that need every bootstrap file applied first (e.g. the audit sequence)
    conn.execute((Path(__file__).parent / "sql" / "loader_grants.sql").read_text(encoding="utf-8"))
