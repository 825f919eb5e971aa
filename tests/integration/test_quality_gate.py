"""Marts gate and write–audit–publish on a real PostgreSQL.

Until the dbt marts land, the candidates are small tables with the columns of
marts.indicator_monthly (docs/contracts/indicators.md), built here as msdw_transformer (as dbt would). The tests check
business outcomes: a clean candidate passes and is published; a bad one
(a rate of 150, numerator > denominator, a 10× month) fails the gate, BI's
views keep returning exactly the previous figures and the audit names the
failed expectation; a corrected re-run publishes; restore re-points.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from msdw.quality import GateFailed, publish_marts, restore_publication, run_gate
from msdw.quality.publish import PublishError

JURISDICTION = "330100"
COUNTIES = {"330102": "上城区", "330106": "西湖区"}
MONTHS = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
AS_OF = date(2025, 3, 31)

# (code, name, unit, kind) -> per-county base value for January
INDICATORS = [
    ("REG_NEW", "新设市场主体", "户", "count", 300),
    ("CP_RECEIVED", "受理诉求", "件", "count", 200),
    ("REG_STOCK", "实有市场主体", "户", "count", 40000),
    ("SMP_PASS_RATE", "抽检合格率", "%", "rate", 100),
]

CANDIDATE_DDL = """
create table marts_candidate.indicator_monthly (
  indicator_code text, indicator_name_zh text, indicator_name_en text, unit text, period_month date,
  region_code text, region_name text, breakdown_type text, breakdown_value text,
  value numeric, numerator numeric, denominator numeric,
  ytd_value numeric, ytd_numerator numeric, ytd_denominator numeric,
  same_period_last_year numeric, yoy_growth_pct numeric, as_of_date date, published_run_id text);
comment on table marts_candidate.indicator_monthly is '月度指标';
comment on column marts_candidate.indicator_monthly.indicator_code is '指标代码';
comment on column marts_candidate.indicator_monthly.value is '本月数值';
create table marts_candidate.registration_monthly (
  period_month date, region_code text, region_name text, reg_new integer, reg_online_rate numeric,
  as_of_date date, published_run_id text);
comment on column marts_candidate.registration_monthly.reg_new is '新设市场主体（户）';
create table marts_candidate.sampling_monthly (
  period_month date, region_code text, smp_batches integer, smp_pass_rate numeric, as_of_date date);
create table marts_candidate.equipment_monthly (
  period_month date, region_code text, eq_in_use integer, eq_inspection_rate numeric, as_of_date date);
create table marts_candidate.complaints_monthly (
  period_month date, region_code text, cp_received integer, cp_ontime_rate numeric, as_of_date date);
