"""The Chinese names the quality report and the gate pages show: expectations, statuses, refusal reasons."""

from __future__ import annotations

import re

import pytest

from msdw.quality.config import LAYERS, load_suite, suite_paths
from msdw.quality.labels import expectation_label, gate_label, refusal_label, status_label

LATIN_OUTSIDE_CODE = re.compile(r"[A-Za-z]{2,}")


def _outside_backticks(label: str) -> str:
    return re.sub(r"`[^`]*`", "", label)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_expectation_has_a_chinese_name(layer):
    for path in suite_paths(layer):
        spec = load_suite(path)
        for e in spec.expectations:
            label = ((e.get("meta") or {}).get("msdw") or {}).get("label_zh")
            assert label and re.search(r"[\u4e00-\u9fff]", label), f"{path.name}: {e['description']}"
            assert not LATIN_OUTSIDE_CODE.search(_outside_backticks(label)), f"{path.name}: {label}"
            # what the report finds from what the audit keeps (suite name, English description)
            assert expectation_label(spec.name, e["type"], None, e["kwargs"], e["description"]) == label


def test_an_expectation_no_longer_in_its_suite_gets_a_name_from_its_type():
    label = expectation_label("warehouse.gone", "expect_column_values_to_not_be_null", "uscc", {}, "old text")
    assert label == "`uscc` 不为空"


def test_statuses_and_gates_in_chinese():
    assert [status_label(s) for s in ("loaded", "replaced", "noop", "refused", "failed")] == [
        "已装载", "已替换", "无变化", "已拒收", "失败"]
    assert gate_label("raw_complaints") == "原始层闸门 · 投诉举报诉求"
    assert gate_label("marts") == "集市闸门"


@pytest.mark.parametrize(("message", "expected"), [
    ("FileRefused: /l/registration/2025-02-04/registration_events.csv: 3 data rows, the manifest says 9: "
     "truncated or corrupt file", "文件数据行数为 3，到货清单为 9：文件被截断或损坏"),
    ("delivery refused: complaints.csv: sha256 ab does not match the manifest (cd): truncated or corrupt",
     "文件校验值（`sha256`）与到货清单不符：文件被截断或损坏"),
    ("FileRefused: x.csv: line 1: required column 诉求编号 (ticket_id) is missing from the header",
     "表头缺少必填列 诉求编号 （`ticket_id`）"),
    ("identical to load 12 (same sha256): nothing changed", "与装载 #12 的文件完全相同（`sha256` 一致），未作改动"),
    ("DeliveryRefused: /l/complaints/2025-01-02: no manifest — the delivery is not complete",
     "缺少到货清单（`manifest.json`），当日到货不完整"),
])
def test_refusal_reasons_are_translated(message, expected):
    assert refusal_label(message, "refused") == expected
    assert not LATIN_OUTSIDE_CODE.search(_outside_backticks(expected))


def test_an_unknown_refusal_says_so_in_chinese():
    assert refusal_label("something new went wrong", "refused") == "已拒收（原因见原文）"
    assert refusal_label("KeyError: boom", "failed") == "装载失败（系统错误，详见原文）"
