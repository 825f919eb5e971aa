"""The work report and BI access on a real, published warehouse.

One warehouse per module: the handcrafted landing set of
``test_marts_hand_computed`` (杭州市 330100 with 西湖区 and 滨江区) is loaded
with ``load_day``, built with dbt, validated by the marts gate and published
(write–audit–publish), exactly as ``refresh_monthly_marts`` does. The tests
then read it as BI does: the role test checks what ``msdw_bi`` and
``msdw_auditor`` may read; the report tests recompute every expected string
from the published mart values (ROUND_HALF_UP) and look for it in the page.
"""

from __future__ import annotations

import calendar
import re
import shutil
import subprocess
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import psycopg
import pytest
from psycopg import errors, sql
from test_marts_hand_computed import JURISDICTION, _deliver, _deliveries

from msdw.dbt_runner import run_dbt
from msdw.ingest import load_day
from msdw.quality import publish_marts, run_gate
from msdw.quality.report import build_work_report

pytestmark = [pytest.mark.slow, pytest.mark.db]

RUN_ID = "refresh_monthly_marts/manual__work-report-test"
# 2024-02: registration, sampling, equipment; 2024-03: registration with a YoY decrease; 2024-10: complaints
MONTHS = (date(2024, 2, 1), date(2024, 3, 1), date(2024, 10, 1))
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NO = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def published(module_warehouse, tmp_path_factory):
    """The hand-made deliveries loaded, built, gated and published; yields (dsn, publication, reports dir)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MSDW_JURISDICTION", JURISDICTION)
    reports = tmp_path_factory.mktemp("reports")
    mp.setenv("MSDW_REPORTS_DIR", str(reports))
    landing = tmp_path_factory.mktemp("landing")
    for source, day, files in _deliveries():
        _deliver(landing, source, day, files)
    for source, day, _files in _deliveries():
        for res in load_day(str(landing), source, day):
            assert res.rows_quarantined == 0, (source, day, res)
    run_dbt(["build", "--full-refresh"], vars={"jurisdiction": JURISDICTION, "msdw_run_id": RUN_ID},
            conninfo=module_warehouse, target_path=tmp_path_factory.mktemp("dbt_target"))
    _waive_undelivered_days(module_warehouse)
    run_gate("marts", run_id=RUN_ID, data_docs=False)
    pub = publish_marts(run_id=RUN_ID)
    yield module_warehouse, pub, reports
    mp.undo()


def _waive_undelivered_days(dsn: str) -> None:
    """The handcrafted set delivers only the days that carry its events; the contract wants a manifest
    every day, so the others are declared never delivered (what `msdw waive` records), in one statement."""
    with psycopg.connect(dsn) as conn:
        conn.execute("""
            insert into audit.delivery_waivers (source, business_date, reason)
            select s.source, d::date, 'handcrafted test set: no events that day'
            from (select source, min(business_date) as d0, max(business_date) as d1
                  from audit.deliveries group by source) s
            cross join lateral generate_series(s.d0, s.d1, interval '1 day') d
            where not exists (select 1 from audit.deliveries x where x.source = s.source and x.business_date = d::date)""")
        conn.commit()


def _as_role(dsn: str, role: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
    return conn


def _one_table(dsn: str, schema: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select table_name from information_schema.tables where table_schema = %s"
                           " order by table_name limit 1", (schema,)).fetchone()
    assert row, f"no table in schema {schema} to probe"
    return row[0]


# --- (a) BI access ---------------------------------------------------------------------------------


def test_bi_role_reads_marts_only(published):
    dsn, pub, _ = published
    with psycopg.connect(dsn) as conn:  # candidates were moved to the store on publish: probe one as dbt would
        conn.execute("set role msdw_transformer")
        conn.execute("create table if not exists marts_candidate.probe as select 1 as x")
        conn.commit()
    forbidden = {s: _one_table(dsn, s) for s in
                 ("raw", "quarantine", "staging", "intermediate", "warehouse", "marts_candidate", "marts_store", "audit")}
    with _as_role(dsn, "msdw_bi") as conn:
        for mart in pub.relations:  # every published view is readable
            n = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(*mart.split(".")))).fetchone()[0]
            assert n == pub.row_counts[mart.split(".")[1]], mart
        for schema, table in forbidden.items():
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("select 1 from {} limit 1").format(sql.Identifier(schema, table)))
    with _as_role(dsn, "msdw_auditor") as conn:
        assert conn.execute("select count(*) from audit.publications").fetchone()[0] >= 1
        assert conn.execute("select count(*) from marts.indicator_monthly").fetchone()[0] > 0
        for schema in ("raw", "quarantine", "warehouse", "marts_store"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("select 1 from {} limit 1").format(sql.Identifier(schema, forbidden[schema])))


def test_published_columns_carry_chinese_comments(published):
    dsn, _, _ = published
    with _as_role(dsn, "msdw_bi") as conn:
        rows = conn.execute("""
            select a.attname, col_description(a.attrelid, a.attnum)
            from pg_attribute a
            where a.attrelid = 'marts.indicator_monthly'::regclass and a.attnum > 0 and not a.attisdropped
            order by a.attnum""").fetchall()
        view_comment = conn.execute("select obj_description('marts.indicator_monthly'::regclass, 'pg_class')").fetchone()[0]
    assert len(rows) >= 19
    missing = [c for c, d in rows if not d or not CJK.search(d)]
    assert not missing, f"columns without a Chinese comment: {missing}"
    assert dict(rows)["ytd_value"].startswith("本年累计值")
    assert view_comment and CJK.search(view_comment)


# --- (b) the work report ---------------------------------------------------------------------------


def _totals(dsn: str, month: date) -> dict[str, dict]:
    with _as_role(dsn, "msdw_bi") as conn:
        cur = conn.execute("""select * from marts.indicator_monthly where period_month = %s and region_code = %s
                              and breakdown_type = '全部' and breakdown_value = '全部'""", (month, JURISDICTION))
        cols = [c.name for c in cur.description]
        return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def _q(v: Decimal, places: str) -> Decimal:
    return v.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def expected(value: Decimal, unit: str) -> str:
    """The report's format, recomputed independently: rates 2 dp, 元 → 万元 4 dp, 公斤/米 ≤ 2 dp, counts with commas."""
    if unit == "%":
        return f"{_q(value, '0.01'):,.2f}%"
    if unit == "元":
        return f"{_q(value / 10000, '0.0001'):,.4f}万元"
    if unit in ("公斤", "米"):
        return f"{_q(value, '0.01'):,.2f}".rstrip("0").rstrip(".") + unit
    return f"{_q(value, '1'):,.0f}{unit}"