"""


def build_candidates(dsn: str, *, run_id: str, scale: float = 1.0, march_reg_new_factor: float = 1.0,
                     bad_rate: float | None = None, numerator_over: bool = False) -> None:
    """Candidate marts as dbt would build them (msdw_transformer owns them)."""
    rows = []
    for mi, month in enumerate(MONTHS):
        for code, name, unit, kind, base in INDICATORS:
            per_region = {}
            for ci, (region, rname) in enumerate(COUNTIES.items()):
                v = int(base * scale * (1 + 0.05 * mi) + 10 * ci)
                if code == "REG_NEW" and month == MONTHS[-1]:
                    v = int(v * march_reg_new_factor)
                if kind == "rate":
                    den = 50 + 10 * ci + mi
                    num = den - 1 - ci
                    per_region[region] = (rname, round(num * 100 / den, 4), num, den)
                else:
                    per_region[region] = (rname, v, None, None)
            if kind == "rate":
                num = sum(x[2] for x in per_region.values())
                den = sum(x[3] for x in per_region.values())
                per_region[JURISDICTION] = ("杭州市", round(num * 100 / den, 4), num, den)
            else:
                per_region[JURISDICTION] = ("杭州市", sum(x[1] for x in per_region.values()), None, None)
            for region, (rname, value, num, den) in per_region.items():
                rows.append((code, name, code.lower(), unit, month, region, rname, "全部", "全部", value, num, den,
                             value, num, den, None, None, AS_OF, run_id))
    if bad_rate is not None:  # the January rate of one county
        rows = [r[:9] + (bad_rate,) + r[10:] if (r[0], r[4], r[5]) == ("SMP_PASS_RATE", MONTHS[0], "330102") else r
                for r in rows]
    if numerator_over:
        rows = [r[:10] + (r[11] + 5,) + r[11:] if (r[0], r[4], r[5]) == ("SMP_PASS_RATE", MONTHS[1], "330106") else r
                for r in rows]
    with psycopg.connect(dsn) as conn:
        conn.execute("set role msdw_transformer")
        for t in ("indicator_monthly", "registration_monthly", "sampling_monthly", "equipment_monthly", "complaints_monthly"):
            conn.execute(f"drop table if exists marts_candidate.{t}")
        conn.execute(CANDIDATE_DDL)
        with conn.cursor() as cur:
            cur.executemany("insert into marts_candidate.indicator_monthly values (%s" + ", %s" * 18 + ")", rows)
        for t, cols in (("registration_monthly", "reg_new, reg_online_rate"), ("sampling_monthly", "smp_batches, smp_pass_rate"),
                        ("equipment_monthly", "eq_in_use, eq_inspection_rate"), ("complaints_monthly", "cp_received, cp_ontime_rate")):
            conn.execute(f"""insert into marts_candidate.{t} (period_month, region_code, {cols}, as_of_date)
                             select m, r, 100, 97.5, %s from unnest(%s::date[]) m, unnest(%s::text[]) r""",
                         (AS_OF, MONTHS, [*COUNTIES, JURISDICTION]))
        conn.commit()


def bi_figures(dsn: str) -> list[tuple]:
    """What BI reads, as msdw_bi."""
    with psycopg.connect(dsn) as conn:
        conn.execute("set role msdw_bi")
        return conn.execute("""select indicator_code, period_month, region_code, value, numerator, denominator
                               from marts.indicator_monthly order by 1, 2, 3""").fetchall()


def failed_expectations(dsn: str, run_id: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        conn.execute("set role msdw_auditor")
        return conn.execute("""select r.relation, q.expectation_type, q.description, q.unexpected_examples
                               from audit.quality_runs r join audit.quality_results q using (quality_run_id)
                               where r.run_id = %s and not q.success order by r.relation, q.seq""", (run_id,)).fetchall()


@pytest.fixture
def wh(warehouse_env, monkeypatch):
    monkeypatch.setenv("MSDW_JURISDICTION", JURISDICTION)
    return warehouse_env


def test_clean_candidates_pass_and_publish(wh):
    build_candidates(wh, run_id="run-1")
    result = run_gate("marts", run_id="run-1", airflow_run_id="manual__1")
    assert result.success and len(result.relations) == 5
    pub = publish_marts(run_id="run-1", as_of_date=None, airflow_run_id="manual__1")
    assert pub.action == "publish" and pub.as_of_date == AS_OF
    assert pub.store_tables["indicator_monthly"] == f"marts_store.indicator_monthly__p{pub.publication_id}"
    figures = bi_figures(wh)
    assert len(figures) == len(MONTHS) * len(INDICATORS) * 3
    assert ("REG_NEW", MONTHS[0], JURISDICTION, 610, None, None) in figures  # 300 + 310
    with psycopg.connect(wh) as conn:
        # candidates moved (not copied) into the store; comments travel to the view
        assert conn.execute("select to_regclass('marts_candidate.indicator_monthly')").fetchone()[0] is None
        assert conn.execute("select col_description('marts.indicator_monthly'::regclass, 1)").fetchone()[0] == "指标代码"
        assert conn.execute("select obj_description('marts.indicator_monthly'::regclass)").fetchone()[0] == "月度指标"
        runs = conn.execute("select count(*), bool_and(success), sum(evaluated) from audit.quality_runs where run_id = 'run-1'").fetchone()
        assert runs[0] == 5 and runs[1] and runs[2] == result.evaluated
        conn.execute("set role msdw_auditor")
        assert conn.execute("select count(*) from marts.registration_monthly").fetchone()[0] == 9


def test_bad_candidate_fails_keeps_previous_and_recovers(wh):
    build_candidates(wh, run_id="run-1")
    run_gate("marts", run_id="run-1")
    first = publish_marts(run_id="run-1", as_of_date=AS_OF)
    before = bi_figures(wh)

    # run 2: a rate of 150, a numerator above its denominator, 10× the registrations in March
    build_candidates(wh, run_id="run-2", scale=1.02, bad_rate=150, numerator_over=True, march_reg_new_factor=10)
    with pytest.raises(GateFailed) as exc:
        run_gate("marts", run_id="run-2", airflow_run_id="scheduled__2")
    message = str(exc.value)
    assert "rates (unit %) lie within" in message and "month over month" in message
    with pytest.raises(PublishError):
        publish_marts(run_id="run-2", as_of_date=AS_OF)  # a failed gate publishes nothing
    assert bi_figures(wh) == before
    failed = failed_expectations(wh, "run-2")
    descriptions = " | ".join(f[2] for f in failed)
    assert "rates (unit %) lie within rate_min..rate_max" in descriptions
    assert "numerator is never above its denominator" in descriptions
    assert "month over month" in descriptions
    mom = next(f for f in failed if "month over month" in f[2])
    assert mom[3][0]["indicator_code"] == "REG_NEW"

    # corrected re-run of the same month publishes; the audit has both runs
    build_candidates(wh, run_id="run-3", scale=1.02)
    run_gate("marts", run_id="run-3")
    second = publish_marts(run_id="run-3", as_of_date=AS_OF)
    assert second.replaces_publication_id == first.publication_id
    after = bi_figures(wh)
    assert after != before
    with psycopg.connect(wh) as conn:
        conn.execute("set role msdw_auditor")
        runs = dict(conn.execute("""select run_id, bool_and(success) from audit.quality_runs
                                    where gate = 'marts' group by run_id""").fetchall())
    assert runs == {"run-1": True, "run-2": False, "run-3": True}

    # restore: BI sees the first publication's figures again, recorded as a new publication
    restored = restore_publication(first.publication_id)
    assert restored.action == "restore" and restored.restored_from_publication_id == first.publication_id
    assert restored.replaces_publication_id == second.publication_id
    assert bi_figures(wh) == before


def test_audit_is_append_only(wh):
    build_candidates(wh, run_id="run-1")
    run_gate("marts", run_id="run-1")
    publish_marts(run_id="run-1", as_of_date=AS_OF)
    with psycopg.connect(wh) as conn:
        for t in ("quality_runs", "quality_results", "publications"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(f"delete from audit.{t}")
            conn.rollback()
