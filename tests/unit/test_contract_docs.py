"""docs/contracts/ is generated from the contracts and the catalogue; every rule has a Chinese name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from msdw.config import REPO_ROOT
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



# the specifications the project started from, cited by name or by section ("DOMAIN d.2"): never again
OUTSIDE = re.compile(r"(INDICATORS|EXTRACTS|DOMAIN)\.md|\bDOMAIN [a-i](\.\d+)?\b|\(EXTRACTS\)|docs/INDICATORS"
                     r"|/shared/(contracts|reference)|\.\./reference/")


def test_the_repository_cites_no_document_outside_it():
    """The contracts live in docs/contracts/: nothing cites the specifications the project started from."""
    offenders = []
    for path in REPO_ROOT.rglob("*"):
        rel = path.relative_to(REPO_ROOT)
        if (not path.is_file() or rel.parts[0] in {".venv", ".git", ".msdw", ".ci"} or path == Path(__file__)
                or {"target", "dbt_packages", "__pycache__", "logs"} & set(rel.parts)
                or path.suffix not in {".py", ".md", ".sql", ".yml", ".yaml", ".json", ".csv", ".j2", ".toml", ".txt"}):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()[:110]}")
    assert not offenders, "cite docs/contracts/ instead:\n" + "\n".join(offenders)