def _text(html: str) -> str:
    return unescape(re.sub(r"<svg.*?</svg>", " ", re.sub(r"<style.*?</style>", " ", html, flags=re.S), flags=re.S))


@pytest.mark.parametrize("month", MONTHS, ids=lambda m: f"{m:%Y-%m}")
def test_work_report_has_the_published_figures(published, month):
    dsn, pub, reports = published
    path = build_work_report(month)
    assert path == reports / f"work_report_{month:%Y-%m}.html"
    html = path.read_text(encoding="utf-8")
    text = _text(html)
    totals = _totals(dsn, month)
    assert totals, f"no published rows for {month}"
    paras = " ".join(re.findall(r'<p class="para"[^>]*>(.*?)</p>', html, flags=re.S))
    paras = unescape(re.sub(r"<[^>]+>", "", paras))

    # 截至 sentence: the period end is the month's last day, or as_of_date inside a month-to-date
    as_of = max(r["as_of_date"] for r in totals.values())
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    assert any(f"截至{d.month}月{d.day}日" in paras for d in {min(last, r["as_of_date"]) for r in totals.values()})

    for code, r in totals.items():
        # the indicator table: month and year-to-date values, formatted, in the row of the code
        row = re.search(rf"<tr><td><code>{code}</code></td>(.*?)</tr>", html, flags=re.S)
        assert row, code
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), flags=re.S)
        for value, cell in ((r["value"], cells[1]), (r["ytd_value"], cells[2])):
            want = "—" if value is None else expected(value, r["unit"]).removesuffix("万元").removesuffix(r["unit"])
            assert cell == want, (code, cell, want)
        if r["yoy_growth_pct"] is None:
            assert cells[4] == "—", code
        else:
            pct = r["yoy_growth_pct"]
            word = "持平" if _q(abs(pct), "0.01") == 0 else ("增长" if pct > 0 else "下降")
            assert word in cells[4] and (word == "持平" or f"{_q(abs(pct), '0.01')}%" in cells[4]), (code, cells[4])
        # rate footnote: numerator and denominator with thousands separators
        if r["unit"] == "%":
            foot = re.search(rf"<code>{code}</code></td>(.*?)</tr>", html.split('id="rates"')[1], flags=re.S)
            assert foot, code
            for part in (r["numerator"], r["denominator"], r["ytd_numerator"], r["ytd_denominator"]):
                assert f">{_q(part, '1'):,.0f}<" in foot.group(1), (code, part)

    # the narrative cites the headline figures (year to date in 截至, the month in 其中)
    def cites(code: str, label: str, field: str = "ytd_value") -> None:
        r = totals.get(code)
        if r is None or r[field] is None:
            return
        want = f"{label}{expected(r[field], r['unit'])}"
        assert want in paras, (want, paras)

    cites("REG_NEW", "新设市场主体")
    cites("REG_STOCK", "实有市场主体")
    cites("REG_NEW", "新设市场主体", "value")
    cites("SMP_BATCHES", "完成食品安全抽检")
    cites("SMP_PASS_RATE", "合格率")
    cites("EQ_INSPECTION_RATE", "特种设备定期检验率")
    cites("EQ_FINES", "罚款")
    cites("CP_RECEIVED", "受理投诉举报")
    cites("CP_ONTIME_RATE", "按时办结率")
    cites("CP_RECOVERED", "为消费者挽回经济损失")
    for code, r in totals.items():  # 同比 only where the mart has it
        if code in ("REG_NEW", "REG_STOCK", "CP_RECEIVED") and r["yoy_growth_pct"] is not None:
            assert "同比" in paras or "与上年同期持平" in paras
    assert "None" not in text and "nan" not in text.lower().split()

    # provenance: as_of_date, publication and run in the footer
    footer = html.split('id="provenance"')[1]
    assert str(as_of) in footer
    assert f"#{pub.publication_id}" in footer and RUN_ID in footer

    # charts: inline SVG, no external resource, no script
    assert html.count("<svg") >= 2 and "<script" not in html
    assert not re.search(r'(src|href)="(https?:|file:|/)', html)
    # no personal data: no phone or ID number anywhere, not even in the charts
    assert not PHONE.search(html) and not ID_NO.search(html)
    for name in ("张一", "李一", "甲", "电视坏了"):
        assert name not in text


