"""The monthly quality report, end to end: real loads, gates, a held-back and a published run,
rendered by headless Chromium (the HTML must open without a server). The auditor's reading of
it (filing by business date, events, actions, Chinese, Beijing time, PDF) is
tests/integration/test_quality_report_audit.py.

Chromium is the Debian package ``chromium``. When /usr/bin/chromium is missing
the test installs it (``apt-get install -y chromium``) only when running as
root with ``CI`` set — ``make test`` sets CI — and otherwise skips with the
reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest

from msdw.ingest import load_feed
from msdw.quality import GateFailed, publish_marts, run_gate
from msdw.quality.report import build_quality_report, build_work_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from ingest_helpers import csv_bytes, deliver, row  # noqa: E402
from test_quality_gate import JURISDICTION, build_candidates  # noqa: E402

DAY = date(2024, 5, 8)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("headless Chromium not available: install the Debian package `chromium` "
                "(make test installs it when run as root with CI set)")


def dump_dom(html: Path, tmp_path: Path) -> str:
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
def test_quality_report_renders_the_month(warehouse_env, tmp_path, monkeypatch):
    monkeypatch.setenv("MSDW_JURISDICTION", JURISDICTION)
    landing = tmp_path / "landing"
    good = [row("registration_events", event_id=f"E{i:04d}") for i in range(1, 6)]
    bad_date = row("registration_events", event_id="E9001", approved_date="2099-01-01")  # after the business date: R
    bad_type = row("registration_events", event_id="E9002", event_type="合并")  # not in the set: R
    deliver(landing, "registration", {"registration_events.csv": csv_bytes("registration_events", [*good, bad_date, bad_type])},
            business_date=DAY)
    res = load_feed(str(landing), "registration", "registration_events", DAY)
    assert (res.rows_loaded, res.rows_quarantined) == (5, 2)
    run_gate("raw_registration_events", run_id="ingest_registration/scheduled__2024-05-08", business_date=DAY)

    build_candidates(warehouse_env, run_id="marts/run-1")
    run_gate("marts", run_id="marts/run-1")
    publish_marts(run_id="marts/run-1", as_of_date=DAY)
    build_candidates(warehouse_env, run_id="marts/run-2", bad_rate=150)
    with pytest.raises(GateFailed):
        run_gate("marts", run_id="marts/run-2")

    with psycopg.connect(warehouse_env) as conn:
        by_rule = conn.execute("""select quarantine_by_rule from audit.load_files
                                  where feed = 'registration_events' and business_date = %s""", (DAY,)).fetchone()[0]
    month = DAY.replace(day=1)
    # every gate run and the publication are filed under May 2024: the month of the data they cover
    report = build_quality_report(month, out_dir=tmp_path / "reports")
    work = build_work_report(month, out_dir=tmp_path / "reports")
    assert report.name == "quality_report_2024-05.html" and work.exists()

    dom = dump_dom(report, tmp_path)
    text = re.sub(r"<[^>]+>", " ", dom)
    assert "数据质量月报 · 2024年5月" in text
    for heading in ("数据接收与装载", "隔离原因统计", "警告规则统计", "质量闸门结果", "发布记录", "人工操作记录"):
        assert heading in text
    assert re.search(r'id="total-quarantined">\s*2\s*<', dom)
    assert sum(by_rule.values()) == 2
    for reason in ("取值不在规定范围内:业务类型", "晚于业务日期:核准日期"):  # 「规则:字段」 of the two refused rows
        assert re.search(rf'class="reason">{re.escape(reason)}</td>', dom), reason
    assert "市场主体登记业务" in text and "2024-05-08" in text
    assert "未通过的检查项说明" in dom and "比率（单位 %）在" in dom  # the failed expectation, by its Chinese name
    assert "marts/run-2" in dom  # held back
    assert "张三" not in dom  # personal data never reaches the report
