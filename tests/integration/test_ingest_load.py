"""The loader end to end against a real PostgreSQL: files in the landing zone → raw / quarantine / audit."""

from __future__ import annotations

import hashlib
import io
import json
import sys

import psycopg
import pytest
from ingest_helpers import BD, VALID, csv_bytes, deliver, row

from msdw.contracts import STATEFUL_RULES, all_feeds, feed
from msdw.errors import DeliveryRefused, FileRefused
from msdw.ingest import load_day, load_feed, manifest_ready, verify_delivery
from msdw.quality import GateFailed, run_gate


@pytest.fixture
def landing(tmp_path):
    return tmp_path / "landing"


def q(dsn: str, sql: str, params=None):
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def audit(dsn, feed_name):
    return q(dsn, "select status, rows_in, rows_loaded, rows_quarantined, replaces_load_id, message, extra_columns, "
                  "quarantine_by_rule, warnings_by_rule, load_id from audit.load_files where feed = %s order by load_id",
             (feed_name,))


@pytest.mark.parametrize("source", ["registration", "sampling", "equipment", "complaints"])
def test_every_feed_loads_a_valid_file(warehouse_env, landing, source):
    feeds = [f for f in all_feeds() if f.source == source]
    files = {f"{f.name}.csv": csv_bytes(f.name, [row(f.name)]) for f in feeds}
    deliver(landing, source, files)
    assert manifest_ready(str(landing), source, BD)
    results = load_day(str(landing), source, BD)
    assert {r.feed for r in results} == {f.name for f in feeds}
    for r in results:
        assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) == ("loaded", 1, 1, 0), r
        assert r.warnings_by_rule == {}, r
        assert q(warehouse_env, f"select count(*) from raw.{r.feed}")[0][0] == 1


def test_values_are_typed_and_normalised(warehouse_env, landing):
    r = row("complaints", ticket_id=" t-00１ ", amount_involved="１,２３４.５０", received_at="2024年5月8日 9:05",
            accepted_date="20240508", respondent_uscc="９１３３０１０６ma2b0exh2d ", complainant_phone="")
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [r])})
    [res] = load_day(str(landing), "complaints", BD)
    assert res.rows_loaded == 1, res
    got = q(warehouse_env, "select ticket_id, amount_involved, received_at::text, accepted_date::text, respondent_uscc, "
                           "complainant_phone, complainant_hash, _line_no from raw.complaints")[0]
    assert got[:6] == ("T-001", 1234.5, "2024-05-08 09:05:00", "2024-05-08", "91330106MA2B0EXH2D", None)
    import hmac

    expected = hmac.new(b"test-key-not-a-secret", b"11010519491231002X", hashlib.sha256).hexdigest()
    assert got[6] == expected and got[7] == 2


