"""Bad input, byte by byte: what the loader does with every kind of broken delivery.

Each test provokes one row of the matrix in docs/reliability.md against a real
PostgreSQL and asserts the exact outcome: which rows are in raw and
quarantine, what audit.load_files says, and that the error names the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from rel_helpers import BD, audit_rows, csv_bytes, deliver, q, row, scalar

from msdw.contracts import feed
from msdw.errors import DeliveryRefused, FileRefused
from msdw.ingest import load_day, load_feed, verify_delivery

pytestmark = pytest.mark.db


def _level(feed_name: str, field: str, rule: str) -> str:
    """The level (R/W) the contract gives ``rule`` on ``field`` — expectations follow the contract."""
    return next(r.level for r in feed(feed_name).column(field).rules if r.rule == rule)


# --- truncated / corrupt transfer ---------------------------------------------------------------
@pytest.mark.parametrize("how", ["rows", "sha256"])
def test_truncated_file_refuses_the_whole_day(warehouse_env, landing, how):
    """A file that disagrees with its manifest refuses the day: not even the sound file of that day loads."""
    good = csv_bytes("rapid_tests", [row("rapid_tests"), row("rapid_tests", test_id="RT2")])
    full = csv_bytes("sampling_results", [row("sampling_results"), row("sampling_results", sample_no="SP2")])
    if how == "sha256":  # the transfer stopped half-way: bytes and sha256 differ from the manifest
        files = {"rapid_tests.csv": good, "sampling_results.csv": full[: len(full) // 2]}
        kw = dict(rows={"sampling_results.csv": 2}, sha={"sampling_results.csv": hashlib.sha256(full).hexdigest()})
        expected = "sha256"
    else:  # complete bytes, but the manifest promises a row more
        files = {"rapid_tests.csv": good, "sampling_results.csv": full}
        kw = dict(rows={"sampling_results.csv": 3})
        expected = "2 data rows, the manifest says 3"
    deliver(landing, "sampling", files, **kw)
    with pytest.raises(DeliveryRefused) as exc:
        load_day(str(landing), "sampling", BD)
    assert "sampling_results.csv" in str(exc.value) and expected in str(exc.value)
    assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 0
    assert scalar(warehouse_env, "select count(*) from raw.sampling_results") == 0
    assert scalar(warehouse_env, "select count(*) from quarantine.sampling_results") == 0
    [a] = audit_rows(warehouse_env, "sampling_results")
    assert a["status"] == "refused" and "delivery refused" in a["message"] and a["rows_loaded"] is None
    assert audit_rows(warehouse_env, "rapid_tests") == []  # the day stopped before any load


# --- re-delivery -----------------------------------------------------------------------------------
def test_same_file_twice_is_a_noop_and_a_correction_replaces_the_day_atomically(warehouse_env, landing):
    old = [row("rapid_tests", test_id=f"RT{i}") for i in range(3)]
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", old)})
    first = load_feed(str(landing), "sampling", "rapid_tests", BD)
    again = load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert (first.status, again.status) == ("loaded", "noop")
    assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 3

    # a correction with a different row count: a reader polling during the replacement sees 3 or 5, never a mix
    new = [row("rapid_tests", test_id=f"RT{i}", result="阳性", disposal="销毁", disposed_kg="2") for i in range(5)]
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", new)})
    seen: set[tuple[int, int]] = set()
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(warehouse_env, autocommit=True) as conn:
            while not stop.is_set():
                seen.add(conn.execute("select count(*), count(*) filter (where result = '阳性') from raw.rapid_tests").fetchone())

    t = threading.Thread(target=reader)
    t.start()
    try:
        third = load_feed(str(landing), "sampling", "rapid_tests", BD)
    finally:
        time.sleep(0.05)
        stop.set()
        t.join()
    assert seen <= {(3, 0), (5, 5)} and (5, 5) in seen, seen
    assert (third.status, third.replaces_load_id) == ("replaced", first.load_id)
    assert q(warehouse_env, "select distinct _load_id from raw.rapid_tests") == [(third.load_id,)]
    history = [(a["status"], a["rows_in"], a["replaces_load_id"]) for a in audit_rows(warehouse_env, "rapid_tests")]
    assert history == [("loaded", 3, None), ("noop", None, None), ("replaced", 5, first.load_id)]

    # a broken correction (refused) leaves the last good state untouched
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", new[:2])}, rows={"rapid_tests.csv": 4})
    with pytest.raises(FileRefused, match="2 data rows, the manifest says 4"):
        load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert q(warehouse_env, "select count(*), min(_load_id) from raw.rapid_tests") == [(5, third.load_id)]
    assert audit_rows(warehouse_env, "rapid_tests")[-1]["status"] == "refused"


# --- encodings and text shapes -------------------------------------------------------------------
TRICKY = dict(
    ticket_id="T0001 ",                           # trailing whitespace on a code
    region_code="３３０１０６",                    # full-width digits
    amount_involved="１,２３４.５０ ",              # full-width digits + thousands separator + trailing blank
    respondent_name="杭州示例科技有限公司\t",       # trailing tab
    content="第一行\r\n第二行，含“引号”和\"ASCII引号\", 逗号\n第三行",  # embedded CRLF and LF, quotes, comma
    complainant_name="王五  ",
)
# text is NFKC-normalised and trimmed (msdw_fn.norm_text, docs/ingestion.md): the full-width comma of the
# content becomes ',' — a documented normalisation, asserted here so a change is noticed
EXPECTED = {
    "ticket_id": "T0001", "region_code": "330106", "amount_involved": Decimal("1234.50"),
    "respondent_name": "杭州示例科技有限公司",
    "content": "第一行\r\n第二行,含“引号”和\"ASCII引号\", 逗号\n第三行", "complainant_name": "王五",
}


@pytest.mark.parametrize("variant", ["gb18030_mislabeled", "utf8_bom", "crlf", "lf"])
def test_encodings_and_text_shapes_load_with_exact_values(warehouse_env, landing, variant):
    """GB18030 in a plain .csv (no hint anywhere), a BOM, CRLF/LF line ends: identical rows in raw."""
    rows = [row("complaints", **TRICKY), row("complaints", ticket_id="T0002")]
    encoding = {"gb18030_mislabeled": "gb18030", "utf8_bom": "utf-8-sig"}.get(variant, "utf-8")
    data = csv_bytes("complaints", rows, encoding=encoding, lineterminator="\n" if variant == "lf" else "\r\n")
    if variant == "gb18030_mislabeled":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really not UTF-8
    deliver(landing, "complaints", {"complaints.csv": data}, rows={"complaints.csv": 2})
    [res] = load_day(str(landing), "complaints", BD)
    assert (res.status, res.rows_in, res.rows_loaded, res.rows_quarantined) == ("loaded", 2, 2, 0)
    assert res.encoding == {"gb18030_mislabeled": "gb18030", "utf8_bom": "utf-8-sig"}.get(variant, "utf-8")
    cols = list(EXPECTED)
    got = q(warehouse_env, f"select {', '.join(cols)} from raw.complaints where ticket_id = 'T0001'")
    assert got == [tuple(EXPECTED[c] for c in cols)]
    # line numbers are physical lines: the header is line 1, the CRLF+LF content spans three lines
    assert q(warehouse_env, "select ticket_id, _line_no from raw.complaints order by 1") == [("T0001", 2), ("T0002", 5)]


# --- unusable files -------------------------------------------------------------------------------
def _xlsx_two_sheets() -> bytes:
    import openpyxl

    f = feed("rapid_tests")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append([c.header for c in f.columns])
    ws.append([row("rapid_tests")[c.field] or None for c in f.columns])
    other = wb.create_sheet("汇总")
    other.append([c.header for c in f.columns])
    other.append([row("rapid_tests", test_id="RT_FROM_SHEET2")[c.field] or None for c in f.columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("case", ["binary_garbage", "empty", "header_only", "xlsx_two_sheets", "xlsx_garbage"])
def test_unusable_files_have_a_clear_outcome_naming_the_file(warehouse_env, landing, case):
    name = "rapid_tests.xlsx" if case.startswith("xlsx") else "rapid_tests.csv"
    data = {
        "binary_garbage": bytes(range(256)) * 64,
        "empty": b"",
        "header_only": csv_bytes("rapid_tests", []),
        "xlsx_two_sheets": _xlsx_two_sheets() if case == "xlsx_two_sheets" else b"",
        "xlsx_garbage": b"PK\x03\x04 this is not a workbook",
    }[case]
    deliver(landing, "sampling", {name: data}, rows={name: 1 if case == "xlsx_two_sheets" else 0})
    if case in ("header_only", "xlsx_two_sheets"):
        [res] = load_day(str(landing), "sampling", BD)
        assert res.status == "loaded"
        if case == "header_only":
            assert (res.rows_in, res.rows_loaded, res.rows_quarantined) == (0, 0, 0)
        else:  # first sheet loaded, the other named in the warning and the audit
            assert (res.rows_in, res.rows_loaded) == (1, 1)
            assert q(warehouse_env, "select test_id from raw.rapid_tests") == [("RT0001",)]
            msg = audit_rows(warehouse_env, "rapid_tests")[-1]["message"]
            assert "rapid_tests.xlsx: workbook has 2 sheets; loaded the first ('数据'), ignored ['汇总']" == msg
        return
    with pytest.raises(DeliveryRefused) as exc:
        verify_delivery(str(landing), "sampling", BD)
    expected = {"binary_garbage": "binary content", "empty": "empty (0 bytes)", "xlsx_garbage": "not a readable XLSX"}[case]
    assert name in str(exc.value) and expected in str(exc.value), str(exc.value)
    with pytest.raises(FileRefused) as exc2:
        load_feed(str(landing), "sampling", "rapid_tests", BD)
    assert name in str(exc2.value) and expected in str(exc2.value)
    assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 0
    assert [a["status"] for a in audit_rows(warehouse_env, "rapid_tests")] == ["refused", "refused"]


# --- schema drift ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["missing_required", "extra", "renamed_required"])
def test_schema_drift(warehouse_env, landing, case):
    f = feed("rapid_tests")
    fields, header_map = list(f.fields), {}
    r = row("rapid_tests")
    if case == "missing_required":
        fields.remove("test_date")
    elif case == "extra":
        fields.append("remark")
        header_map["remark"] = "备注"
        r["remark"] = "见附件"
    else:
        header_map["result"] = "检测结论"  # was 检测结果
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", [r], headers=fields, header_map=header_map)})
    if case == "extra":
        [res] = load_day(str(landing), "sampling", BD)
        assert (res.status, res.rows_loaded, res.extra_columns) == ("loaded", 1, ["备注"])
        a = audit_rows(warehouse_env, "rapid_tests")[-1]
        assert a["extra_columns"] == ["备注"] and a["message"] == "rapid_tests.csv: unknown column(s) ignored: 备注"
        return
    missing = {"missing_required": "检测日期 (test_date)", "renamed_required": "检测结果 (result)"}[case]
    with pytest.raises(DeliveryRefused) as exc:
        load_day(str(landing), "sampling", BD)
    assert f"rapid_tests.csv: line 1: required column {missing} is missing from the header" in str(exc.value)
    assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 0
    assert missing in audit_rows(warehouse_env, "rapid_tests")[-1]["message"]


# --- row-level rules: quarantine or warn per contract, counts reconcile ------------------------------------
def test_row_defects_follow_the_contract_and_reconcile(warehouse_env, landing):
    good = row("registration_events")
    future = (BD.replace(day=BD.day + 5)).isoformat()
    cases = {  # event_id -> (changes, (rule, field))
        "F1": (dict(uscc="91330106MA2B0EXH2"), ("uscc_format", "uscc")),             # 17 chars
        "F2": (dict(uscc="91330106MA2B0EXH2O"), ("uscc_format", "uscc")),            # O is not in the alphabet
        "C1": (dict(uscc="91330106MA2B0EXH2A"), ("uscc_check", "uscc")),             # wrong check character
        "D1": (dict(approved_date=future), ("le_business_date", "approved_date")),   # after the business date
        "N1": (dict(registered_capital="-100"), ("nonneg", "registered_capital")),
        "E1": (dict(event_type="其他"), ("in_set", "event_type")),
        "E2": (dict(channel="邮寄"), ("in_set", "channel")),
    }
    rows = [good]
    for key, (changes, _) in cases.items():
        rows.append(row("registration_events", event_id=key, **changes))
    rows.append(row("registration_events", entity_name="重复的业务流水号"))  # duplicate key of `good`
    deliver(landing, "registration", {"registration_events.csv": csv_bytes("registration_events", rows)})
    [res] = load_day(str(landing), "registration", BD)

    expect_q = {k for k, (_, (rule, field)) in cases.items() if _level("registration_events", field, rule) == "R"}
    expect_w = {k for k, (_, (rule, field)) in cases.items() if _level("registration_events", field, rule) == "W"}
    assert expect_q == {"F1", "F2", "D1", "N1", "E1"} and expect_w == {"C1", "E2"}  # the contract as of this suite
    quarantined = q(warehouse_env, "select raw_values->>'业务流水号', reasons from quarantine.registration_events")
    got_q = {k: {(r["rule"], r["field"]) for r in reasons} for k, reasons in quarantined}
    assert sorted(got_q) == sorted([*expect_q, good["event_id"]])
    for k in expect_q:
        assert got_q[k] == {cases[k][1]}, (k, got_q[k])
    assert got_q[good["event_id"]] == {("unique", "event_id")}
    warned = dict(q(warehouse_env, "select event_id, _warnings from raw.registration_events"))
    assert warned == {good["event_id"]: [], "C1": ["uscc_check:uscc"], "E2": ["in_set:channel"]}
    # rows in = loaded + quarantined, in the result and in the audit (which enforces it with a CHECK)
    assert (res.rows_in, res.rows_loaded, res.rows_quarantined, res.rows_warned) == (9, 3, 6, 2)
    a = audit_rows(warehouse_env, "registration_events")[-1]
    assert (a["rows_in"], a["rows_loaded"], a["rows_quarantined"]) == (9, 3, 6)
    assert a["quarantine_by_rule"] == {"uscc_format": 2, "le_business_date": 1, "nonneg": 1, "in_set": 1, "unique": 1}
    assert a["warnings_by_rule"] == {"uscc_check": 1, "in_set": 1}


# --- hostile cells -------------------------------------------------------------------------------------
CONTROL = "".join(chr(c) for c in range(1, 32))  # every C0 control character except NUL


def test_hostile_cells_are_data(warehouse_env, landing):
    big = ("投诉内容" * 1000 + "\n") * 655  # ≈ 10 MB of UTF-8 with newlines
    injection = "'); DROP TABLE raw.complaints; --"
    rows = [
        row("complaints", ticket_id="H1", content=injection, respondent_name='x"); drop schema raw cascade; --'),
        row("complaints", ticket_id="H2", content=big),
        row("complaints", ticket_id="H3", content="a" + CONTROL + "b", outcome="%s %(x)s {{ x }} ${x} \\N \\."),
    ]
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", rows)})
    [res] = load_day(str(landing), "complaints", BD)
    assert (res.rows_in, res.rows_loaded, res.rows_quarantined) == (3, 3, 0)
    got = dict(q(warehouse_env, "select ticket_id, content from raw.complaints"))
    assert got["H1"] == injection
    assert hashlib.md5(got["H2"].encode()).hexdigest() == hashlib.md5(big.strip().encode()).hexdigest()
    # text is trimmed of surrounding whitespace (documented normalisation); inner control characters are kept
    assert got["H3"] == "a" + CONTROL + "b"
    assert q(warehouse_env, "select outcome, respondent_name from raw.complaints where ticket_id in ('H3', 'H1') order by ticket_id") == [
        (None, 'x"); drop schema raw cascade; --'), ("%s %(x)s {{ x }} ${x} \\N \\.", "杭州示例科技有限公司")]
    assert scalar(warehouse_env, "select count(*) from pg_namespace where nspname = 'raw'") == 1


def test_nul_byte_in_the_first_block_refuses_the_file_naming_it(warehouse_env, landing):
    """PostgreSQL text cannot hold U+0000: a NUL anywhere must refuse the file with its name, not crash."""
    data = csv_bytes("complaints", [row("complaints", content="before\x00after")])
    deliver(landing, "complaints", {"complaints.csv": data})
    with pytest.raises(FileRefused, match="complaints.csv.*NUL"):
        load_feed(str(landing), "complaints", "complaints", BD)
    assert audit_rows(warehouse_env, "complaints")[-1]["status"] == "refused"


def test_nul_byte_after_the_sample_refuses_the_file_naming_it(warehouse_env, landing):
    filler = [row("complaints", ticket_id=f"P{i:05d}", content="x" * 200) for i in range(1500)]  # > 256 KiB
    data = csv_bytes("complaints", [*filler, row("complaints", ticket_id="NUL1", content="before\x00after")])
    assert data.index(b"\x00") > 256 * 1024
    deliver(landing, "complaints", {"complaints.csv": data})
    with pytest.raises(FileRefused, match="complaints.csv"):
        load_feed(str(landing), "complaints", "complaints", BD)


# --- dates at the edges -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bd", [date(2024, 12, 31), date(2025, 1, 1), date(2024, 2, 29), date(2031, 3, 3)])
def test_edge_business_dates_load(warehouse_env, landing, bd):
    """Year boundary, leap day and a year beyond the calendar seed load like any other day."""
    r = row("complaints", received_at=f"{bd.isoformat()} 23:59:59", accepted_date=bd.strftime("%Y年%m月%d日"),
            due_date=bd.replace(year=bd.year + 1, day=28 if bd.month == 2 else bd.day).isoformat())
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [r])}, business_date=bd,
            manifest=None)
    [res] = load_day(str(landing), "complaints", bd)
    assert (res.rows_loaded, res.rows_quarantined) == (1, 0)
    got = q(warehouse_env, "select _business_date, received_at::text, accepted_date from raw.complaints")
    assert got == [(bd, f"{bd.isoformat()} 23:59:59", bd)]


def test_manifest_path_traversal_is_refused_before_opening(warehouse_env, landing):
    deliver(landing, "sampling", {"rapid_tests.csv": csv_bytes("rapid_tests", [row("rapid_tests")])})
    day = landing / "sampling" / BD.isoformat()
    doc = json.loads((day / "manifest.json").read_text())
    doc["files"] = [{"name": "../../etc/passwd", "rows": 1, "sha256": "0" * 64}]
    (day / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(DeliveryRefused) as exc:
        load_day(str(landing), "sampling", BD)
    assert "../../etc/passwd: file name must be a plain name inside the delivery directory (path refused)" in str(exc.value)
    assert audit_rows(warehouse_env, "manifest")[-1]["status"] == "refused"
