"""Generated deliveries through the real loader: clean data loads clean, every defect lands as listed.

This is the contract between the generator and the loader: the sidecar's
``expected`` level (R quarantined, W flagged, ok clean) must be what the
loader does with that line.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import psycopg
import pytest

from msdw.contracts import SOURCES, all_feeds
from msdw.generate import generate
from msdw.ingest.loader import load_day

pytestmark = pytest.mark.db

D0 = dt.date(2025, 6, 27)
D1 = dt.date(2025, 6, 30)


def _load(out, dsn) -> tuple[Counter, Counter]:
    q, w = Counter(), Counter()
    d = D0
    while d <= D1:
        for source in SOURCES:
            for r in load_day(str(out), source, d, conninfo=dsn):
                assert r.rows_in == r.rows_loaded + r.rows_quarantined
                q.update({(r.feed, k): v for k, v in r.quarantine_by_rule.items()})
                w.update({(r.feed, k): v for k, v in r.warnings_by_rule.items()})
        d += dt.timedelta(days=1)
    return q, w


def test_clean_generated_data_loads_without_quarantine(warehouse_env, tmp_path) -> None:
    out = tmp_path / "landing"
    s = generate(out, D0, D1, seed=2, formats=("csv", "bom", "gb18030", "xlsx"))
    q, w = _load(out, warehouse_env)
    assert not q, q
    assert not w, w  # (an inspection before its registry row is judged by the raw gate, not flagged in raw)
    with psycopg.connect(warehouse_env) as conn:
        n = conn.execute("select count(*) from raw.entity_snapshot").fetchone()[0]
    assert n == s.rows["entity_snapshot"]


def test_every_defect_lands_where_the_sidecar_says(warehouse_env, tmp_path) -> None:
    out = tmp_path / "landing"
    generate(out, D0, D1, seed=3, defects=0.03, formats=("csv", "xlsx"))
    _load(out, warehouse_env)
    recs = [json.loads(x) for x in (out / "_generator" / "defects.jsonl").read_text(encoding="utf-8").splitlines()]
    quarantined, flagged = set(), {}
    with psycopg.connect(warehouse_env) as conn:
        for f in all_feeds():
            for bd, ln in conn.execute(f"select _business_date, _line_no from quarantine.{f.name}"):
                quarantined.add((f.name, bd.isoformat(), ln))
            for bd, ln, warns in conn.execute(f"select _business_date, _line_no, _warnings from raw.{f.name}"):
                flagged[(f.name, bd.isoformat(), ln)] = warns
    outcome = Counter()
    for r in recs:
        key = (r["feed"], r["business_date"], r["line"])
        if key in quarantined:
            got = "R"
        elif key in flagged and any(x.startswith(r["expected"]["rule"] + ":") for x in flagged[key]):
            got = "W"
        elif key in flagged:
            got = "ok"
        else:
            got = "missing"
        outcome[(r["kind"], r["expected"]["level"], got)] += 1
    wrong = {k: v for k, v in outcome.items() if k[1] != k[2]}
    assert not wrong, (wrong, outcome)
    assert {k[0] for k in outcome} >= {"uscc_format", "uscc_check", "bad_date", "duplicate_key", "whitespace"}


def _tables(dsn: str) -> dict[str, list[str]]:
    """Every raw and quarantine row (without the load id, which differs by design), sorted."""
    out = {}
    with psycopg.connect(dsn) as conn:
        for f in all_feeds():
            for schema in ("raw", "quarantine"):
                rows = conn.execute(f"select (to_jsonb(t) - '_load_id')::text from {schema}.{f.name} t").fetchall()
                out[f"{schema}.{f.name}"] = sorted(r[0] for r in rows)
    return out


def test_checks_in_chunks_give_the_tables_of_one_chunk(warehouse_env, pg_admin_dsn, tmp_path, monkeypatch) -> None:
    """The loader checks each chunk of records while it reads the next (loader._STAGE_ROWS): chunk
    boundaries must change nothing, duplicate keys in different chunks included."""
    from msdw.bootstrap import bootstrap
    from msdw.ingest import loader
    from msdw.warehouse import create_database

    out = tmp_path / "landing"
    generate(out, D0, D0 + dt.timedelta(days=1), seed=3, defects=0.05, formats=("csv", "xlsx"))
    name = f"msdw_t_chunks_{tmp_path.name[-8:]}".replace("-", "_").lower()
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        c.execute(f'drop database if exists "{name}" with (force)')
        create_database(c, name)
    chunked = psycopg.conninfo.make_conninfo(pg_admin_dsn, dbname=name)
    try:
        bootstrap(chunked)
        results = {}
        for dsn, stage_rows in ((warehouse_env, 10**9), (chunked, 5)):
            # one chunk per file (stage 1 inlined into stage 2) vs chunks of 5 records through _typed
            monkeypatch.setattr(loader, "_FIRST_STAGE_ROWS", stage_rows)
            monkeypatch.setattr(loader, "_STAGE_ROWS", stage_rows)
            d = D0
            while d <= D0 + dt.timedelta(days=1):
                for source in SOURCES:
                    for r in load_day(str(out), source, d, conninfo=dsn):
                        results.setdefault(dsn, []).append((r.feed, d, r.rows_in, r.rows_loaded, r.rows_quarantined,
                                                            r.rows_warned, r.quarantine_by_rule, r.warnings_by_rule))
                d += dt.timedelta(days=1)
        assert results[warehouse_env] == results[chunked]
        one, many = _tables(warehouse_env), _tables(chunked)
        assert one == many
        # not vacuous: files of many chunks, and duplicate keys whose first line is in an earlier chunk
        assert max(r[2] for r in results[chunked]) > 20 * 5
        with psycopg.connect(chunked) as conn:
            dups = sum(conn.execute(f"select count(*) from quarantine.{f.name}, jsonb_array_elements(reasons) r "
                                    "where r->>'rule' = 'unique'").fetchone()[0] for f in all_feeds())
        assert dups > 0
    finally:
        with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
            c.execute(f'drop database if exists "{name}" with (force)')
