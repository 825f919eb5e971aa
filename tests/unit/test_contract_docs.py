"""docs/contracts/ is generated from the contracts and the catalogue; every rule has a Chinese name."""

from __future__ import annotations

import re

import pytest

from msdw.contracts import RULES, all_feeds, reason_label, rule_label, rule_labels
from msdw.contracts.docs import DOCS_DIR, PAGES, catalogue_rows


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_contract_docs_are_current(name):
    path = DOCS_DIR / name
    assert path.read_text(encoding="utf-8") == PAGES[name](), (
        f"{path} is stale: run `python -m msdw.contracts.docs`")


def test_every_rule_of_the_vocabulary_has_a_chinese_name_in_rules_md():
    labels = rule_labels()
    for rule in [*RULES, "required", "parse", "unique"]:
        assert rule in labels, f"RULES.md: rule {rule} has no 中文名"
        assert re.search(r"[\u4e00-\u9fff]", labels[rule]), (rule, labels[rule])
        assert not re.search(r"[A-Za-z]", labels[rule]), (rule, labels[rule])


def test_a_reason_reads_rule_and_column_in_chinese():
    assert reason_label("in_set:channel", "complaints") == ("取值不在规定范围内", "来源渠道")
    assert reason_label("unknown_rule:x") == ("unknown_rule", "x")  # never invents a label
    assert rule_label("uscc_check") == "统一社会信用代码校验位错误"


def test_every_feed_column_and_indicator_is_documented():
    feeds = (DOCS_DIR / "feeds.md").read_text(encoding="utf-8")
    for f in all_feeds():
        assert f"feed `{f.name}`" in feeds
        for c in f.columns:
            assert f"| {c.header} | `{c.field}` |" in feeds
    indicators = (DOCS_DIR / "indicators.md").read_text(encoding="utf-8")
    for r in catalogue_rows():
        assert f"| `{r['indicator_code']}` |" in indicators

