"""Feed contracts: one YAML declaration per feed, read by every part of the platform.

The loader (parse, validate, quarantine, COPY), the sample-data generator, the
raw quality gate, the DAG factory and the docs all read these objects; nothing
else in the code knows a header, a column or a rule of a particular feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FEEDS_DIR = Path(__file__).parent / "feeds"
RULES_DOC = Path(__file__).parent / "RULES.md"

TYPES = {"text", "code", "date", "timestamp", "numeric", "int", "bool"}
LEVELS = {"R", "W"}
# Rule vocabulary (documented in RULES.md next to this file; SQL in
# msdw/ingest/sql/rules.sql.j2). Values: the arguments each rule takes.
RULES: dict[str, set[str]] = {
    "uscc_format": set(),
    "uscc_check": set(),
    "ric_check": set(),
    "mobile_cn": set(),
    "digits": {"n"},
    "in_set": {"values"},
    "in_ref": {"ref", "match"},
    "entity_type": set(),
    "industry_code": set(),
    "le": {"field"},
    "ge": {"field"},
    "le_business_date": set(),
    "ge_business_date": {"days"},
    "lt_business_year": set(),
    "nonneg": set(),
    "required_when": {"field", "equals"},
    "empty_when": {"field", "equals"},
    "present_iff": {"field", "equals"},
    "known_in": {"feed"},
}

# Rules whose verdict depends on another feed's deliveries, not on the row
# alone: a device is "known in the registry" only once the registry day that
# carries it has been loaded. Storing such a verdict with the row would make
# raw depend on the order days arrive in, so they are W only, never written
# to raw._warnings, and evaluated against the current state instead: by the
# raw gate (its share of the day's rows) and by the warehouse (an inferred
# dimension member until the registry row arrives).
STATEFUL_RULES = frozenset({"known_in"})

# Order of the sources (and their DAGs)
SOURCES = ("registration", "sampling", "equipment", "complaints")
# and their Chinese names (reports, docs)
SOURCE_TITLES_ZH = {"registration": "市场主体登记", "sampling": "食品抽检与快检", "equipment": "特种设备",
                    "complaints": "投诉举报"}


class ContractError(ValueError):
    """A contract declaration is malformed (raised at load time, never at run time)."""


@dataclass(frozen=True)
class Rule:
    rule: str
    level: str
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.rule

    @property
    def stateful(self) -> bool:
        """Judged against other feeds' current state, never stored with the row (see STATEFUL_RULES)."""
        return self.rule in STATEFUL_RULES


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    type: str
    required: bool = False
    pii: bool = False
    rules: tuple[Rule, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Pseudonym:
    field: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Feed:
    source: str
    name: str
    title_zh: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    optional: bool = False
    pseudonyms: tuple[Pseudonym, ...] = ()
    # feeds of the same source that must be loaded first on a business date
    # (e.g. inspections check devices against the registry)
    load_after: tuple[str, ...] = ()

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]

    @property
    def header_to_field(self) -> dict[str, str]:
        return {c.header: c.field for c in self.columns}

    @property
    def field_to_header(self) -> dict[str, str]:
        return {c.field: c.header for c in self.columns}

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.field == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> list[Column]:
        """Columns that must be present in every file (a missing one refuses the file)."""
        return [c for c in self.columns if c.required]

    @property
    def pii_fields(self) -> list[str]:
        return [c.field for c in self.columns if c.pii]

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    @property
    def quarantine_table(self) -> str:
        return f"quarantine.{self.name}"

    @property
    def file_stem(self) -> str:
        return self.name


