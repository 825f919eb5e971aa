"""No personal data downstream of raw: build the warehouse, then scan every column of every relation.

Personal values present in raw (complainant names, phones, ID numbers, legal
representatives) must not appear anywhere outside the restricted raw and
quarantine schemas; neither may anything shaped like a mainland mobile number
or a resident ID number.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from msdw.dbt_runner import run_dbt

FIXTURE = Path(__file__).with_name("test_dbt_raw_fixture.sql")
PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")  # a standalone mobile number
ID_NO = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
RESTRICTED = ("raw", "quarantine", "pg_catalog", "information_schema", "pg_toast")

pytestmark = [pytest.mark.slow, pytest.mark.db]


def _personal_values(conn: psycopg.Connection) -> set[str]:
    values: set[str] = set()
    for q in (
        "select complainant_name, complainant_phone, complainant_id_no from raw.complaints",
        "select legal_representative, null, null from raw.registration_events",
        "select legal_representative, null, null from raw.entity_snapshot",
    ):
        for row in conn.execute(q):
            values.update(v for v in row if v)
    return values


def test_no_personal_data_outside_raw(module_warehouse, tmp_path):
    dsn = module_warehouse
    with psycopg.connect(dsn) as conn:
        conn.execute(FIXTURE.read_text(encoding="utf-8"))
    run_dbt(["build", "--full-refresh"], conninfo=dsn, target_path=tmp_path / "target")

    findings: list[str] = []
    with psycopg.connect(dsn) as conn:
        personal = _personal_values(conn)
        assert personal, "the fixture must contain personal data to make this test meaningful"
        columns = conn.execute(
            """select c.table_schema, c.table_name, c.column_name
               from information_schema.columns as c
               join information_schema.tables as t using (table_schema, table_name)
               where c.table_schema <> all(%s)""",
            (list(RESTRICTED),),
        ).fetchall()
        assert any(s == "warehouse" for s, _, _ in columns)
        for schema, table, column in columns:
            query = sql.SQL("select distinct {}::text from {}.{} where {} is not null").format(
                sql.Identifier(column), sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)
            )
            for (value,) in conn.execute(query):
                where = f"{schema}.{table}.{column} = {value!r}"
                if PHONE.search(value):
                    findings.append("phone-like " + where)
                # credit codes of SAMR registrants (91/92/93…) are public, not ID numbers
                if any(not m.group().startswith(("91", "92", "93")) for m in ID_NO.finditer(value)):
                    findings.append("ID-number-like " + where)
                if any(p in value for p in personal):
                    findings.append("personal value " + where)
    assert not findings, "\n".join(findings)