# --- every rule, table-driven: (feed, changes, expected (rule, field, level)) -----------------
RULE_CASES = [
    ("registration_events", {"event_id": ""}, ("required", "event_id", "R")),
    ("registration_events", {"established_date": "2024-02-30"}, ("parse", "established_date", "R")),
    ("registration_events", {"registered_capital": "12a"}, ("parse", "registered_capital", "R")),
    ("annual_reports", {"report_year": "二〇二三"}, ("parse", "report_year", "R")),
    ("complaints", {"received_at": "2024-05-08 25:00"}, ("parse", "received_at", "R")),
    ("equipment_registry", {"key_supervision": "也许"}, ("parse", "key_supervision", "R")),
    ("registration_events", {"uscc": "91330106MA2B0EXH2I"}, ("uscc_format", "uscc", "R")),
    ("registration_events", {"uscc": "91330106MA2B0EXH2E"}, ("uscc_check", "uscc", "W")),
    ("complaints", {"complainant_id_no": "110105194912310021"}, ("ric_check", "complainant_id_no", "W")),
    ("complaints", {"complainant_phone": "1234567"}, ("mobile_cn", "complainant_phone", "W")),
    ("registration_events", {"region_code": "33010"}, ("digits", "region_code", "R")),
    ("complaints", {"channel": "微博"}, ("in_set", "channel", "R")),
    ("complaints", {"category": "不存在的类别"}, ("in_ref", "category", "R")),
    ("sampling_results", {"product_category": "粮食加工品", "program": "化妆品抽检"}, ("in_ref", "product_category", "R")),
    ("registration_events", {"region_code": "110101"}, ("in_ref", "region_code", "W")),
    ("registration_events", {"entity_type_code": "0000"}, ("entity_type", "entity_type_code", "R")),
    ("registration_events", {"entity_type_code": ""}, ("entity_type", "entity_type_code", "R")),
    ("registration_events", {"industry_code": "A5292"}, ("industry_code", "industry_code", "W")),
    ("registration_events", {"established_date": "2024-05-08"}, ("le", "established_date", "R")),
    ("complaints", {"accepted_date": "2024-05-07"}, ("ge", "accepted_date", "R")),
    ("complaints", {"recovered_amount": "5000"}, ("le", "recovered_amount", "W")),
    ("registration_events", {"approved_date": "2024-05-09"}, ("le_business_date", "approved_date", "R")),
    ("complaints", {"received_at": "2024-05-09 00:00:00"}, ("le_business_date", "received_at", "R")),
    ("registration_events", {"approved_date": "2024-03-01", "established_date": "2024-03-01"}, ("ge_business_date", "approved_date", "W")),
    ("annual_reports", {"report_year": "2024"}, ("lt_business_year", "report_year", "R")),
    ("complaints", {"amount_involved": "-1"}, ("nonneg", "amount_involved", "R")),
    ("equipment_registry", {"next_inspection_due": ""}, ("required_when", "next_inspection_due", "R")),
    ("sampling_results", {"failed_items": "菌落总数"}, ("empty_when", "failed_items", "R")),
    ("sampling_results", {"disposal_date": "2024-05-01"}, ("present_iff", "disposal_date", "R")),
    ("equipment_inspections", {"equipment_code": "UNKNOWN-DEVICE"}, ("known_in", "equipment_code", "W")),
]


def test_rule_cases_cover_the_vocabulary():
    from msdw.contracts import RULES

    covered = {c[2][0] for c in RULE_CASES}
    assert set(RULES) <= covered, set(RULES) - covered
    assert {"required", "parse"} <= covered


@pytest.mark.parametrize("feed_name, changes, expected", RULE_CASES, ids=[f"{c[2][0]}-{c[2][1]}" for c in RULE_CASES])
def test_each_rule_is_caught_with_its_reason(warehouse_env, landing, feed_name, changes, expected):
    rule, field, level = expected
    f = feed(feed_name)
    good, bad = row(feed_name), row(feed_name, **changes)
    if not set(f.key) & set(changes):
        bad[f.key[0]] = good[f.key[0]] + "X"  # a distinct key, so only the rule under test fails
    deliver(landing, f.source, {f"{feed_name}.csv": csv_bytes(feed_name, [good, bad])})
    if feed_name == "equipment_inspections":
        load_feed(str(landing), f.source, feed_name, BD)  # registry empty: the valid row warns too
    else:
        res = load_feed(str(landing), f.source, feed_name, BD)
        assert res.rows_in == 2
    header = f.field_to_header[field]
    if level == "R":
        qrows = q(warehouse_env, f"select _line_no, reasons, raw_values from quarantine.{feed_name}")
        assert len(qrows) == 1, qrows
        line_no, reasons, raw_values = qrows[0]
        assert line_no == 3
        hits = [r for r in reasons if r["rule"] == rule and r["field"] == field]
        assert hits, reasons
        assert hits[0]["column"] == header and hits[0]["level"] == "R" and hits[0]["message"]
        assert raw_values[header] == (bad[field] or None)
        assert q(warehouse_env, f"select count(*) from raw.{feed_name}")[0][0] == 1
    elif rule in STATEFUL_RULES:
        # judged against the other feed's current state by the raw gate, never stored with the row
        assert q(warehouse_env, f"select _warnings from raw.{feed_name} order by _line_no") == [([],), ([],)]
        assert q(warehouse_env, f"select count(*) from quarantine.{feed_name}")[0][0] == 0
        try:  # the registry is empty: both rows are unknown devices (two rows are no evidence against the bound)
            result = run_gate(f"raw_{feed_name}", run_id="stateful", business_date=BD, data_docs=False)
        except GateFailed as exc:
            result = exc.result
        [share] = [o for r in result.relations for o in r.outcomes if o.column == f"_w__{rule}__{field}"]
        assert float(share.observed_value) == 1.0
    else:
        warned = q(warehouse_env, f"select _warnings from raw.{feed_name} where _line_no = 3")
        assert warned and f"{rule}:{field}" in warned[0][0], warned
        assert q(warehouse_env, f"select count(*) from quarantine.{feed_name}")[0][0] == 0
        [(status, *_rest, w_by_rule, _id)] = audit(warehouse_env, feed_name)[-1:]
        assert w_by_rule.get(rule, 0) >= 1


