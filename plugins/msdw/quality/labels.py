"""Chinese names of what the audit records in code: gates, expectations, load statuses, refusal reasons.

The quality report and the gate pages are read by auditors, in Chinese. The
names come from the project's vocabularies, not from a second list here:

* a rule — its 中文名 in ``plugins/msdw/contracts/RULES.md`` (``msdw.contracts.rule_label``);
* an expectation — ``meta.msdw.label_zh`` in its suite file (``expectations/``),
  found by suite name and English description (what ``audit.quality_results``
  keeps); an expectation no longer in its suite falls back to a template of
  its type;
* a refusal reason — the loader's English one-line message (kept verbatim in
  ``audit.load_files.message`` and shown beside) translated by pattern.

Labels may contain code identifiers in backticks (```region_code```); the
report's ``code`` filter renders them as ``<code>``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from msdw.contracts import SOURCE_TITLES_ZH, reason_label, rule_label
from msdw.contracts import feed as feed_contract

STATUS_ZH = {"loaded": "已装载", "replaced": "已替换", "noop": "无变化", "refused": "已拒收", "failed": "失败"}
LAYER_ZH = {"warehouse": "仓库层闸门", "marts": "集市闸门"}
ACTION_ZH = {"publish": "发布", "restore": "回退"}

_TYPE_TEMPLATES = {
    "expect_column_to_exist": "列 `{column}` 存在",
    "expect_column_values_to_not_be_null": "`{column}` 不为空",
    "expect_column_values_to_be_unique": "`{column}` 唯一",
    "expect_compound_columns_to_be_unique": "（{columns}）组合唯一",
    "expect_column_values_to_be_in_set": "`{column}` 只取约定的值",
    "expect_table_row_count_to_be_between": "行数在规定范围内",
    "expect_column_mean_to_be_between": "`{column}` 的平均值在规定范围内",
    "unexpected_rows_expectation": "自定义检查：不应有违规行",
}


def source_order(source: str) -> int:
    from msdw.contracts import SOURCES

    return SOURCES.index(source) if source in SOURCES else len(SOURCES)


def source_label(source: str) -> str:
    return SOURCE_TITLES_ZH.get(source, source)


def feed_label(feed_name: str) -> str:
    """The feed's Chinese title from its contract (the name itself for the manifest or an unknown feed)."""
    if feed_name == "manifest":
        return "到货清单"
    try:
        return feed_contract(feed_name).title_zh
    except KeyError:
        return feed_name


def gate_label(gate: str) -> str:
    """「原始层闸门 · 投诉举报诉求」, 「仓库层闸门」, 「集市闸门」."""
    if gate.startswith("raw_"):
        return f"原始层闸门 · {feed_label(gate[4:])}"
    return LAYER_ZH.get(gate, gate)


def status_label(status: str | None) -> str:
    return STATUS_ZH.get(status or "", status or "")


@cache
def _suite_labels() -> dict[tuple[str, str], str]:
    """(suite name, English description) → label_zh, over every suite file of the repository."""
    from msdw.quality.config import LAYERS, load_suite, suite_paths

    out: dict[tuple[str, str], str] = {}
    for layer in LAYERS:
        for path in suite_paths(layer):
            spec = load_suite(path)
            for e in spec.expectations:
                label = ((e.get("meta") or {}).get("msdw") or {}).get("label_zh")
                if label and e.get("description"):
                    out[(spec.name, e["description"])] = label
    return out


def expectation_label(suite: str | None, expectation_type: str, column: str | None,
                      kwargs: dict[str, Any] | None, description: str | None) -> str:
    """The Chinese name of an expectation as recorded in ``audit.quality_results``."""
    label = _suite_labels().get((suite or "", description or ""))
    if label:
        return label
    kwargs = kwargs or {}
    template = _TYPE_TEMPLATES.get(expectation_type, "检查项")
    columns = "、".join(f"`{c}`" for c in kwargs.get("column_list") or [])
    return template.format(column=column or kwargs.get("column") or "", columns=columns)


# --- refusal reasons ------------------------------------------------------------------------------
# (pattern over the loader's message, Chinese sentence). The first match wins; groups by name.
_REFUSALS: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.IGNORECASE | re.DOTALL), zh) for p, zh in [
    (r"identical to load (?P<load>\d+)", "与装载 #{load} 的文件完全相同（`sha256` 一致），未作改动"),
    (r"no manifest", "缺少到货清单（`manifest.json`），当日到货不完整"),
    (r"manifest is not valid JSON", "到货清单不是有效的 `JSON`"),
    (r"manifest must be an object", "到货清单格式错误：缺少文件列表"),
    (r"manifest refused", "到货清单被拒收：内容与约定不符"),
    (r"sha256 \S+ does not match the manifest", "文件校验值（`sha256`）与到货清单不符：文件被截断或损坏"),
    (r"(?P<rows>\d+) data rows, the manifest says (?P<declared>\d+)",
     "文件数据行数为 {rows}，到货清单为 {declared}：文件被截断或损坏"),
    (r"listed in the manifest but not delivered", "到货清单列出的文件未送达"),
    (r"path outside|resolves outside|not a regular delivered file|plain name inside", "文件路径不合规（不在当日到货目录内），已拒收"),
    (r"required column (?P<col>.+?) is missing from the header", "表头缺少必填列 {col}"),
    (r"appear more than once", "表头中有重复的列名"),
    (r"UTF-16", "文件编码为 `UTF-16`，不是约定的 `UTF-8` 或 `GB18030`"),
    (r"NUL|binary|cannot decode|not valid text", "文件含有无法识别的字符（不是 `UTF-8` 或 `GB18030` 文本）"),
    (r"unsupported file type", "文件类型不受支持（应为 `.csv` 或 `.xlsx`）"),
    (r"is not a feed of source", "文件不属于该来源的任何数据项"),
    (r"listed more than once", "到货清单中同一数据项出现多次"),
    (r"the file is empty", "文件为空（0 字节；无业务的日子应为只有表头的文件）"),
    (r"no header row|unreadable header", "文件第 1 行没有可读的表头"),
    (r"malformed CSV", "`CSV` 格式错误（引号或分隔符不合规）"),
    (r"not valid in the detected encoding", "文件中有不符合所识别编码的字节"),
    (r"not a readable XLSX", "不是可读取的 `XLSX` 工作簿"),
    (r"OperationalError|connection|timeout|TransientError", "数据库连接中断，装载失败（可重试）"),
]]


def refusal_label(message: str | None, status: str | None = None) -> str:
    """A refused or failed attempt's reason in Chinese (the English original is shown beside it)."""
    if not message:
        return ""
    for pattern, zh in _REFUSALS:
        m = pattern.search(message)
        if m:  # a captured "header (field)" keeps the field as code
            return zh.format(**{k: re.sub(r"\((\w+)\)", r"（`\1`）", v or "") for k, v in m.groupdict().items()})
    return "装载失败（系统错误，详见原文）" if status == "failed" else "已拒收（原因见原文）"


def source_of(feed_name: str) -> str:
    try:
        return feed_contract(feed_name).source
    except KeyError:
        return ""


__all__ = ["STATUS_ZH", "ACTION_ZH", "expectation_label", "feed_label", "gate_label", "reason_label",
           "refusal_label", "rule_label", "source_label", "source_of", "source_order", "status_label"]
