"""The warehouse gate on facts built by the real dbt project (raw fixture → staging → facts)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from msdw.dbt_runner import run_dbt
from msdw.quality import GateFailed, run_gate

FIXTURE = Path(__file__).with_name("test_dbt_raw_fixture.sql")

pytestmark = pytest.mark.slow


def test_warehouse_gate_passes_then_catches_a_broken_fact(warehouse_env, tmp_path):
    with psycopg.connect(warehouse_env) as conn:
        conn.execute(FIXTURE.read_text(encoding="utf-8"))
    run_dbt(["build", "--full-refresh", "--exclude", "test_type:unit"], conninfo=warehouse_env, target_path=tmp_path / "target")

    result = run_gate("warehouse", run_id="wh-1")
    assert result.success, result.summary()
    assert {r.relation for r in result.relations} >= {"warehouse.fct_registration_event", "warehouse.fct_complaint"}

    with psycopg.connect(warehouse_env) as conn:  # a duplicated event and a region unknown to the seed
        conn.execute("set role msdw_transformer")
        conn.execute("""insert into warehouse.fct_registration_event
                        select * from warehouse.fct_registration_event limit 1""")
        conn.execute("update warehouse.fct_complaint set region_code = '999999' where ticket_id = 'TS001'")
        conn.commit()
    with pytest.raises(GateFailed) as exc:
        run_gate("warehouse", run_id="wh-2")
    msg = str(exc.value)
    assert "fct_registration_event: expect_column_values_to_be_unique column event_id" in msg
    assert "fct_complaint: unexpected_rows_expectation" in msg and "999999" in msg