# rules about presence itself: they may fail on an empty value by definition
PRESENCE_RULES = {"required_when", "present_iff", "entity_type"}


def test_a_rule_never_fails_on_an_empty_value(warehouse_env, landing):
    """RULES.md: emptiness is the job of `required` (and of the presence rules); every other rule
    passes an empty value. One file per feed, one row per optional column with rules left empty."""
    checked = []
    for f in all_feeds():
        cols = [c for c in f.columns if not c.required and any(r.rule not in PRESENCE_RULES for r in c.rules)]
        if not cols:
            continue
        rows = []
        for i, c in enumerate(cols):
            r = row(f.name, **{c.field: ""})
            r[f.key[0]] = f"{r[f.key[0]]}E{i}"
            rows.append(r)
        deliver(landing, f.source, {f"{f.name}.csv": csv_bytes(f.name, rows)})
        load_feed(str(landing), f.source, f.name, BD)
        for i, c in enumerate(cols):
            line = i + 2
            own = {r.rule for r in c.rules} - PRESENCE_RULES
            reasons = q(warehouse_env, f"select reasons from quarantine.{f.name} where _line_no = %s", (line,))
            flagged = [r["rule"] for rs in reasons for r in rs[0] if r["field"] == c.field and r["rule"] in own]
            warnings = q(warehouse_env, f"select _warnings from raw.{f.name} where _line_no = %s", (line,))
            flagged += [w for ws in warnings for w in ws[0] if w.split(":")[0] in own and w.endswith(":" + c.field)]
            assert not flagged, (f.name, c.field, flagged)
            checked.append((f.name, c.field))
    assert ("registration_events", "industry_code") in checked and len(checked) > 10, checked


def test_a_row_failing_three_rules_lists_three_reasons(warehouse_env, landing):
    bad = row("complaints", channel="微博", region_code="3301", amount_involved="-5")
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [bad])})
    res = load_feed(str(landing), "complaints", "complaints", BD)
    assert (res.rows_loaded, res.rows_quarantined) == (0, 1)
    [(reasons,)] = q(warehouse_env, "select reasons from quarantine.complaints")
    assert sorted(r["rule"] for r in reasons) == ["digits", "in_set", "nonneg"]
    assert "'微博'" in next(r["message"] for r in reasons if r["rule"] == "in_set")
    assert res.quarantine_by_rule == {"digits": 1, "in_set": 1, "nonneg": 1}
    [a] = audit(warehouse_env, "complaints")
    assert a[:4] == ("loaded", 1, 0, 1)


def test_duplicate_keys_quarantine_all_but_the_first(warehouse_env, landing):
    rows = [row("rapid_tests"), row("rapid_tests", station="B"), row("rapid_tests", test_id=" rt0001 ")]
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", rows)})
    res = load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert (res.rows_loaded, res.rows_quarantined) == (1, 2)
    got = q(warehouse_env, "select _line_no, reasons->0->>'rule', reasons->0->>'message' from quarantine.rapid_tests order by 1")
    assert [(g[0], g[1]) for g in got] == [(3, "unique"), (4, "unique")]
    assert "first on line 2" in got[0][2]


