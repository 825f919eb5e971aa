"""Security properties: least-privilege roles, keyed pseudonyms, quoted identifiers, confined file access.

The personal-data scans of relations and reports after a pipeline run are in
test_rel_pipeline.py, of the Airflow task logs in test_rel_sensor.py; the scan
of the repository for credentials is tests/unit/test_compose.py (not repeated).
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import os
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from rel_helpers import BD, csv_bytes, deliver, q, row

from msdw.contracts import all_feeds
from msdw.ingest import load_day

REPO = Path(__file__).resolve().parents[2]
ROLES = ("msdw_loader", "msdw_transformer", "msdw_bi", "msdw_auditor", "msdw_pii_reader")
SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "warehouse", "marts_candidate", "marts_store", "marts",
           "audit", "seeds")
# which role may SELECT from the relations of which schema (bootstrap + publish grants); marts is checked
# on a published view in test_rel_pipeline.py (bi_read) — here on the schema usage.
READ = {
    "msdw_loader": {"raw", "quarantine", "audit"},
    "msdw_bi": set(),
    "msdw_auditor": {"audit"},
    "msdw_pii_reader": {"raw", "quarantine"},
}


def _as(dsn: str, role: str, stmt: str | sql.Composable) -> str:
    """Run ``stmt`` as ``role``; 'ok' or the SQLSTATE class name of the refusal."""
    with psycopg.connect(dsn) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        try:
            conn.execute(stmt)
            return "ok"
        except psycopg.errors.InsufficientPrivilege:
            return "denied"
        except psycopg.Error as exc:
            return type(exc).__name__


def test_schema_usage_is_least_privilege(warehouse_env):
    got = {}
    for role in ROLES:
        got[role] = {s for (s,) in q(warehouse_env, "select s from unnest(%s::text[]) s where has_schema_privilege(%s, s, 'usage')",
                                     (list(SCHEMAS), role))}
    assert got["msdw_bi"] == {"marts"}
    assert got["msdw_auditor"] == {"audit", "marts"}
    assert got["msdw_pii_reader"] == {"raw", "quarantine"}
    assert got["msdw_loader"] == {"raw", "quarantine", "audit", "seeds"}
    assert "marts" not in got["msdw_loader"]


@pytest.mark.parametrize("role", sorted(READ))
def test_table_reads_follow_the_role(warehouse_env, role):
    rels = q(warehouse_env, """select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                               where n.nspname = any(%s) and c.relkind in ('r', 'v', 'p')""", (list(SCHEMAS),))
    assert len(rels) > 20
    for schema, rel in rels:
        stmt = sql.SQL("select 1 from {} limit 1").format(sql.Identifier(schema, rel))
        if schema == "raw" and role == "msdw_transformer":
            continue
        expected = "ok" if schema in READ[role] else "denied"
        if role == "msdw_loader" and schema == "audit" and rel != "load_files":
            expected = "denied"  # the loader reads only its own load audit (the noop check); it appends to deliveries
        assert _as(warehouse_env, role, stmt) == expected, (role, schema, rel)


def test_loader_cannot_drop_or_create_schemas_nor_read_marts(warehouse_env):
    assert _as(warehouse_env, "msdw_loader", "drop schema raw cascade") == "denied"
    assert _as(warehouse_env, "msdw_loader", "drop table raw.complaints") == "denied"
    assert _as(warehouse_env, "msdw_loader", "create schema evil") == "denied"
    assert _as(warehouse_env, "msdw_loader", "create table marts.evil (x int)") == "denied"
    assert _as(warehouse_env, "msdw_loader", "delete from audit.load_files") == "denied"
    assert _as(warehouse_env, "msdw_bi", "create table marts.evil (x int)") == "denied"
    assert _as(warehouse_env, "msdw_auditor", "insert into audit.load_files (source) values ('x')") == "denied"


def test_only_loader_and_pii_reader_see_personal_data_columns(warehouse_env):
    for f in all_feeds():
        for col in f.pii_fields:
            for table in (f"raw.{f.name}",):
                allowed = {r for r in ROLES
                           if q(warehouse_env, "select has_column_privilege(%s, %s, %s, 'select')", (r, table, col))[0][0]}
                assert allowed == {"msdw_loader", "msdw_pii_reader"}, (table, col, allowed)
        qt = f"quarantine.{f.name}"  # raw_values carries every delivered cell, personal ones included
        allowed = {r for r in ROLES if q(warehouse_env, "select has_table_privilege(%s, %s, 'select')", (r, qt))[0][0]}
        assert allowed == {"msdw_loader", "msdw_pii_reader"}, (qt, allowed)
    # the transformer reads the pseudonym, never the identifiers it is made from
    assert q(warehouse_env, "select has_column_privilege('msdw_transformer', 'raw.complaints', 'complainant_hash', 'select')") == [(True,)]


# --- keyed pseudonyms ------------------------------------------------------------------------------------
ID_NO = "11010519491231002X"


def test_complainant_hash_uses_the_configured_secret(warehouse_env, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    hashes = {}
    for key, day in (("first-secret", BD), ("second-secret", date(2024, 5, 9))):
        monkeypatch.setenv("MSDW_PII_HMAC_KEY", key)
        r = row("complaints", received_at=f"{day} 09:00", accepted_date=str(day))
        deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [r])}, business_date=day)
        load_day(str(landing), "complaints", day)
        [(h,)] = q(warehouse_env, "select complainant_hash from raw.complaints where _business_date = %s", (day,))
        assert h == hmac.new(key.encode(), ID_NO.encode(), hashlib.sha256).hexdigest()
        hashes[key] = h
    assert hashes["first-secret"] != hashes["second-secret"]
    assert hashlib.sha256(ID_NO.encode()).hexdigest() not in hashes.values()  # not a plain (guessable) hash


def test_a_real_warehouse_without_the_secret_refuses_to_pseudonymise(monkeypatch):
    from msdw.config import pii_hmac_key

    monkeypatch.delenv("MSDW_PII_HMAC_KEY", raising=False)
    monkeypatch.setenv("MSDW_WAREHOUSE_DSN", "postgresql://x@127.0.0.1:1/x")
    with pytest.raises(RuntimeError, match="MSDW_PII_HMAC_KEY must be set"):
        pii_hmac_key()


# --- dynamic SQL -------------------------------------------------------------------------------------------
SQL_CALLS = {"execute", "executemany", "copy", "stream"}


def _is_formatted_str(node: ast.AST) -> bool:
    """An f-string with placeholders, ``"..." % x`` or ``"...".format(...)`` — text built by string formatting."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return isinstance(node.left, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(node.left, "value", ""), str) \
            or _is_formatted_str(node.left) or _is_formatted_str(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return isinstance(node.func.value, (ast.Constant, ast.JoinedStr))
    return False


