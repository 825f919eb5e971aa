"""dbt builds the warehouse on a real, bootstrapped PostgreSQL (seeds → staging → dims/facts).

Raw rows come from ``test_dbt_raw_fixture.sql`` (the loader's normalised
form). The module builds once and checks business outcomes: latest state
across deliveries, SCD2 versions, working-day due dates across the 2024
National Day holiday with its make-up working days, and that an incremental
run after a re-delivered day equals a full refresh.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from msdw.dbt_runner import DbtRunError, run_dbt

FIXTURE = Path(__file__).with_name("test_dbt_raw_fixture.sql")

pytestmark = [pytest.mark.slow, pytest.mark.db]


@pytest.fixture(scope="module")
def built(module_warehouse, tmp_path_factory):
    with psycopg.connect(module_warehouse) as conn:
        conn.execute(FIXTURE.read_text(encoding="utf-8"))
    target = tmp_path_factory.mktemp("dbt_target")
    run_dbt(["build", "--full-refresh"], conninfo=module_warehouse, target_path=target)
    return module_warehouse, target


def _rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def test_complaint_due_dates_across_national_day(built):
    dsn, _ = built
    got = {r[0]: r[1:] for r in _rows(dsn, """
        select ticket_id, due_date::text, due_date_source, is_ontime, handling_workdays, is_accepted, is_closed
        from warehouse.fct_complaint""")}
    # 投诉 accepted on the make-up Sunday 2024-09-29 + 45 working days; closed on the
    # make-up Saturday 2024-10-12 after 7 working days (09-29, 09-30, 10-08..10-12)
    assert got["TS001"] == ("2024-12-05", "derived", True, 7, True, True)
    # 举报: 15 working days after 2024-09-30 skip 10-01..10-07 → 2024-10-25; closed 10-28: late
    assert got["JB001"] == ("2024-10-25", "derived", False, 16, True, True)
    # the work order's own 办理期限 wins
    assert got["ZX001"][:3] == ("2024-10-10", "work_order", True)
    assert got["TS002"][4:] == (False, False)


def test_latest_state_and_history(built):
    dsn, _ = built
    assert _rows(dsn, "select status, closed_date::text from warehouse.fct_complaint where ticket_id = 'TS001'") == [
        ("已办结", "2024-10-12")
    ]
    assert [r[0] for r in _rows(dsn, """select status from warehouse.fct_complaint_status_history
        where ticket_id = 'TS001' order by business_date""")] == ["待受理", "已受理", "已办结"]
    # EV1 was re-delivered the next day with another channel: the later delivery wins
    assert _rows(dsn, "select channel from warehouse.fct_registration_event where event_id = 'EV1'") == [("窗口",)]
    assert _rows(dsn, """select disposal_status, is_disposal_completed from warehouse.fct_sampling_result
        where sample_no = 'DC24330106002'""") == [("已完成", True)]
    assert _rows(dsn, "select is_rectified from warehouse.fct_equipment_hazard") == [(True,)]


def test_entity_dimension(built):
    dsn, _ = built
    current = {r[0]: r[1:] for r in _rows(dsn, """
        select uscc, entity_category, registration_status, industry_section, cancelled_date::text
        from warehouse.dim_market_entity where is_current""")}
    assert current["913301061111111111"] == ("企业", "存续", "H", None)  # 变更 moved it from F to H
    assert current["923301062222222222"][0] == "个体工商户"
    assert current["933301063333333333"] == ("农民专业合作社", "注销", "A", "2024-01-03")
    assert _rows(dsn, """select event_id from warehouse.fct_registration_event
        where is_individual_to_enterprise""") == [("EV5",)]


def test_equipment_scd2_and_inferred_member(built):
    dsn, _ = built
    rows = _rows(dsn, """select equipment_code, status, valid_from::text, valid_to::text, is_current, is_inferred
        from warehouse.dim_equipment order by equipment_code, valid_from""")
    assert ("EQ0001", "在用", "2023-05-01", "2024-02-01", False, False) in rows
    assert ("EQ0001", "停用", "2024-02-01", "9999-12-31", True, False) in rows
    assert ("EQ0999", None, "1900-01-01", "9999-12-31", True, True) in rows
    unit = _rows(dsn, "select unit, is_pipeline from warehouse.dim_equipment where equipment_code = 'EQ0002'")
    assert unit == [("米", True)]


FACTS = ["fct_registration_event", "fct_annual_report", "fct_rapid_test", "fct_complaint", "fct_complaint_status_history"]


def _snapshot(dsn: str) -> dict[str, list[tuple]]:
    out = {}
    for t in FACTS:
        out[t] = sorted(map(repr, _rows(dsn, f"select * from warehouse.{t}")))  # noqa: S608 - fixed names
    return out


def test_incremental_redelivery_equals_full_refresh(built):
    dsn, target = built
    with psycopg.connect(dsn) as conn:
        # what the loader does (raw rows and their audit rows in one go): 2024-10-28 re-delivered as
        # load 17 ('replaced'), correcting TS002; a new day 2024-10-29 (load 18) with a new ticket;
        # rapid tests of 2024-01-02 re-delivered as load 19 without KJ002
        conn.execute("update raw.complaints set _load_id = 17 where _load_id = 16")
        conn.execute("delete from raw.complaints where _load_id = 17 and ticket_id = 'TS002'")
        conn.execute("""insert into raw.complaints (_load_id, _business_date, _source_file, _line_no, ticket_id, channel,
            ticket_type, received_at, status, category, region_code, complainant_hash)
            values (17, '2024-10-28', 'complaints.csv', 4, 'TS002', '信访', '投诉', '2024-10-20 08:30', '已受理',
            '服装鞋帽类', '330105', 'hash-a'),
            (18, '2024-10-29', 'complaints.csv', 2, 'TS003', '12315平台', '投诉', '2024-10-29 08:30', '待受理',
            '交通工具类', '330106', 'hash-d')""")
        conn.execute("delete from raw.rapid_tests where test_id = 'KJ002'")
        conn.execute("update raw.rapid_tests set _load_id = 19 where _business_date = '2024-01-02'")
        conn.execute("""insert into audit.load_files (load_id, source, feed, business_date, file_name, status, rows_in,
            rows_loaded, rows_quarantined, replaces_load_id, started_at) overriding system value values
            (17, 'complaints', 'complaints', '2024-10-28', 'complaints.csv', 'replaced', 3, 3, 0, 16, now()),
            (18, 'complaints', 'complaints', '2024-10-29', 'complaints.csv', 'loaded', 1, 1, 0, null, now()),
            (19, 'sampling', 'rapid_tests', '2024-01-02', 'rapid_tests.csv', 'replaced', 1, 1, 0, 7, now())""")
    run_dbt(["build", "--select", "staging", "warehouse"], conninfo=dsn, target_path=target, test_scope="changed")
    incremental = _snapshot(dsn)
    assert any("TS003" in r for r in incremental["fct_complaint"])
    assert not any("KJ002" in r for r in incremental["fct_rapid_test"])
    run_dbt(["run", "--select", "warehouse", "--full-refresh"], conninfo=dsn, target_path=target)
    assert _snapshot(dsn) == incremental


def test_failure_names_the_failing_node(built):
    dsn, target = built
    with pytest.raises(DbtRunError) as err:
        run_dbt(["test", "--select", "fct_complaint"], vars={"jurisdiction": "330106"}, conninfo="dbname=__nope__ host=127.0.0.1 connect_timeout=2", target_path=target)
    assert "dbt test" in str(err.value)


def test_reference_data_is_seeded_only_when_it_changed(built):
    from msdw.dbt_runner import seed_fingerprint, seed_if_changed

    dsn, target = built
    assert seed_if_changed("seed-1", conninfo=dsn, target_path=target) is True  # no version recorded yet
    assert seed_if_changed("seed-2", conninfo=dsn, target_path=target) is False  # same files: nothing to do
    fingerprint, files = seed_fingerprint()
    rows = _rows(dsn, "select fingerprint, files, run_id from audit.seed_loads order by seed_load_id")
    assert rows == [(fingerprint, files, "seed-1")] and "calendar_cn.csv" in files
    with psycopg.connect(dsn) as conn:  # a wiped seed table is reloaded whatever the fingerprint says
        conn.execute("drop table seeds.ticket_time_limits cascade")
    assert seed_if_changed("seed-3", conninfo=dsn, target_path=target) is True
    assert _rows(dsn, "select count(*) from seeds.ticket_time_limits")[0][0] > 0
