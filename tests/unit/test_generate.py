"""The sample-data generator: layout, manifests, headers, determinism, defects, magnitudes.

The district year is generated once per module (about 15 s) and shared by the
magnitude tests; the format/defect tests use a few days.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter
from pathlib import Path

import pytest
import stdnum.cn.ric
import stdnum.cn.uscc
from python_calamine import CalamineWorkbook

from msdw.contracts import SOURCES, all_feeds, feed, source_feeds
from msdw.generate import generate, generate_feed_file
from msdw.generate.defects import FILE_KINDS, ROW_KINDS, DefectSpecError
from msdw.generate.ids import make_uscc, org_body, uscc_check_char
from msdw.generate.values import add_workdays, is_workday
from msdw.generate.writer import ENCODINGS

D0 = dt.date(2025, 6, 27)
D1 = dt.date(2025, 6, 30)


def read_file(path: Path) -> tuple[list[str], list[list[str]]]:
    if path.suffix == ".xlsx":
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = [["" if v is None else str(v) for v in r] for r in sheet.to_python(skip_empty_area=False)]
        return rows[0], rows[1:]
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("week")
    generate(out, D0, D1, seed=7, formats=("csv", "bom", "gb18030", "xlsx"))
    return out


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    out = tmp_path_factory.mktemp("year")
    summary = generate(out, dt.date(2025, 1, 1), dt.date(2025, 12, 31), seed=11)
    return out, summary


# --- layout, manifests, headers ------------------------------------------------------------


def test_layout_and_manifests_match_files(week: Path) -> None:
    days = [(D0 + dt.timedelta(days=i)).isoformat() for i in range((D1 - D0).days + 1)]
    formats = Counter()
    for source in SOURCES:
        for day in days:
            folder = week / source / day
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            assert manifest["source"] == source and manifest["business_date"] == day
            names = {e["name"] for e in manifest["files"]}
            expected = {f.name for f in source_feeds(source) if not f.optional or day == days[0]}
            assert {n.rsplit(".", 1)[0] for n in names} == expected
            assert {p.name for p in folder.iterdir()} == names | {"manifest.json"}
            # the manifest is written after its files
            assert all((folder / n).stat().st_mtime_ns <= (folder / "manifest.json").stat().st_mtime_ns for n in names)
            for e in manifest["files"]:
                path = folder / e["name"]
                assert hashlib.sha256(path.read_bytes()).hexdigest() == e["sha256"]
                headers, rows = read_file(path)
                assert len(rows) == e["rows"], path
                contract = feed(e["name"].rsplit(".", 1)[0])
                assert sorted(headers) == sorted(c.header for c in contract.columns)
                formats[_fmt(path)] += 1
    assert set(formats) == {"csv", "bom", "gb18030", "xlsx"}
    assert formats["csv"] > sum(formats.values()) / 2  # most files stay plain csv


def _fmt(path: Path) -> str:
    if path.suffix == ".xlsx":
        return "xlsx"
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return "bom"
    try:
        raw.decode("utf-8")
        return "csv"
    except UnicodeDecodeError:
        return "gb18030"


def test_header_order_varies_but_names_come_from_contracts(week: Path) -> None:
    orders = set()
    for p in week.glob("complaints/*/complaints.csv"):
        headers, _ = read_file(p)
        orders.add(tuple(headers))
    assert len(orders) >= 1
    everything = {tuple(read_file(p)[0]) for p in week.glob("*/*/*.csv")}
    in_contract_order = {tuple(c.header for c in f.columns) for f in all_feeds()}
    assert everything - in_contract_order, "some files should have shuffled columns"


def test_header_only_file_when_no_events(week: Path) -> None:
    # hazards are rare: some days deliver only the header
    sizes = [e["rows"] for p in week.glob("equipment/*/manifest.json")
             for e in json.loads(p.read_text(encoding="utf-8"))["files"] if e["name"].startswith("equipment_hazards")]
    assert 0 in sizes


def test_values_are_valid(week: Path) -> None:
    snap = next(week.glob("registration/*/entity_snapshot.*"))
    headers, rows = read_file(snap)
    col = headers.index("统一社会信用代码")
    codes = [r[col] for r in rows]
    assert len(set(codes)) == len(codes)
    assert all(stdnum.cn.uscc.is_valid(c) for c in codes[:5000])
    prefixes = Counter(c[:2] for c in codes)
    assert set(prefixes) == {"91", "92", "93"}
    assert 0.30 < prefixes["91"] / len(codes) < 0.40 and 0.58 < prefixes["92"] / len(codes) < 0.68
    ids = []
    for p in week.glob("complaints/*/complaints.*"):
        h, rs = read_file(p)
        ids += [r[h.index("诉求人证件号码")] for r in rs if r[h.index("诉求人证件号码")]]
    assert ids and all(stdnum.cn.ric.is_valid(x) for x in ids)


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_bytes_different_seed_differs(tmp_path: Path) -> None:
    kw = dict(formats=("csv", "xlsx", "gb18030"), defects=0.05)
    generate(tmp_path / "a", D0, D0 + dt.timedelta(days=1), seed=3, **kw)
    generate(tmp_path / "b", D0, D0 + dt.timedelta(days=1), seed=3, **kw)
    generate(tmp_path / "c", D0, D0 + dt.timedelta(days=1), seed=4, **kw)
    a, b, c = (tree_digest(tmp_path / x) for x in "abc")
    assert a == b
    stems = [{k.rsplit(".", 1)[0] for k in t} for t in (a, c)]
    assert stems[0] == stems[1]  # same deliveries, other content (formats may differ too)
    snap = "registration/2025-06-27/entity_snapshot"
    assert [v for k, v in a.items() if k.startswith(snap)] != [v for k, v in c.items() if k.startswith(snap)]


# --- defects ------------------------------------------------------------------------------------


def test_row_defects_are_listed_with_their_lines(tmp_path: Path) -> None:
    s = generate(tmp_path, D0, D0 + dt.timedelta(days=1), seed=5, defects=0.02)
    recs = [json.loads(x) for x in (tmp_path / "_generator" / "defects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert recs and sum(s.defects.values()) == len(recs)
    assert {r["kind"] for r in recs} == set(ROW_KINDS)
    total = sum(s.rows.values())
    assert 0.01 < len(recs) / total < 0.03
    for r in recs:
        assert r["expected"]["level"] in ("R", "W", "ok")
        contract = feed(r["feed"])
        assert contract.column(r["field"]).header == r["header"]
    # the line number points at the damaged record (physical lines, header = 1)
    by_file: dict[Path, list[dict]] = {}
    for r in recs:
        by_file.setdefault(tmp_path / r["source"] / r["business_date"] / r["file"], []).append(r)
    for path, rs in list(by_file.items())[:6]:
        text = path.read_bytes().decode("utf-8")
        reader = csv.reader(io.StringIO(text, newline=""))
        starts = {}
        line = 1
        for rec in reader:
            starts[line] = rec
            line = reader.line_num + 1
        for r in rs:
            assert r["line"] in starts, (path, r)
            if r["kind"] == "whitespace":
                headers = starts[1]
                v = starts[r["line"]][headers.index(r["header"])]
                assert v != v.strip()


def test_defect_levels_follow_the_contracts(tmp_path: Path) -> None:
    generate(tmp_path, D0, D0, seed=9, defects=0.05)
    recs = [json.loads(x) for x in (tmp_path / "_generator" / "defects.jsonl").read_text(encoding="utf-8").splitlines()]
    for r in recs:
        col = feed(r["feed"]).column(r["field"])
        rule = r["expected"]["rule"]
        if rule in ("uscc_format", "uscc_check", "le_business_date", "nonneg", "in_set", "in_ref"):
            assert r["expected"]["level"] == next(x.level for x in col.rules if x.rule == rule)
        if r["kind"] == "missing_required":
            assert col.required


def test_file_defects(tmp_path: Path) -> None:
    day = D0.isoformat()
    specs = [f"{k}:{f}:{day}" for k, f in zip(FILE_KINDS, ("complaints", "rapid_tests", "registration_events",
                                                            "sampling_results", "equipment_inspections",
                                                            "annual_reports"), strict=True)]
    s = generate(tmp_path, D0, D0, seed=1, file_defects=specs)
    assert sorted(s.file_defects) == sorted(specs)
    recs = [json.loads(x) for x in (tmp_path / "_generator" / "defects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["kind"] for r in recs} == set(FILE_KINDS)

    def entry(source, name):
        m = json.loads((tmp_path / source / day / "manifest.json").read_text(encoding="utf-8"))
        return next(e for e in m["files"] if e["name"] == name)

    h, _ = read_file(tmp_path / "complaints" / day / "complaints.csv")
    assert "备注" in h
    h, _ = read_file(tmp_path / "sampling" / day / "rapid_tests.csv")
    assert set(c.header for c in feed("rapid_tests").required_columns) - set(h)
    h, _ = read_file(tmp_path / "registration" / day / "registration_events.csv")
    assert len(h) == len(feed("registration_events").columns) - 1
    p = tmp_path / "sampling" / day / "sampling_results.csv"
    assert hashlib.sha256(p.read_bytes()).hexdigest() != entry("sampling", "sampling_results.csv")["sha256"]
    p = tmp_path / "equipment" / day / "equipment_inspections.csv"
    assert p.read_bytes() == b"" and entry("equipment", "equipment_inspections.csv")["rows"] == 0
    h, rows = read_file(tmp_path / "registration" / day / "annual_reports.csv")
    assert rows == [] and entry("registration", "annual_reports.csv")["rows"] == 0
    with pytest.raises(DefectSpecError):
        generate(tmp_path / "x", D0, D0, file_defects=["nonsense:complaints:2025-01-01"])


# --- identifiers and calendar --------------------------------------------------------------------


def test_uscc_fast_path_equals_stdnum() -> None:
    for i in range(3000):
        code = make_uscc(("91", "92", "93", "12")[i % 4], "330106", org_body(i, 5, i % 3 == 0))
        assert stdnum.cn.uscc.calc_check_digit(code[:17]) == code[17] == uscc_check_char(code[:17])
        assert stdnum.cn.uscc.is_valid(code)


def test_calendar_makeup_days_and_unknown_years() -> None:
    assert is_workday(dt.date(2024, 9, 29))  # Sunday make-up working day
    assert not is_workday(dt.date(2024, 10, 1))
    assert is_workday(dt.date(2031, 3, 3)) and not is_workday(dt.date(2031, 3, 2))  # weekday fallback
    assert add_workdays(dt.date(2024, 9, 30), 1) == dt.date(2024, 10, 8)


# --- bulk file --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "gb18030"])
def test_generate_feed_file(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "registration_events.csv"
    n = generate_feed_file("registration_events", path, 5_000, 1, dt.date(2025, 3, 31), fmt=fmt)
    text = path.read_bytes().decode(ENCODINGS[fmt])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert n == 5_000 == len(rows) - 1
    assert sorted(rows[0]) == sorted(c.header for c in feed("registration_events").columns)
    ids = [r[rows[0].index("业务流水号")] for r in rows[1:]]
    assert len(set(ids)) == n


# --- a district year --------------------------------------------------------------------------------


def test_district_year_magnitudes(year) -> None:
    out, s = year
    rows = s.rows
    assert 55_000 <= rows["entity_snapshot"] <= 57_000
    assert 15_500 <= rows["registration_events"] <= 19_000
    assert 40_000 <= rows["annual_reports"] <= 52_000
    assert 15_000 <= rows["rapid_tests"] <= 19_000
    assert 2_600 <= rows["sampling_results"] <= 3_600  # incl. disposal updates
    assert 1_400 <= rows["equipment_inspections"] <= 2_100
    assert 8_000 <= rows["complaints"] <= 14_000  # ~4,000 tickets × their state changes
    events = Counter()
    months = Counter()
    for p in out.glob("registration/*/registration_events.csv"):
        h, rs = read_file(p)
        events.update(r[h.index("业务类型")] for r in rs)
        channel = Counter(r[h.index("办理渠道")] for r in rs)
    assert 7_000 <= events["设立"] <= 8_600
    assert 4_100 <= events["注销"] + events["简易注销"] <= 5_100
    assert 800 <= events["迁入"] <= 1_000 and 700 <= events["迁出"] <= 900
    assert channel["全程电子化"] > channel["窗口"]
    for p in out.glob("registration/*/annual_reports.csv"):
        months[p.parent.name[:7]] += read_file(p)[1].__len__()
    assert months["2025-06"] == max(months.values())
    assert sum(v for k, v in months.items() if k > "2025-06") < 0.03 * sum(months.values())
    verdicts, tickets = Counter(), {}
    for p in sorted(out.glob("sampling/*/sampling_results.csv")):
        h, rs = read_file(p)
        for r in rs:
            verdicts[r[h.index("抽样单编号")]] = (r[h.index("检验结论")], r[h.index("核查处置状态")])
    fails = [v for v in verdicts.values() if v[0] == "不合格"]
    assert 0.025 < len(fails) / len(verdicts) < 0.06
    assert Counter(v[1] for v in fails)["已完成"] > len(fails) / 2
    for p in sorted(out.glob("complaints/*/complaints.csv")):
        h, rs = read_file(p)
        for r in rs:
            tickets[r[h.index("诉求编号")]] = r[h.index("办理状态")]
    assert 3_500 <= len(tickets) <= 4_500
    closed = Counter(tickets.values())["已办结"] / len(tickets)
    assert 0.8 < closed < 0.97
