"""Bootstrap is idempotent and creates the layers and least-privilege roles."""

from __future__ import annotations

import psycopg
import pytest

from msdw.bootstrap import bootstrap
from msdw.contracts import all_feeds

SCHEMAS = {"raw", "quarantine", "staging", "warehouse", "marts", "audit", "marts_candidate", "marts_store"}
ROLES = {"msdw_loader", "msdw_transformer", "msdw_bi", "msdw_auditor", "msdw_pii_reader"}


def test_bootstrap_twice(empty_db):
    bootstrap(empty_db)
    bootstrap(empty_db)  # second run must not fail nor duplicate anything
    with psycopg.connect(empty_db) as c:
        schemas = {r[0] for r in c.execute("select nspname from pg_namespace")}
        assert SCHEMAS <= schemas
        roles = {r[0] for r in c.execute("select rolname from pg_roles")}
        assert ROLES <= roles
        raw = {r[0] for r in c.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'")}
        assert raw == {f.name for f in all_feeds()}


def test_warehouse_database_sorts_by_code_point(empty_db):
    """Databases are created with collation "C" (msdw.warehouse.create_database, as conftest and
    docker/postgres-init do): the order of Chinese text and codes is code-point order, as in the
    C.UTF-8 it replaces, and text sorts use the fast byte comparison."""
    with psycopg.connect(empty_db) as c:
        assert c.execute("select datcollate from pg_database where datname = current_database()").fetchone() == ("C",)
        words = ["浙江", "杭州", "上城区", "91330106MA2XXXXX1X", "92330106", "ａ全角", "Z", "z", "个体工商户", "企业"]
        got = [r[0] for r in c.execute("select w from unnest(%s::text[]) as w order by w", (words,))]
        assert got == sorted(words)  # Python sorts str by code point
        assert c.execute("select upper('ａbc')").fetchone() == ("ＡBC",)  # lc_ctype is still UTF-8 aware


def _can_select(conn, role, table):
    conn.execute(f"set role {role}")
    try:
        conn.execute(f"select * from {table} limit 1")
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False
    finally:
        conn.rollback()


@pytest.mark.parametrize("role,table,allowed", [
    ("msdw_bi", "raw.complaints", False),
    ("msdw_bi", "quarantine.complaints", False),
    ("msdw_bi", "audit.load_files", False),
    ("msdw_auditor", "audit.load_files", True),
    ("msdw_auditor", "raw.complaints", False),
    ("msdw_loader", "raw.complaints", True),
    ("msdw_pii_reader", "raw.complaints", True),
    ("msdw_transformer", "raw.complaints", False),  # not all columns: personal data is excluded
])
def test_role_privileges(empty_db, role, table, allowed):
    bootstrap(empty_db)
    with psycopg.connect(empty_db) as c:
        assert _can_select(c, role, table) is allowed


def test_transformer_reads_raw_without_personal_data(empty_db):
    bootstrap(empty_db)
    with psycopg.connect(empty_db) as c:
        c.execute("set role msdw_transformer")
        c.execute("select ticket_id, complainant_hash, _business_date from raw.complaints limit 1")
        c.rollback()
        c.execute("set role msdw_transformer")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select complainant_phone from raw.complaints limit 1")


def test_audit_is_append_only(empty_db):
    bootstrap(empty_db)
    with psycopg.connect(empty_db) as c:
        c.execute("""insert into audit.load_files (source, feed, business_date, file_name, status, started_at)
                     values ('complaints', 'complaints', '2024-01-02', 'complaints.csv', 'noop', now())""")
        with pytest.raises(psycopg.errors.RaiseException):
            c.execute("update audit.load_files set status = 'loaded'")