def formatted_sql_calls(source: str, filename: str) -> list[str]:
    """Calls ``<x>.execute/executemany/copy/stream(<text built by string formatting>, ...)``.

    Also follows a local name assigned such a text in the same function. Composing
    with psycopg.sql (sql.SQL(...).format(sql.Identifier(...))) is not a str and passes.
    """
    tree = ast.parse(source, filename)
    found = []
    for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module))]:
        tainted = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and _is_formatted_str(n.value)
                   for t in n.targets if isinstance(t, ast.Name)}
        for n in ast.walk(fn):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in SQL_CALLS and n.args:
                arg = n.args[0]
                if _is_formatted_str(arg) or (isinstance(arg, ast.Name) and arg.id in tainted):
                    found.append(f"{filename}:{n.lineno}: {ast.unparse(n)[:120]}")
    return sorted(set(found))


def test_the_checker_catches_formatted_sql():
    bad = 'def f(c, name):\n    c.execute(f"select * from {name}")\n    s = "drop table %s" % name\n    c.execute(s)\n'
    good = ('def g(c, name):\n    c.execute(sql.SQL("select * from {}").format(sql.Identifier(name)))\n'
            '    c.execute("select %s", (name,))\n')
    assert len(formatted_sql_calls(bad, "bad.py")) == 2
    assert formatted_sql_calls(good, "good.py") == []


def test_no_sql_built_by_string_formatting_in_the_platform():
    files = sorted((REPO / "plugins" / "msdw").rglob("*.py")) + sorted((REPO / "dags").rglob("*.py"))
    assert len(files) > 30
    found = []
    for p in files:
        found += formatted_sql_calls(p.read_text(encoding="utf-8"), str(p.relative_to(REPO)))
    assert found == []


# --- file access confined to the landing zone ------------------------------------------------------------------
def test_a_symlink_out_of_the_landing_zone_is_refused(warehouse_env, tmp_path):
    from msdw.errors import DeliveryRefused, FileRefused

    outside = tmp_path / "secret" / "rapid_tests.csv"
    outside.parent.mkdir()
    outside.write_bytes(csv_bytes("rapid_tests", [row("rapid_tests", station="来自着陆区之外")]))
    landing = tmp_path / "landing"
    day = deliver(landing, "sampling", {"rapid_tests.csv": outside.read_bytes()})
    (day / "rapid_tests.csv").unlink()
    os.symlink(outside, day / "rapid_tests.csv")
    with pytest.raises((DeliveryRefused, FileRefused), match="rapid_tests.csv.*link"):
        load_day(str(landing), "sampling", BD)
    with psycopg.connect(warehouse_env) as c:
        assert c.execute("select count(*) from raw.rapid_tests").fetchone()[0] == 0
        assert c.execute("select status from audit.load_files where feed = 'rapid_tests'").fetchall() == [("refused",)]