def test_a_file_refused_in_a_later_chunk_loads_nothing(warehouse_env, landing, monkeypatch):
    """The loader checks chunk n while it reads chunk n+1: a bad line far into the file still refuses
    the whole file, naming the line, with nothing of the earlier chunks left behind."""
    from msdw.ingest import loader

    monkeypatch.setattr(loader, "_FIRST_STAGE_ROWS", 5)
    monkeypatch.setattr(loader, "_STAGE_ROWS", 5)
    switch_interval = sys.getswitchinterval()
    rows = [row("rapid_tests", test_id=f"RT{i:04d}") for i in range(40)]
    data = csv_bytes("rapid_tests", rows) + b'RT9999,"bad"x,\r\n'
    deliver(landing, "sampling", {"rapid_tests.csv": data}, rows={"rapid_tests.csv": 41})
    with pytest.raises(FileRefused) as exc:
        load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert exc.value.line == 42 and "malformed CSV" in str(exc.value), exc.value
    assert q(warehouse_env, "select count(*) from raw.rapid_tests")[0][0] == 0
    assert audit(warehouse_env, "rapid_tests")[-1][0] == "refused"
    # the corrected file loads, in chunks
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", rows)})
    res = load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 40, 0)
    # the pipeline's shorter GIL switch interval is the process's again, after a failure too
    assert sys.getswitchinterval() == switch_interval


