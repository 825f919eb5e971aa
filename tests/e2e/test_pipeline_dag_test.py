"""End to end through the real DAGs (dag.test path of `msdw run`): generate → ingest → dbt → gate → publish.

Runs every DAG of dags/ in-process against a real PostgreSQL and checks what
an auditor and a BI tool would see afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

pytestmark = [pytest.mark.slow]

from e2e_data import END, START  # noqa: E402 - the shared e2e dataset (tests/e2e/conftest.py)


@pytest.fixture(scope="module")
def pipeline(e2e_pipeline, e2e_env):
    """The shared dag.test run; its environment stays set for the module (the re-run test runs again)."""
    mp = pytest.MonkeyPatch()
    for k, v in e2e_env.items():
        mp.setenv(k, v)
    yield e2e_pipeline
    mp.undo()


def test_every_dag_succeeded(pipeline):
    states = {dag_id: state for dag_id, state, _ in pipeline["report"].runs}
    assert states == {
        "ingest_registration": "success",
        "ingest_sampling": "success",
        "ingest_equipment": "success",
        "ingest_complaints": "success",
        "transform_warehouse": "success",
        "refresh_monthly_marts": "success",
    }


def test_nothing_lost(pipeline):
    """For every file: rows in = rows loaded + rows quarantined, and rows in = manifest rows."""
    landing: Path = pipeline["landing"]
    expected = {}
    for manifest in landing.glob("*/*/manifest.json"):
        m = json.loads(manifest.read_text(encoding="utf-8"))
        for f in m["files"]:
            expected[(m["source"], m["business_date"], f["name"])] = f["rows"]
    with psycopg.connect(pipeline["dsn"]) as c:
        rows = c.execute(
            "select source, business_date::text, file_name, rows_in, rows_loaded, rows_quarantined"
            " from audit.load_files where status in ('loaded', 'replaced')"
        ).fetchall()
    got = {(s, d, f): n for s, d, f, n, _, _ in rows}
    assert got == expected
    for *_, n_in, n_loaded, n_q in rows:
        assert n_in == n_loaded + n_q


def test_defects_were_quarantined(pipeline):
    sidecar = pipeline["landing"] / "_generator" / "defects.jsonl"
    refused = [json.loads(line) for line in sidecar.read_text().splitlines() if line.strip()]
    refused = [d for d in refused if d.get("expected", {}).get("level") == "R"]
    assert refused, "the generator injected no R-level defect"
    with psycopg.connect(pipeline["dsn"]) as c:
        n_q = c.execute("select coalesce(sum(rows_quarantined), 0) from audit.load_files").fetchone()[0]
    assert n_q >= len({(d["feed"], d["business_date"], d["line"]) for d in refused})


def test_marts_published_for_bi(pipeline):
    with psycopg.connect(pipeline["dsn"]) as c:
        c.execute("set role msdw_bi")
        n, as_of = c.execute(
            "select count(*), max(as_of_date) from marts.indicator_monthly"
        ).fetchone()
        assert n > 0
        assert as_of == END
        codes = {r[0] for r in c.execute("select distinct indicator_code from marts.indicator_monthly")}
        assert {"REG_NEW", "SMP_PASS_RATE", "EQ_INSPECTION_RATE", "CP_ONTIME_RATE"} <= codes
        c.rollback()
        c.execute("set role msdw_bi")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select * from raw.complaints limit 1")


def test_rerun_is_idempotent(pipeline):
    """Re-running the same days loads nothing new (same sha256 → noop) and the marts do not change."""
    from msdw.orchestration.runner import run_range

    def marts_checksum():
        with psycopg.connect(pipeline["dsn"]) as c:
            return c.execute(
                "select md5(string_agg(t::text, '|' order by t::text)) from ("
                " select indicator_code, period_month, region_code, breakdown_type, breakdown_value,"
                " value, numerator, denominator, ytd_value from marts.indicator_monthly) t"
            ).fetchone()[0]

    def load_counts():
        with psycopg.connect(pipeline["dsn"]) as c:
            return dict(c.execute("select status, count(*) from audit.load_files group by status").fetchall())

    before, counts_before = marts_checksum(), load_counts()
    run_range(str(pipeline["landing"]), START, END)
    counts_after = load_counts()
    assert counts_after.get("loaded") == counts_before.get("loaded")
    assert counts_after.get("replaced", 0) == counts_before.get("replaced", 0)
    files = counts_before.get("loaded", 0) + counts_before.get("replaced", 0)
    assert counts_after.get("noop", 0) - counts_before.get("noop", 0) == files
    assert marts_checksum() == before