def test_work_report_narrative_snippet(published):
    """The exact sentences for 2024-03 (registration, YoY decrease) from the hand-computed data."""
    path = build_work_report(date(2024, 3, 1))
    html = path.read_text(encoding="utf-8")
    paras = unescape(re.sub(r"<[^>]+>", "", " ".join(re.findall(r'<p class="para"[^>]*>(.*?)</p>', html, flags=re.S))))
    # registration data run to 2024-03-20 (as_of_date): 2024 to date E4 设立 (1; 2023 to 03-20: E1 + E3 = 2 → −50 %),
    # E5 简易注销 (1), net 1 + 1 迁入 − 1 − 1 迁出 − 1 吊销 = −1, E6 个转企; stock S1 N3 N4 = 3 (2023-03: S1 S4 N1 N2 = 4 → −25 %);
    # online 1/1; AR 2023: S1, N2 of due S1 S4 N2 (N1 cancelled in 2024-01, before 06-30) → 2/3
    assert ("截至3月20日，全市新设市场主体1户，同比下降50.00%，注销市场主体1户，净减少1户，个转企1户；"
            "实有市场主体3户，同比下降25.00%；设立登记全程电子化办理率100.00%，2023年度年报率66.67%。"
            "其中3月1日至20日新设市场主体0户，注销0户，迁入1户，迁出1户。") in paras, paras


def test_work_report_without_published_marts(warehouse_env, tmp_path):
    """A fresh warehouse (nothing published yet) gives a page that says so, not a crash."""
    path = build_work_report(date(2024, 5, 1), out_dir=tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "尚无已发布的集市数据" in html and "<svg" not in html


def test_work_report_opens_in_a_browser(published, tmp_path):
    """Headless Chromium loads the page from disk (no server) and keeps the inline charts and the text."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("headless Chromium not available (Debian package `chromium`, installed by make system-deps)")
    path = build_work_report(date(2024, 2, 1))
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert dom.count("<svg") >= 2 and "主要工作成效" in dom and "比率的分子与分母" in dom
