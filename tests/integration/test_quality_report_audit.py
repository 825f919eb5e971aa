"""The monthly quality report as an auditor reads it, on a real warehouse, checked in headless Chromium.

Two months of one feed: January delivered 27–29 (30 waived by a named person,
31 never delivered: missing at the month's end), 28 re-delivered corrected,
27 re-run with identical files (a no-op); February 3, and 4 refused. One raw
gate over 27 January – 3 February (a range covering both months), a marts
gate that passes and is published (data as of 29 January), one that fails
(held back), a restore by a named person. Then the January and February reports must file each of those
under the months of the data they cover, show the load in effect with the
no-op and the replacement as events (the no-op changes no total), say which
days are missing and who waived which, list every human action with its
person and reason, and be entirely in Chinese with every time in Beijing
time, labelled. The PDF is printed by the same Chromium, with page numbers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from msdw.errors import DeliveryRefused
from msdw.ingest import load_day
from msdw.ingest.loader import waive_delivery
from msdw.quality import GateFailed, publish_marts, restore_publication, run_gate
from msdw.quality.report import build_quality_report, quality_data, write_pdf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_quality_gate  # noqa: E402
from ingest_helpers import csv_bytes, deliver, row  # noqa: E402
from test_quality_gate import JURISDICTION, build_candidates  # noqa: E402

pytestmark = pytest.mark.slow

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)
DAYS = [date(2025, 1, 27), date(2025, 1, 28), date(2025, 1, 29), date(2025, 2, 3)]
REFUSED_DAY = date(2025, 2, 4)

# In the page: text outside <code>/<time> with Latin words, and times outside <time>
ENGLISH_JS = r"""(() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('code, time, style, script').forEach(e => e.remove());
  return (body.innerText.match(/[A-Za-z]{2,}[A-Za-z0-9_.-]*/g) || []);
})()"""
TIMES_JS = r"""(() => {
  const out = {outside: [], unlabelled: [], zones: []};
  const body = document.body.cloneNode(true);
  body.querySelectorAll('time').forEach(e => e.remove());
  out.outside = body.innerText.match(/\b\d{1,2}:\d{2}\b/g) || [];
  document.querySelectorAll('time').forEach(t => {
    out.zones.push(t.getAttribute('datetime').slice(-6));
    const td = t.closest('td');
    let label = '';
    if (td) {
      let col = 0;  // the visual column (cells before it may span several)
      for (let c = td.previousElementSibling; c; c = c.previousElementSibling) col += c.colSpan;
      const th = td.closest('table').querySelectorAll('thead th')[col];
      label = th ? th.innerText : '';
    } else {
      label = t.parentElement.innerText;
    }
    if (!label.includes('北京时间')) out.unlabelled.push(t.outerHTML);
  });
  return out;
})()"""


def _rows(day: date, n: int, **bad: str) -> list[dict[str, str]]:
    out = [row("registration_events", event_id=f"E{day:%m%d}{i:03d}", approved_date=f"{day:%Y-%m-%d}",
               established_date=f"{day:%Y-%m-%d}") for i in range(n)]
    if bad:
        out.append(row("registration_events", event_id=f"E{day:%m%d}999", approved_date=f"{day:%Y-%m-%d}",
                       established_date=f"{day:%Y-%m-%d}", **bad))
    return out


def _deliver(landing: Path, day: date, records: list[dict[str, str]], **kw) -> None:
    deliver(landing, "registration", {"registration_events.csv": csv_bytes("registration_events", records)},
            business_date=day, **kw)


@pytest.fixture(scope="module")
def audited(module_warehouse, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MSDW_JURISDICTION", JURISDICTION)
    # the candidates' data end on the 29th: everything up to it was delivered, so the marts gate can pass
    mp.setattr(test_quality_gate, "AS_OF", DAYS[2])
    landing = tmp_path_factory.mktemp("landing")
    try:
        for day in DAYS:
            _deliver(landing, day, _rows(day, 4, event_type="合并"))  # one row refused: not a known 业务类型
            load_day(str(landing), "registration", day)
        before = quality_data(JAN)["totals"]
        load_day(str(landing), "registration", DAYS[0])          # identical files again: a no-op
        _deliver(landing, DAYS[1], _rows(DAYS[1], 5))              # corrected: the bad row fixed, one more row
        load_day(str(landing), "registration", DAYS[1])
        _deliver(landing, REFUSED_DAY, _rows(REFUSED_DAY, 3), rows={"registration_events.csv": 9})
        with pytest.raises(DeliveryRefused):
            load_day(str(landing), "registration", REFUSED_DAY)
        waive_delivery("registration", date(2025, 1, 30), "登记系统停机，当日无数据（工单 #88）", by="李审计")
        run_gate("raw_registration_events", run_id="ingest_registration/catch-up", business_date=DAYS[-1],
                 date_from=DAYS[0], data_docs=False)
        build_candidates(module_warehouse, run_id="marts/run-1")
        run_gate("marts", run_id="marts/run-1", data_docs=False)
        first = publish_marts(run_id="marts/run-1")
        build_candidates(module_warehouse, run_id="marts/run-2", bad_rate=150)
        with pytest.raises(GateFailed):
            run_gate("marts", run_id="marts/run-2", data_docs=False)
        restore_publication(first.publication_id, by="王复核", reason="核对一月数据后回退")
        out = tmp_path_factory.mktemp("reports")
        yield {"before": before, "jan": build_quality_report(JAN, out, pdf=True), "feb": build_quality_report(FEB, out),
               "first": first, "out": out}
    finally:
        mp.undo()


def test_a_no_op_rerun_changes_no_total_and_is_shown_as_an_event(audited, module_warehouse, monkeypatch):
    monkeypatch.setenv("MSDW_WAREHOUSE_DSN", module_warehouse)
    data = quality_data(JAN)
    before, after = audited["before"], data["totals"]
    # 27 and 29 unchanged, 28 corrected: 5 instead of 4 + 1 rows, none quarantined any more
    assert before["rows_in"] == 15 and after["rows_in"] == 15
    assert (before["rows_quarantined"], after["rows_quarantined"]) == (3, 2)
    assert after["noop"] == 1 and after["replaced"] == 1 and after["feed_days"] == 3
    day27 = next(d for d in data["feed_days"] if d.business_date == DAYS[0])
    assert day27.effect["status"] == "loaded" and day27.effect["rows_in"] == 5
    assert [e["status"] for e in day27.events] == ["noop"]
    day28 = next(d for d in data["feed_days"] if d.business_date == DAYS[1])
    assert day28.effect["status"] == "replaced" and [e["superseded_by"] for e in day28.events] == [day28.effect["load_id"]]


def test_each_month_files_its_gates_publications_and_actions(audited, module_warehouse, monkeypatch):
    monkeypatch.setenv("MSDW_WAREHOUSE_DSN", module_warehouse)
    jan, feb = quality_data(JAN), quality_data(FEB)
    for data in (jan, feb):
        gates = {gate: rs for gate, _, rs in data["gate_runs"]}
        raw = gates["raw_registration_events"]
        assert (raw[0]["date_from"], raw[0]["date_to"]) == (DAYS[0], DAYS[-1])  # the range, in both months
        # the marts gates validated every day loaded (27 January – 3 February): filed under both months
        assert sorted(run_id for gate, run_id, _ in data["gate_runs"] if gate == "marts") == ["marts/run-1", "marts/run-2"]
        assert [h["run_id"] for h in data["held_back"]] == ["marts/run-2"]
    # the publication carries data up to 29 January: January's, not February's
    assert [p["action"] for p in jan["publications"]] == ["publish", "restore"] and feb["publications"] == []
    assert jan["publications"][0]["gate_passed"] is True  # the gate that authorised it is named
    assert jan["publications"][0]["gate_runs"]
    who = {(a["what"][:2], a["actor"], a["reason"]) for a in jan["actions"]}
    assert who == {("豁免", "李审计", "登记系统停机，当日无数据（工单 #88）"), ("回退", "王复核", "核对一月数据后回退")}
    assert feb["actions"] == []
    missing = {(d["business_date"], bool(d["waivers"]), d["refused_attempts"] > 0) for d in jan["missing_days"]}
    assert missing == {(date(2025, 1, 30), True, False), (date(2025, 1, 31), False, False)}  # the month's end too
    assert (REFUSED_DAY, False, True) in {(d["business_date"], bool(d["waivers"]), d["refused_attempts"] > 0)
                                         for d in feb["missing_days"]}


def test_the_report_reads_in_chinese_with_beijing_times_in_chromium(audited):
    from msdw.browser import Browser

    if not shutil.which("chromium"):
        pytest.skip("headless Chromium not installed (make system-deps)")
    with Browser() as b:
        for key in ("jan", "feb"):
            page = b.open(audited[key].resolve().as_uri(), offline=True)
            english = page.evaluate(ENGLISH_JS)
            assert english == [], f"{key}: English outside code identifiers: {english[:20]}"
            times = page.evaluate(TIMES_JS)
            assert times["outside"] == [] and times["unlabelled"] == [], times
            assert times["zones"] and set(times["zones"]) == {"+08:00"}
            text = page.evaluate("document.body.innerText")
            assert "生成时间" in text and "北京时间" in text
            if key == "jan":
                for status in ("已装载", "已替换", "无变化"):
                    assert status in text
                assert "未到货" in text and "已豁免" in text and "均已到货" not in text
                reasons = page.evaluate("[...document.querySelectorAll('#quarantine-table td.reason')].map(e => e.innerText)")
                assert reasons == ["取值不在规定范围内:业务类型"]
                actors = page.evaluate("[...document.querySelectorAll('#actions-table td.actor')].map(e => e.innerText)")
                assert set(actors) == {"李审计", "王复核"}
                assert "比率（单位 %）在" in text  # the failed expectation of the held-back run, by its Chinese name
                assert "2025-01-27 至 2025-02-03" in text
            else:
                assert "已拒收" in text and "文件数据行数为 3，到货清单为 9" in text
            page.close()


def test_the_pdf_is_printed_with_page_numbers(audited):
    pdf = audited["jan"].with_suffix(".pdf")
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (Debian poppler-utils) not installed: make system-deps")
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                                check=True).stdout).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert pages >= 2 and "数据质量月报" in text and "李审计" in text
    assert re.search(rf"第\s*1\s*页\s*/\s*共\s*{pages}\s*页", text)
    assert re.search(rf"第\s*{pages}\s*页\s*/\s*共\s*{pages}\s*页", text)
    again = write_pdf(audited["feb"], title="数据质量月报 2025年2月")
    assert again.stat().st_size > 1000


def test_gate_pages_render_styled_with_the_network_off(audited, module_warehouse, monkeypatch):
    """The project's Data Docs: every gate run of a month, from the audit, styled with no network at all."""
    import io

    from PIL import Image

    from msdw.browser import Browser
    from msdw.quality.gate_docs import build_gate_docs

    monkeypatch.setenv("MSDW_WAREHOUSE_DSN", module_warehouse)
    index = build_gate_docs(audited["out"])
    root = index.parent
    assert {p.name for p in root.glob("*.html")} >= {"index.html", "2025-01.html", "2025-02.html"}
    runs = sorted(root.glob("runs/*.html"))
    assert len(runs) == 3  # the raw range gate and the two marts gates
    jan = (root / "2025-01.html").read_text(encoding="utf-8")
    assert all(f'href="runs/{p.name}"' in jan for p in runs)  # the month's index covers every run, not the last
    for page in (index, root / "2025-01.html", *runs):
        assert not re.search(r"(src|href)=\"(https?:)?//", page.read_text(encoding="utf-8")), page
    if not shutil.which("chromium"):
        pytest.skip("headless Chromium not installed (make system-deps)")
    with Browser() as b:
        for page_path in (index, root / "2025-01.html", runs[-1]):
            page = b.open(page_path.resolve().as_uri(), offline=True)
            assert all(u.startswith("file://") for u in page.requests), page.requests
            style = page.evaluate("""(() => { const h = getComputedStyle(document.querySelector('h1'));
                const t = getComputedStyle(document.querySelector('table'));
                return [h.borderBottomColor, h.borderBottomStyle, t.borderCollapse, document.fonts.check('16px "Noto Sans CJK SC"')]; })()""")
            assert style[:3] == ["rgb(178, 34, 34)", "solid", "collapse"], style
            assert page.evaluate("document.querySelectorAll('table tr').length") >= 2
            png = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
            pixels = list(png.getdata())
            ink = sum(1 for r, g, bl in pixels if r + g + bl < 600) / len(pixels)
            accent = sum(1 for r, g, bl in pixels if r > 150 and g < 70 and bl < 70)
            assert ink > 0.005 and accent > 200, (page_path.name, ink, accent)  # text and the styled red rules
            ENGLISH = page.evaluate(ENGLISH_JS)
            assert ENGLISH == [], (page_path.name, ENGLISH[:20])
            page.close()
        failed_run = root / "runs" / f"{max(int(p.stem) for p in runs)}.html"
        text = b.open(failed_run.resolve().as_uri(), offline=True).evaluate("document.body.innerText")
        assert "未通过" in text and "比率（单位 %）在" in text and "通过" in text


