"""End to end below Airflow: generate a district half-month, load it, ``dbt build`` all green.

The second half of June (the opening register, annual reports in season, every
feed daily), then one more day — the first of the next month — is loaded and
built incrementally; the incremental facts must
equal a full refresh. Build times are printed (``pytest -s``) for docs/warehouse.md.
"""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest

from msdw.contracts import SOURCES
from msdw.dbt_runner import run_dbt
from msdw.generate import generate
from msdw.ingest.loader import load_day

pytestmark = [pytest.mark.slow, pytest.mark.db]

START = dt.date(2025, 6, 16)  # a Monday; a whole month only adds load calls of the same kind
END = dt.date(2025, 6, 30)
NEXT = END + dt.timedelta(days=1)
INCREMENTAL_FACTS = ("fct_registration_event", "fct_annual_report", "fct_rapid_test", "fct_complaint",
                     "fct_complaint_status_history")


def _load(landing: str, dsn: str, first: dt.date, last: dt.date) -> None:
    d = first
    while d <= last:
        for source in SOURCES:
            load_day(landing, source, d, conninfo=dsn)
        d += dt.timedelta(days=1)


def _facts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {
            t: conn.execute(
                psycopg.sql.SQL("select count(*), md5(string_agg(r::text, '|' order by r::text)) from warehouse.{} as r")
                .format(psycopg.sql.Identifier(t))
            ).fetchone()
            for t in INCREMENTAL_FACTS
        }


def test_generated_month_builds_green(warehouse_env, tmp_path) -> None:
    landing = str(tmp_path / "landing")
    generate(tmp_path / "landing", START, NEXT, seed=5)
    _load(landing, warehouse_env, START, END)
    target = tmp_path / "target"

    t0 = time.perf_counter()
    run_dbt(["build"], conninfo=warehouse_env, target_path=target)  # raises with the failing nodes
    full = time.perf_counter() - t0

    _load(landing, warehouse_env, NEXT, NEXT)
    t0 = time.perf_counter()
    run_dbt(["build", "--exclude", "resource_type:seed"], conninfo=warehouse_env, target_path=target)
    incremental = time.perf_counter() - t0
    after_incremental = _facts(warehouse_env)

    run_dbt(["run", "--select", "warehouse", "--full-refresh"], conninfo=warehouse_env, target_path=target)
    assert _facts(warehouse_env) == after_incremental
    with psycopg.connect(warehouse_env) as conn:
        n_tickets = conn.execute("select count(*) from warehouse.fct_complaint").fetchone()[0]
        n_entities = conn.execute("select count(*) from warehouse.dim_market_entity where is_current").fetchone()[0]
    assert n_tickets > 0 and n_entities > 0
    print(f"\ndbt build month: {full:.1f}s; one-day incremental build: {incremental:.1f}s; "
          f"tickets {n_tickets}, entities {n_entities}")


# --- the registration models rebuilt per entity / per register delivery ----------------------------------------
REGISTRATION_MODELS = ("staging.stg_registration__entity_snapshot", "warehouse.fct_entity_opening",
                       "warehouse.dim_market_entity", "warehouse.fct_registration_event", "warehouse.fct_annual_report")


def _registration_state(dsn: str) -> dict[str, tuple]:
    """Count and checksum of each model, without the run id that says which run wrote a row."""
    with psycopg.connect(dsn) as conn:
        return {m: conn.execute(f"""select count(*), md5(coalesce(string_agg(j, '|' order by j), ''))
                                    from (select (to_jsonb(r) - 'msdw_run_id')::text as j from {m} as r) x"""
                                ).fetchone() for m in REGISTRATION_MODELS}