def _parse_feed(path: Path) -> Feed:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    try:
        cols = []
        for c in doc["columns"]:
            if c["type"] not in TYPES:
                raise ContractError(f"{where}: column {c['field']}: unknown type {c['type']!r}")
            rules = []
            for r in c.get("rules", []):
                r = dict(r)
                name, level = r.pop("rule"), r.pop("level")
                if name not in RULES:
                    raise ContractError(f"{where}: column {c['field']}: unknown rule {name!r}")
                if level not in LEVELS:
                    raise ContractError(f"{where}: column {c['field']}: rule {name}: level must be R or W")
                if name in STATEFUL_RULES and level != "W":
                    raise ContractError(f"{where}: column {c['field']}: rule {name} depends on other deliveries "
                                        "and can only be a W rule (a refusal would depend on the load order)")
                unknown = set(r) - RULES[name]
                if unknown:
                    raise ContractError(f"{where}: column {c['field']}: rule {name}: unknown args {sorted(unknown)}")
                rules.append(Rule(name, level, r))
            cols.append(
                Column(
                    field=c["field"],
                    header=c["header"],
                    type=c["type"],
                    required=bool(c.get("required", False)),
                    pii=bool(c.get("pii", False)),
                    rules=tuple(rules),
                    description=c.get("description", ""),
                )
            )
        feed = Feed(
            source=doc["source"],
            name=doc["feed"],
            title_zh=doc["title_zh"],
            grain=doc["grain"],
            key=tuple(doc["key"]),
            columns=tuple(cols),
            optional=bool(doc.get("optional", False)),
            pseudonyms=tuple(Pseudonym(p["field"], tuple(p["from"])) for p in doc.get("pseudonyms", [])),
            load_after=tuple(doc.get("load_after", [])),
        )
    except KeyError as exc:
        raise ContractError(f"{where}: missing key {exc}") from exc
    if feed.source not in SOURCES:
        raise ContractError(f"{where}: unknown source {feed.source!r}")
    names = feed.fields
    if len(set(names)) != len(names) or len({c.header for c in cols}) != len(cols):
        raise ContractError(f"{where}: duplicate field or header")
    for k in feed.key:
        if k not in names:
            raise ContractError(f"{where}: key column {k!r} is not declared")
    for c in cols:
        for r in c.rules:
            ref = r.args.get("field")
            if ref and ref not in names:
                raise ContractError(f"{where}: column {c.field}: rule {r.rule} refers to unknown field {ref!r}")
    for p in feed.pseudonyms:
        for s in p.sources:
            if s not in names:
                raise ContractError(f"{where}: pseudonym {p.field}: unknown source field {s!r}")
    return feed


@cache
def all_feeds() -> tuple[Feed, ...]:
    """Every declared feed, in source order then file name order."""
    feeds = [_parse_feed(p) for p in sorted(FEEDS_DIR.glob("*.yaml"))]
    return tuple(sorted(feeds, key=lambda f: (SOURCES.index(f.source), f.name)))


def feed(name: str) -> Feed:
    for f in all_feeds():
        if f.name == name:
            return f
    raise KeyError(f"no contract for feed {name!r}; known: {[f.name for f in all_feeds()]}")


@cache
def rule_labels() -> dict[str, str]:
    """Chinese name of every rule of the vocabulary, read from the ``中文名`` column of RULES.md's tables.

    RULES.md is the one place a rule is documented; a rule added there with
    its 中文名 gets its label in the quality report and the docs without code.
    """
    labels: dict[str, str] = {}
    col: int | None = None
    for line in RULES_DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            col = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "rule":  # a table header
            col = cells.index("中文名") if "中文名" in cells else None
        elif col is not None and cells[0].startswith("`") and len(cells) > col:
            labels[cells[0].strip("`")] = cells[col]
    return labels


def rule_label(rule: str) -> str:
    """「中文名」 of a rule (``rule_labels``); an unknown rule keeps its code name."""
    return rule_labels().get(rule, rule)


def reason_label(reason: str, feed_name: str | None = None) -> tuple[str, str]:
    """(rule label, column label) of a reason ``rule:field`` — the 「规则:字段」 of the reports.

    The column label is the field's Chinese header in the feed's contract when
    the feed is known, else the field name.
    """
    rule, _, fld = reason.partition(":")
    header = fld
    if feed_name and fld:
        try:
            header = feed(feed_name).field_to_header.get(fld, fld)
        except KeyError:
            pass
    return rule_label(rule), header


def source_feeds(source: str) -> tuple[Feed, ...]:
    if source not in SOURCES:
        raise KeyError(f"unknown source {source!r}; known: {SOURCES}")
    return tuple(f for f in all_feeds() if f.source == source)