# --- file formats and encodings -----------------------------------------------------------------
def _xlsx(feed_name, rows, extra_sheet=False) -> bytes:
    import openpyxl

    f = feed(feed_name)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([c.header for c in f.columns])
    for r in rows:
        ws.append([r.get(c.field) or None for c in f.columns])
    if extra_sheet:
        wb.create_sheet("说明").append(["这是说明"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("variant", ["gb18030", "utf-8-sig", "crlf", "lf", "embedded_newline", "fullwidth_whitespace", "xlsx"])
def test_formats_and_encodings_load(warehouse_env, landing, variant):
    r1 = row("complaints")
    r2 = row("complaints", ticket_id="T2", content="第一行\n第二行, \"引号\"")
    name = "complaints.csv"
    if variant == "gb18030":
        data = csv_bytes("complaints", [r1, r2], encoding="gb18030")
    elif variant == "utf-8-sig":
        data = csv_bytes("complaints", [r1, r2], encoding="utf-8-sig")
    elif variant == "crlf":
        data = csv_bytes("complaints", [r1, r2], lineterminator="\r\n")
    elif variant == "lf":
        data = csv_bytes("complaints", [r1, r2], lineterminator="\n")
    elif variant == "embedded_newline":
        data = csv_bytes("complaints", [r2, r1 | {"ticket_id": "T3"}])
    elif variant == "fullwidth_whitespace":
        r1 = row("complaints", region_code="３３０１０６", ticket_id="  T1\t", amount_involved=" 12.5 ")
        data = csv_bytes("complaints", [r1, r2])
    else:
        name = "complaints.xlsx"
        data = _xlsx("complaints", [r1, r2], extra_sheet=True)
    deliver(landing, "complaints", {name: data}, rows={name: 2})
    verify_delivery(str(landing), "complaints", BD)
    res = load_feed(str(landing), "complaints", "complaints", BD)
    assert (res.rows_in, res.rows_loaded, res.rows_quarantined) == (2, 2, 0), (res, q(warehouse_env, "select reasons from quarantine.complaints"))
    contents = dict(q(warehouse_env, "select ticket_id, content from raw.complaints"))
    assert "第一行\n第二行, \"引号\"" in contents.values()
    if variant == "embedded_newline":
        lines = dict(q(warehouse_env, "select ticket_id, _line_no from raw.complaints"))
        assert lines == {"T2": 2, "T3": 4}
    if variant == "fullwidth_whitespace":
        assert q(warehouse_env, "select region_code, amount_involved from raw.complaints where ticket_id = 'T1'") == [("330106", 12.5)]
    if variant == "xlsx":
        assert res.file_format == "xlsx" and any("2 sheets" in w for w in res.warnings)
    if variant == "gb18030":
        assert res.encoding == "gb18030"


def test_header_only_file_loads_zero_rows_and_empty_file_is_refused(warehouse_env, landing):
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", []), "sampling_results.csv": b""})
    with pytest.raises(DeliveryRefused, match="sampling_results.csv.*empty"):
        verify_delivery(str(landing), "sampling", BD)
    res = load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert (res.status, res.rows_in) == ("loaded", 0)
    with pytest.raises(FileRefused, match="empty"):
        load_feed(str(landing), "sampling", "sampling_results", BD)
    assert audit(warehouse_env, "sampling_results")[-1][0] == "refused"


# --- re-delivery ----------------------------------------------------------------------------------
def test_same_delivery_twice_is_a_noop_and_a_correction_replaces_the_day(warehouse_env, landing):
    rows = [row("rapid_tests"), row("rapid_tests", test_id="RT2", result="阳性", disposal="销毁", disposed_kg="3")]
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", rows)})
    first = load_feed(str(landing), "sampling", "rapid_tests", BD)
    snapshot = q(warehouse_env, "select test_id, result, disposed_kg, _line_no from raw.rapid_tests order by 1")
    again = load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert (first.status, again.status) == ("loaded", "noop")
    assert q(warehouse_env, "select test_id, result, disposed_kg, _line_no from raw.rapid_tests order by 1") == snapshot
    assert q(warehouse_env, "select distinct _load_id from raw.rapid_tests") == [(first.load_id,)]

    corrected = [row("rapid_tests", result="阳性", disposal="下架", disposed_kg="1")]
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", corrected)})
    third = load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert (third.status, third.replaces_load_id) == ("replaced", first.load_id)
    assert q(warehouse_env, "select test_id, result, _load_id from raw.rapid_tests") == [("RT0001", "阳性", third.load_id)]
    statuses = [a[0] for a in audit(warehouse_env, "rapid_tests")]
    assert statuses == ["loaded", "noop", "replaced"]


# --- refused deliveries ----------------------------------------------------------------------------
def test_truncated_file_refuses_the_day_and_loads_nothing(warehouse_env, landing):
    full = csv_bytes("rapid_tests", [row("rapid_tests"), row("rapid_tests", test_id="RT2")])
    deliver(landing, "sampling", {"rapid_tests.csv": full[:-30]}, rows={"rapid_tests.csv": 2},
            sha={"rapid_tests.csv": hashlib.sha256(full).hexdigest()})
    with pytest.raises(DeliveryRefused) as exc:
        verify_delivery(str(landing), "sampling", BD)
    assert "rapid_tests.csv" in str(exc.value) and "sha256" in str(exc.value)
    with pytest.raises(FileRefused, match="sha256|rows"):
        load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert q(warehouse_env, "select count(*) from raw.rapid_tests")[0][0] == 0
    assert {a[0] for a in audit(warehouse_env, "rapid_tests")} == {"refused"}

    # sha256 right but row count wrong (manifest promised more rows)
    deliver(landing, "sampling", {"rapid_tests.csv": full}, rows={"rapid_tests.csv": 3})
    with pytest.raises(DeliveryRefused, match="2 data rows, the manifest says 3"):
        verify_delivery(str(landing), "sampling", BD)
    assert q(warehouse_env, "select count(*) from raw.rapid_tests")[0][0] == 0


def test_missing_required_column_refuses_the_file_naming_it(warehouse_env, landing):
    f = feed("rapid_tests")
    data = csv_bytes("rapid_tests", [row("rapid_tests")], headers=[x for x in f.fields if x != "result"])
    deliver(landing, "sampling", {"rapid_tests.csv": data})
    with pytest.raises(FileRefused) as exc:
        load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert "检测结果 (result)" in str(exc.value) and "rapid_tests.csv" in str(exc.value)
    assert "检测结果" in audit(warehouse_env, "rapid_tests")[-1][5]


def test_extra_column_is_ignored_and_reported_missing_optional_is_null(warehouse_env, landing):
    f = feed("rapid_tests")
    r = row("rapid_tests") | {"note": "备注内容"}
    fields = [x for x in f.fields if x != "station"] + ["note"]
    data = csv_bytes("rapid_tests", [r], headers=fields, header_map={"note": "备注"})
    deliver(landing, "sampling", {"rapid_tests.csv": data})
    res = load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert res.extra_columns == ["备注"]
    assert audit(warehouse_env, "rapid_tests")[-1][6] == ["备注"]
    assert q(warehouse_env, "select station, test_id from raw.rapid_tests") == [(None, "RT0001")]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..%2F..%2Fx.csv", "sub/rapid_tests.csv", "other_feed.csv", "complaints.csv"])
def test_manifest_names_outside_the_delivery_or_the_source_are_refused(warehouse_env, landing, name):
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", [row("rapid_tests")])})
    day = landing / "sampling" / BD.isoformat()
    doc = json.loads((day / "manifest.json").read_text())
    doc["files"].append({"name": name, "rows": 1, "sha256": "0" * 64})
    (day / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(DeliveryRefused) as exc:
        verify_delivery(str(landing), "sampling", BD)
    assert name in str(exc.value)
    assert audit(warehouse_env, "manifest")[-1][0] == "refused"


def test_hostile_cells_are_stored_as_data(warehouse_env, landing):
    big = "长" * (10 * 1024 * 1024 // 3)
    rows = [
        row("complaints", ticket_id="T1", content="'); DROP TABLE raw.complaints; --"),
        row("complaints", ticket_id="T2", content=big),
        row("complaints", ticket_id="T3", content="ctl\x01\x07\x1b[31m\x7f\r\n\\.\nend", respondent_name="\\N"),
        row("complaints", ticket_id="T4", outcome="%s %(load_id)s {{ x }}", channel="'); DROP TABLE raw.complaints; --"),
    ]
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", rows)})
    res = load_feed(str(landing), "complaints", "complaints", BD)
    assert (res.rows_loaded, res.rows_quarantined) == (3, 1)
    got = dict(q(warehouse_env, "select ticket_id, content from raw.complaints"))
    assert got["T1"] == "'); DROP TABLE raw.complaints; --"
    assert len(got["T2"]) == len(big)
    assert got["T3"] == "ctl\x01\x07\x1b[31m\x7f\r\n\\.\nend"
    assert q(warehouse_env, "select respondent_name from raw.complaints where ticket_id = 'T3'") == [("\\N",)]
    [(raw_values, reasons)] = q(warehouse_env, "select raw_values, reasons from quarantine.complaints")
    assert raw_values["来源渠道"] == "'); DROP TABLE raw.complaints; --" and reasons[0]["rule"] == "in_set"


def test_loader_runs_as_a_login_that_only_has_msdw_loader(warehouse_env, landing):
    """Privileges are the role's, not the admin's: a login granted only msdw_loader can load."""
    with psycopg.connect(warehouse_env, autocommit=True) as conn:
        conn.execute("do $$ begin if not exists (select 1 from pg_roles where rolname = 'msdw_test_loader_login') "
                     "then create role msdw_test_loader_login login; end if; end $$")
        conn.execute("grant msdw_loader to msdw_test_loader_login")
    info = psycopg.conninfo.conninfo_to_dict(warehouse_env)
    info["user"] = "msdw_test_loader_login"
    login = psycopg.conninfo.make_conninfo(**info)
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [row("complaints")])})
    res = load_feed(str(landing), "complaints", "complaints", BD, conninfo=login)
    assert res.rows_loaded == 1
    with psycopg.connect(login) as conn:
        conn.execute("set role msdw_loader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table raw.not_allowed (x int)")


def test_quarantine_keeps_the_text_as_delivered(warehouse_env, landing):
    bad = row("complaints", channel=" 微博 ", region_code="３３０１", respondent_uscc=" ９１ab ", outcome="   ")
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [bad])})
    load_feed(str(landing), "complaints", "complaints", BD)
    [(raw_values, reasons)] = q(warehouse_env, "select raw_values, reasons from quarantine.complaints")
    assert raw_values["来源渠道"] == " 微博 " and raw_values["被诉主体所在地"] == "３３０１"
    assert raw_values["被诉主体统一社会信用代码"] == " ９１ab " and raw_values["处理结果"] == "   "
    assert raw_values["诉求编号"] == VALID["complaints"]["ticket_id"] and raw_values["办结日期"] is None
    assert {r["rule"] for r in reasons} == {"in_set", "digits"}
    assert "'3301' is not exactly 6 digits" in {r["message"] for r in reasons}
