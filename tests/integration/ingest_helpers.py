"""Handcrafted deliveries for the ingestion tests (no dependency on the generator)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from msdw.contracts import feed as contract

BD = date(2024, 5, 8)

# one valid row per feed, by field (values as a person would deliver them)
VALID: dict[str, dict[str, str]] = {
    "registration_events": {
        "event_id": "E0001", "uscc": "91330106MA2B0EXH2D", "entity_name": "杭州示例科技有限公司",
        "entity_type_code": "1130", "industry_code": "I6513", "region_code": "330106",
        "registration_authority": "西湖区市场监督管理局", "registered_capital": "1,000.50",
        "established_date": "2024-05-01", "event_type": "设立", "approved_date": "2024/05/07",
        "previous_entity_type_code": "", "channel": "全程电子化", "legal_representative": "张三",
    },
    "annual_reports": {
        "uscc": "91330106MA2B0EXH2D", "report_year": "2023", "submitted_date": "20240507",
        "entity_type_code": "1130", "region_code": "330106",
    },
    "entity_snapshot": {
        "uscc": "91330106MA2B0EXH2D", "entity_name": "杭州示例科技有限公司", "entity_type_code": "1130",
        "industry_code": "6513", "region_code": "330106", "registration_authority": "西湖区市场监督管理局",
        "registered_capital": "100", "established_date": "2019年3月1日", "channel": "窗口",
        "registration_status": "存续", "legal_representative": "李四",
    },
    "sampling_results": {
        "sample_no": "SP2024001", "program": "食品安全监督抽检", "task_level": "市", "product_category": "粮食加工品",
        "sample_name": "大米", "stage": "流通", "sampled_uscc": "91330106MA2B0EXH2D", "sampled_entity_name": "某超市",
        "region_code": "330106", "sampled_date": "2024-04-20", "report_date": "2024-05-06", "verdict": "合格",
        "failed_items": "", "lab": "杭州市食品药品检验研究院", "disposal_status": "", "disposal_date": "",
    },
    "rapid_tests": {
        "test_id": "RT0001", "station": "文三路农贸市场", "region_code": "330106", "sample_name": "青菜",
        "test_item": "有机磷和氨基甲酸酯类农药", "test_date": "2024-05-08", "result": "阴性", "disposal": "",
        "disposed_kg": "0",
    },
    "equipment_registry": {
        "equipment_code": "31103301062024000001", "category_code": "3000", "variety": "曳引驱动乘客电梯",
        "user_uscc": "91330106MA2B0EXH2D", "user_name": "杭州示例科技有限公司", "region_code": "330106",
        "use_certificate_no": "梯11浙A00001(24)", "registered_date": "2024-05-08", "status": "在用",
        "next_inspection_due": "2025-05-08", "key_supervision": "是", "pipeline_length_m": "",
    },
    "equipment_inspections": {
        "inspection_id": "INS0001", "equipment_code": "31103301062024000001", "inspection_type": "定期检验",
        "inspection_date": "2024-05-08", "conclusion": "合格", "hazards_found": "0", "directive_no": "",
        "case_opened": "否", "fine_amount": "0", "next_inspection_due": "2025-05-08",
    },
    "equipment_hazards": {
        "hazard_id": "HZ0001", "inspection_id": "INS0001", "equipment_code": "31103301062024000001",
        "severity": "一般", "found_date": "2024-05-08", "rectify_deadline": "2024-05-20", "rectified_date": "",
    },
    "complaints": {
        "ticket_id": "T2024050800001", "channel": "12315平台", "ticket_type": "投诉", "received_at": "2024-05-08 09:30",
        "accepted_date": "2024-05-08", "closed_date": "", "status": "已受理", "due_date": "", "category": "家用电子电器类",
        "respondent_uscc": "91330106MA2B0EXH2D", "respondent_name": "杭州示例科技有限公司", "region_code": "330106",
        "amount_involved": "2,999.00", "recovered_amount": "0", "outcome": "", "complainant_name": "王五",
        "complainant_phone": "13800138000", "complainant_id_no": "11010519491231002X", "content": "电视机屏幕有坏点",
    },
}


def row(feed: str, **changes: str) -> dict[str, str]:
    r = dict(VALID[feed])
    r.update(changes)
    return r


def csv_bytes(feed: str, rows: list[dict[str, Any]], *, encoding: str = "utf-8", headers: list[str] | None = None,
              lineterminator: str = "\r\n", header_map: dict[str, str] | None = None) -> bytes:
    """A CSV of ``rows`` (dicts by field) with the contract's Chinese headers."""
    c = contract(feed)
    fields = headers or c.fields
    names = {**c.field_to_header, **(header_map or {})}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=lineterminator)
    w.writerow([names.get(f, f) for f in fields])
    for r in rows:
        w.writerow([r.get(f, "") for f in fields])
    return buf.getvalue().encode(encoding)


def deliver(landing: Path, source: str, files: dict[str, bytes], *, business_date: date = BD,
            rows: dict[str, int] | None = None, sha: dict[str, str] | None = None, manifest: dict | None = None) -> Path:
    """Write files + manifest.json into landing/<source>/<date>/ (rows counted with the csv module)."""
    day = landing / source / business_date.isoformat()
    day.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, data in files.items():
        (day / name).write_bytes(data)
        if rows and name in rows:
            n = rows[name]
        elif name.endswith(".csv"):
            text = data.decode("utf-8-sig") if not data.startswith(b"\xff") else ""
            try:
                n = max(0, sum(1 for r in csv.reader(io.StringIO(text, newline="")) if r) - 1)
            except Exception:
                n = 0
        else:
            n = 0
        entries.append({"name": name, "rows": n, "sha256": (sha or {}).get(name) or hashlib.sha256(data).hexdigest()})
    doc = manifest or {"source": source, "business_date": business_date.isoformat(), "files": entries}
    (day / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return day
