"""Properties of the marts on generated data (msdw.generate), across a year end.

District sample data built for the jurisdiction 330100 杭州市 (the district
330106 is one of its counties): for every additive indicator the total row
equals the sum over counties and each breakdown adds up to 全部; rates lie in
[0, 100] with numerator ≤ denominator; the wide domain marts equal
indicator_monthly cell by cell (dbt tests of the same build, re-checked here
from Python so a disabled dbt test cannot hide a break).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import psycopg
import pytest

from msdw.dbt_runner import run_dbt
from msdw.generate import generate
from msdw.ingest import load_day

pytestmark = [pytest.mark.slow, pytest.mark.db]

START, END = date(2024, 12, 27), date(2025, 1, 6)
SOURCES = ("registration", "sampling", "equipment", "complaints")


@pytest.fixture(scope="module")
def built(module_warehouse, tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    generate(landing, START, END, profile="district", seed=3)
    day = START
    while day <= END:
        for source in SOURCES:
            load_day(str(landing), source, day)
        day += timedelta(days=1)
    target = tmp_path_factory.mktemp("dbt_target")
    result = run_dbt(["build", "--full-refresh"], vars={"jurisdiction": "330100", "msdw_run_id": "prop"},
                     conninfo=module_warehouse, target_path=target)
    return module_warehouse, result


def _rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def test_totals_and_breakdowns_add_up(built):
    dsn, _ = built
    additive = {r[0] for r in _rows(dsn, "select indicator_code from seeds.indicator_catalogue where is_additive")}
    rows = _rows(dsn, """
        select indicator_code, period_month, region_code, breakdown_type, breakdown_value,
               coalesce(numerator, value), coalesce(denominator, 0),
               coalesce(ytd_numerator, ytd_value), coalesce(ytd_denominator, 0)
        from marts_candidate.indicator_monthly""")
    assert rows
    by_key = {r[:5]: r[5:] for r in rows}
    county_sum: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0])
    breakdown_sum: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0])
    for code, month, region, btype, bvalue, *vals in rows:
        if code not in additive:
            continue
        if region != "330100":
            acc = county_sum[(code, month, "330100", btype, bvalue)]
            for i, v in enumerate(vals):
                acc[i] += v
        if btype != "全部":
            acc = breakdown_sum[(code, month, region, btype)]
            for i, v in enumerate(vals):
                acc[i] += v
    assert county_sum
    for key, sums in county_sum.items():
        assert list(by_key[key]) == sums, key
    for (code, month, region, btype), sums in breakdown_sum.items():
        assert list(by_key[(code, month, region, "全部", "全部")]) == sums, (code, month, region, btype)
    # the district's data is all in 330106: its rows equal the total rows
    assert any(k[2] == "330106" and v[0] > 0 for k, v in by_key.items())


def test_rates_and_months(built):
    dsn, _ = built
    bad = _rows(dsn, """
        select m.* from marts_candidate.indicator_monthly as m
        join seeds.indicator_catalogue as c using (indicator_code)
        where c.kind = 'rate' and (m.numerator > m.denominator or m.value not between 0 and 100
              or (m.denominator = 0) <> (m.value is null))""")
    assert bad == []
    months = {r[0] for r in _rows(dsn, "select distinct period_month from marts_candidate.indicator_monthly")}
    assert months == {date(2024, 12, 1), date(2025, 1, 1)}
    # January 2025 starts a new year: ytd = the month for flows
    assert _rows(dsn, """
        select count(*) from marts_candidate.indicator_monthly as m
        join seeds.indicator_catalogue as c using (indicator_code)
        where c.kind = 'flow' and m.period_month = '2025-01-01' and m.ytd_value <> m.value""") == [(0,)]
    # December 2024 was not fully loaded: last year unknown for January 2025 flows, not 0
    assert _rows(dsn, """select count(*) from marts_candidate.indicator_monthly
        where period_month = '2025-01-01' and same_period_last_year is not null""") == [(0,)]


def test_wide_marts_equal_indicator_monthly(built):
    dsn, result = built
    marts_tests = [r for r in result.results if "matches_indicator_monthly" in r["unique_id"]]
    assert len(marts_tests) == 4 and all(r["status"] == "pass" for r in marts_tests)
    got = _rows(dsn, """
        select w.reg_stock, w.reg_new_ytd, w.ar_rate_numerator, w.ar_rate_denominator
        from marts_candidate.registration_monthly as w where period_month = '2025-01-01' and region_code = '330100'""")
    want = _rows(dsn, """
        select max(value) filter (where indicator_code = 'REG_STOCK'),
               max(ytd_value) filter (where indicator_code = 'REG_NEW'),
               max(numerator) filter (where indicator_code = 'AR_RATE'),
               max(denominator) filter (where indicator_code = 'AR_RATE')
        from marts_candidate.indicator_monthly
        where period_month = '2025-01-01' and region_code = '330100' and breakdown_type = '全部'""")
    assert got == want and got[0][0] > 50_000
