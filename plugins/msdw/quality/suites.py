"""Raw-layer suites, generated from the feed contracts.

A raw feed's checks follow from its contract (required columns, key, W
rules), so its suite is derived, not hand-written: ``python -m
msdw.quality.suites`` rewrites ``expectations/raw/<feed>.json`` and a unit
test fails when a committed file is out of date with the contracts. Bounds
are named parameters resolved from ``thresholds.yml`` at run time.

The raw gate validates a query asset over one delivery day (see
``msdw.quality.gate``) that adds one 0/1 column per W rule,
``_w__<rule>__<field>``, so "share of rows flagged" is a column mean computed
in the database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from msdw.contracts import Feed, all_feeds, reason_label
from msdw.quality.config import expectations_dir

RAW_SUITE_VERSION = "1"


def warning_rules(feed: Feed) -> list[tuple[str, str]]:
    """(rule, field) of every W rule of the feed, in contract order."""
    return [(r.rule, c.field) for c in feed.columns for r in c.rules if r.level == "W"]


def warning_flag_column(rule: str, field: str) -> str:
    return f"_w__{rule}__{field}"


def warning_parameter(rule: str, field: str) -> str:
    return f"warning_share_max__{rule}__{field}"


def _label(label_zh: str) -> dict[str, Any]:
    """An expectation's Chinese name (``meta.msdw.label_zh``): what the quality report and gate pages show."""
    return {"msdw": {"label_zh": label_zh}}


def raw_suite_document(feed: Feed) -> dict[str, Any]:
    """The GX 1.x suite (as a JSON-able dict) protecting ``raw.<feed>`` for one delivery day."""
    exps: list[dict[str, Any]] = []
    # personal-data columns are invisible to msdw_transformer, which runs the gate
    for c in feed.columns:
        if c.pii:
            continue
        exps.append({
            "type": "expect_column_to_exist",
            "kwargs": {"column": c.field},
            "description": f"contract column {c.field} ({c.header}) is present in raw.{feed.name}",
            "meta": _label(f"约定列 `{c.field}`（{c.header}）存在"),
        })
    for p in feed.pseudonyms:
        exps.append({
            "type": "expect_column_to_exist",
            "kwargs": {"column": p.field},
            "description": f"pseudonym column {p.field} (keyed hash of {', '.join(p.sources)}) is present",
            "meta": _label(f"化名列 `{p.field}` 存在"),
        })
    exps.append({
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": {"$PARAMETER": "row_count_min"}, "max_value": {"$PARAMETER": "row_count_max"}},
        "description": "rows of the day within the trailing same-weekday baseline (audit.load_files)",
        "meta": _label("当日行数在近几周同星期几的基线范围内"),
    })
    for c in feed.required_columns:
        if c.pii:  # the gate runs as msdw_transformer, which cannot read personal data
            continue
        exps.append({
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": c.field, "mostly": {"$PARAMETER": "required_not_null_mostly"}},
            "description": f"required column {c.field} ({c.header}) is filled",
            "meta": _label(f"必填列 `{c.field}`（{c.header}）不为空"),
        })
    if not any(feed.column(k).pii for k in feed.key):
        if len(feed.key) == 1:
            exps.append({
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": feed.key[0]},
                "description": f"key {feed.key[0]} is unique within the delivery day",
                "meta": _label(f"主键 `{feed.key[0]}` 在当日唯一"),
            })
        else:
            exps.append({
                "type": "expect_compound_columns_to_be_unique",
                "kwargs": {"column_list": list(feed.key)},
                "description": f"key ({', '.join(feed.key)}) is unique within the delivery day",
                "meta": _label("主键（" + "、".join(f"`{k}`" for k in feed.key) + "）在当日唯一"),
            })
    for rule, fld in warning_rules(feed):
        exps.append({
            "type": "expect_column_mean_to_be_between",
            "kwargs": {
                "column": warning_flag_column(rule, fld),
                "min_value": 0,
                "max_value": {"$PARAMETER": warning_parameter(rule, fld)},
            },
            "description": f"share of rows flagged by warning rule {rule}:{fld} stays under its bound",
            "meta": _label("警告规则「{}:{}」标记的行所占比例不超过上限".format(*reason_label(f"{rule}:{fld}", feed.name))),
        })
    return {
        "name": f"raw.{feed.name}",
        "meta": {
            "msdw": {
                "relation": f"raw.{feed.name}",
                "version": RAW_SUITE_VERSION,
                "generated_from": f"plugins/msdw/contracts/feeds/{feed.name}.yaml",
                "batch": "one delivery day (_business_date), personal-data columns excluded",
                "warning_flags": {warning_flag_column(r, f): f"{r}:{f}" for r, f in warning_rules(feed)},
            }
        },
        "expectations": exps,
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def write_raw_suites(target: Path | None = None) -> list[Path]:
    """(Re)write every raw suite from the contracts; returns the files written."""
    target = target or expectations_dir() / "raw"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for feed in all_feeds():
        path = target / f"{feed.name}.json"
        path.write_text(render(raw_suite_document(feed)), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - developer command
    for p in write_raw_suites(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(p)
