"""Raw gates on a real PostgreSQL: volume vs the same-weekday baseline, W-rule shares, keys.

Rows and load records are written as the loader writes them (raw.<feed> with
_warnings, audit.load_files with rows_loaded), so the gate reads exactly what
production gives it. The gate runs as msdw_transformer: it never sees the
personal-data columns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from msdw.quality import GateFailed, run_gate

DAY = date(2025, 3, 3)  # a Monday
BASELINE_ROWS = 120


def _load(conn: psycopg.Connection, day: date, n: int, *, flagged: int = 0, dup: bool = False) -> None:
    """One loaded registration_events file of ``n`` rows (``flagged`` with a wrong USCC check digit)."""
    load_id = conn.execute("""
        insert into audit.load_files (source, feed, business_date, file_name, rows_in, rows_loaded, rows_quarantined,
                                      rows_warned, status, started_at)
        values ('registration', 'registration_events', %s, 'registration_events.csv', %s, %s, 0, %s, 'loaded', %s)
        returning load_id""", (day, n, n, flagged, datetime.now(UTC))).fetchone()[0]
    conn.execute("""
        insert into raw.registration_events (_load_id, _business_date, _source_file, _line_no, _warnings,
            event_id, uscc, entity_name, entity_type_code, region_code, established_date, event_type, approved_date,
            legal_representative)
        select %(load_id)s, %(day)s, 'registration_events.csv', g + 1,
               case when g <= %(flagged)s then array['uscc_check:uscc'] else '{}'::text[] end,
               'EV' || to_char(%(day)s::date, 'YYYYMMDD') || lpad(case when %(dup)s and g = 2 then 1 else g end::text, 6, '0'),
               '91330106MA27' || lpad(g::text, 6, '0'), '杭州测试' || g || '有限公司', '1100', '330106',
               %(day)s, '设立', %(day)s, '张三'
        from generate_series(1, %(n)s) g""", {"load_id": load_id, "day": day, "n": n, "flagged": flagged, "dup": dup})


@pytest.fixture
def history(warehouse_env):
    """Four earlier Mondays with BASELINE_ROWS rows each, and some other weekdays with much more."""
    with psycopg.connect(warehouse_env) as conn:
        for w in range(1, 5):
            _load(conn, DAY - timedelta(weeks=w), BASELINE_ROWS + w)
            _load(conn, DAY - timedelta(weeks=w) + timedelta(days=2), 5000)
        conn.commit()
    return warehouse_env


def _results(dsn: str, run_id: str) -> dict[str, tuple]:
    with psycopg.connect(dsn) as conn:
        conn.execute("set role msdw_auditor")
        rows = conn.execute("""select q.expectation_type || coalesce(':' || q.column_name, ''), q.success, q.observed_value,
                                      q.kwargs, r.parameters, r.business_date
                               from audit.quality_runs r join audit.quality_results q using (quality_run_id)
                               where r.run_id = %s""", (run_id,)).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_usual_day_passes(history):
    with psycopg.connect(history) as conn:
        _load(conn, DAY, 118, flagged=2)
        conn.commit()
    result = run_gate("raw_registration_events", run_id="r1", business_date=DAY)
    assert result.success, result.summary()
    got = _results(history, "r1")
    count = got["expect_table_row_count_to_be_between"]
    assert count[0] and count[2] == {"min_value": 12, "max_value": 613}  # median 122.5: × 0.1, × 5 (rounded outwards)
    assert count[3]["baseline_days"] == 4 and count[4] == DAY
    # personal data is neither checked nor visible
    assert not any("legal_representative" in k for k in got)


def test_ten_times_the_usual_volume_fails(history):
    with psycopg.connect(history) as conn:
        _load(conn, DAY, 10 * BASELINE_ROWS)
        conn.commit()
    with pytest.raises(GateFailed, match="expect_table_row_count_to_be_between"):
        run_gate("raw_registration_events", run_id="r2", business_date=DAY)
    got = _results(history, "r2")
    assert got["expect_table_row_count_to_be_between"][:2] == (False, "1200")


def test_warning_share_and_duplicate_key_fail(history):
    with psycopg.connect(history) as conn:
        _load(conn, DAY, 100, flagged=20, dup=True)
        conn.commit()
    with pytest.raises(GateFailed) as exc:
        run_gate("raw_registration_events", run_id="r3", business_date=DAY)
    assert "_w__uscc_check__uscc" in str(exc.value)
    got = _results(history, "r3")
    share = got["expect_column_mean_to_be_between:_w__uscc_check__uscc"]
    # 20 of 100 flagged: a true rate of 5 % gives more than 13 of 100 once in a thousand days or less
    assert share[0] is False and float(share[1]) == pytest.approx(0.2) and share[2]["max_value"] == 0.13
    assert share[3]["batch_rows"] == 100
    assert got["expect_column_values_to_be_unique:event_id"][0] is False
    assert got["expect_table_row_count_to_be_between"][0] is True


def test_new_feed_without_history_has_no_volume_bound(warehouse_env):
    with psycopg.connect(warehouse_env) as conn:
        _load(conn, DAY, 40)
        conn.commit()
    result = run_gate("raw_registration_events", run_id="r4")  # newest business date by default
    assert result.success and result.business_date == DAY


def test_one_flagged_row_of_a_tiny_day_is_not_a_failed_share(warehouse_env):
    """Three annual-report-sized rows, one pilot credit code: 33 % flagged, yet no evidence of a 5 % breach.

    (A feed without history: the volume bound does not apply, only the share is judged.)"""
    history = warehouse_env
    with psycopg.connect(history) as conn:
        _load(conn, DAY, 3, flagged=1)
        conn.commit()
    run_gate("raw_registration_events", run_id="r5", business_date=DAY, data_docs=False)
    got = _results(history, "r5")
    share = got["expect_column_mean_to_be_between:_w__uscc_check__uscc"]
    assert share[0] is True and share[2]["max_value"] == pytest.approx(2 / 3)
    # ... but a tiny day flagged throughout is
    later = DAY + timedelta(weeks=1)
    with psycopg.connect(history) as conn:
        _load(conn, later, 3, flagged=3)
        conn.commit()
    with pytest.raises(GateFailed, match="_w__uscc_check__uscc"):
        run_gate("raw_registration_events", run_id="r6", business_date=later, data_docs=False)


def test_source_gate_validates_every_feed_and_names_the_failed_one(history):
    """The ingest DAG's one gate_raw task (msdw.orchestration.tasks.gate_source): a failing feed does not stop
    the others being validated and recorded; the task fails naming the failed feed only."""
    from airflow.sdk.exceptions import AirflowFailException

    from msdw.orchestration.tasks import gate_source

    with psycopg.connect(history) as conn:
        _load(conn, DAY, 10 * BASELINE_ROWS)
        conn.execute("""insert into audit.load_files (source, feed, business_date, file_name, rows_in, rows_loaded,
                                                      rows_quarantined, rows_warned, status, started_at)
                        values ('registration', 'annual_reports', %s, 'annual_reports.csv', 0, 0, 0, 0, 'loaded', now())""",
                     (DAY,))  # out of season: a delivered file with no rows
        conn.commit()
    loaded = {"registration_events": {"delivered": [DAY.isoformat()]}, "annual_reports": {"delivered": [DAY.isoformat()]},
              "entity_snapshot": {"delivered": []}}  # the opening register is optional: not delivered, not gated
    with pytest.raises(AirflowFailException, match="raw gate failed for registration_events: ") as exc:
        gate_source("registration", [DAY], loaded, "r-src", "scheduled__x")
    assert "annual_reports" not in str(exc.value).split(":")[0]
    with psycopg.connect(history) as conn:
        runs = dict(conn.execute("select gate, success from audit.quality_runs where run_id = 'r-src'").fetchall())
    assert runs == {"raw_registration_events": False, "raw_annual_reports": True}