def test_msdw_docs_serves_the_dbt_docs_over_http(audited, module_warehouse, monkeypatch, tmp_path, capsys):
    """dbt's index.html loads manifest.json and catalog.json with fetch: served on 127.0.0.1 they load."""
    import importlib.util

    from msdw import docs_server
    from msdw.browser import Browser
    from msdw.cli import build_parser, cmd_docs

    monkeypatch.setenv("MSDW_WAREHOUSE_DSN", module_warehouse)
    monkeypatch.setenv("MSDW_REPORTS_DIR", str(audited["out"]))
    assert cmd_docs(build_parser().parse_args(["docs", "--no-generate", "--no-serve", "--port", "0"])) == 0
    out = capsys.readouterr().out
    assert re.search(r"quality gates : http://127\.0\.0\.1:\d+/gate_docs/index\.html", out), out

    target = tmp_path / "target"  # what dbt docs generate writes: its index.html and two JSON files
    target.mkdir()
    dbt_index = Path(importlib.util.find_spec("dbt.task.docs").submodule_search_locations[0]) / "index.html"
    shutil.copy(dbt_index, target / "index.html")
    for name in ("manifest.json", "catalog.json"):
        (target / name).write_text("{}", encoding="utf-8")
    server = docs_server.start({"/dbt/": target, "/": audited["out"]}, port=0)
    try:
        if not shutil.which("chromium"):
            pytest.skip("headless Chromium not installed (make system-deps)")
        with Browser() as b:
            page = b.open(docs_server.url(server, "/dbt/index.html"))
            loaded = page.evaluate("""new Promise(r => setTimeout(() => r(performance.getEntriesByType('resource')
                .map(e => [e.name.split('/').pop().split('?')[0], e.responseStatus])), 3000))""")
            assert ["manifest.json", 200] in loaded and ["catalog.json", 200] in loaded, loaded
            gates = b.open(docs_server.url(server, "/gate_docs/index.html"))
            assert gates.evaluate("document.title") == "质量闸门文档"
    finally:
        server.shutdown()