def _redeliver(landing, source: str, day: dt.date, feed_name: str, edit) -> None:
    """Rewrite one delivered CSV with ``edit(rows) -> rows`` (header kept) and its manifest entry."""
    import csv
    import hashlib
    import io
    import json

    d = landing / source / day.isoformat()
    path = d / f"{feed_name}.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header, data = rows[0], edit(rows[0], rows[1:])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *data])
    path.write_bytes(buf.getvalue().encode("utf-8"))
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        if f["name"] == path.name:
            f["rows"], f["sha256"] = len(data), hashlib.sha256(path.read_bytes()).hexdigest()
    (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_registration_models_incremental_equals_full_refresh(warehouse_env, tmp_path) -> None:
    """A new day rebuilds only its entities; a corrected day of events or a corrected register rebuilds
    everything; after each, the incremental tables equal a full refresh."""
    landing = tmp_path / "landing"
    days = [dt.date(2025, 6, 2) + dt.timedelta(days=i) for i in range(4)]
    generate(landing, days[0], days[-1], seed=9)
    target = tmp_path / "target"
    _load(str(landing), warehouse_env, days[0], days[2])
    # the registration models and what they read (seeds in dbt's own selector syntax: +model)
    models = ["+" + m.split(".")[1] for m in REGISTRATION_MODELS] + ["dim_region", "dim_entity_type", "dim_industry"]
    run_dbt(["seed", "--select", "industries", "industry_classes", "entity_types", "regions"], conninfo=warehouse_env,
            target_path=target)
    run_dbt(["run", "--select", *models], conninfo=warehouse_env, target_path=target)
    # incremental runs as the daily transform makes them: models and their tests, scoped to the run
    incremental = ["build", "--select", *models, "--exclude", "resource_type:unit_test", "resource_type:seed",
                   "--indirect-selection", "cautious"]
    full = ["run", "--select", *models, "--exclude", "resource_type:seed", "--full-refresh"]

    def incremental_then_full(run_id: str) -> dict[str, tuple]:
        run_dbt(incremental, vars={"msdw_run_id": run_id}, conninfo=warehouse_env, target_path=target,
                test_scope="changed")
        after = _registration_state(warehouse_env)
        run_dbt(full, vars={"msdw_run_id": "full"}, conninfo=warehouse_env, target_path=target)
        assert _registration_state(warehouse_env) == after, run_id
        return after

    def rewritten(run_id: str) -> tuple[int, int]:
        with psycopg.connect(warehouse_env) as conn:
            return conn.execute("select count(*) filter (where msdw_run_id = %s), count(*) from warehouse.dim_market_entity",
                                (run_id,)).fetchone()

    # 1. a new day of events: only the entities it touches are rebuilt — including the entity an
    #    event is taken from when the new day re-sends it under another credit code (a correction)
    import csv
    import io

    day2 = list(csv.reader(io.StringIO((landing / "registration" / days[1].isoformat() / "registration_events.csv")
                                       .read_text(encoding="utf-8"), newline="")))
    register = list(csv.reader(io.StringIO((landing / "registration" / days[0].isoformat() / "entity_snapshot.csv")
                                           .read_text(encoding="utf-8"), newline="")))
    # an enterprise's event (a 主体类型代码, so any 91 code may carry it) moved to an enterprise of the register
    moved = next(e for e in (dict(zip(day2[0], r, strict=True)) for r in day2[1:]) if e["主体类型代码"])
    moved["统一社会信用代码"] = next(r["统一社会信用代码"] for r in (dict(zip(register[0], x, strict=True)) for x in register[1:])
                                 if r["统一社会信用代码"].startswith("91") and r["统一社会信用代码"] != moved["统一社会信用代码"])

    def resend_moved(header, rows):
        return [*rows, [moved[h] for h in header]]
    _redeliver(landing, "registration", days[3], "registration_events", resend_moved)
    _load(str(landing), warehouse_env, days[3], days[3])
    with psycopg.connect(warehouse_env) as conn:
        assert conn.execute("select uscc from staging.stg_registration__registration_events where event_id = %s",
                            (moved["业务流水号"],)).fetchall() == [(moved["统一社会信用代码"],)]
    run_dbt(incremental, vars={"msdw_run_id": "inc-new-day"}, conninfo=warehouse_env, target_path=target,
            test_scope="changed")
    touched, total = rewritten("inc-new-day")
    assert 0 < touched < total / 10
    after = _registration_state(warehouse_env)
    run_dbt(full, vars={"msdw_run_id": "full"}, conninfo=warehouse_env, target_path=target)
    assert _registration_state(warehouse_env) == after

    # 2. a corrected day of events (one event dropped, one turned into a cancellation): everything rebuilt
    def correct_events(header, rows):
        t = header.index("业务类型")
        rows[1][t] = "注销"
        return rows[1:]
    _redeliver(landing, "registration", days[1], "registration_events", correct_events)
    assert [r.status for r in load_day(str(landing), "registration", days[1], conninfo=warehouse_env)
            if r.feed == "registration_events"] == ["replaced"]
    run_dbt(incremental, vars={"msdw_run_id": "inc-corrected-events"}, conninfo=warehouse_env, target_path=target,
            test_scope="changed")
    assert rewritten("inc-corrected-events")[0] == rewritten("inc-corrected-events")[1]  # every entity rebuilt
    # (compared with a full refresh after step 3, which leaves the event facts as this step made them)

    # 3. a corrected opening register (one entity's status): the register models are rebuilt
    def correct_register(header, rows):
        s = header.index("登记状态")
        rows[0][s] = "吊销" if rows[0][s] != "吊销" else "存续"
        return rows
    _redeliver(landing, "registration", days[0], "entity_snapshot", correct_register)
    assert [r.status for r in load_day(str(landing), "registration", days[0], conninfo=warehouse_env)
            if r.feed == "entity_snapshot"] == ["replaced"]
    incremental_then_full("inc-corrected-register")
