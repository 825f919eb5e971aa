"""Injected faults and what the platform is expected to do with each.

Row-level defects are derived from the feed contracts: a kind applies to a
column only if the contract gives that column the rule the defect breaks, and
the expected level (R = quarantined, W = loaded and flagged, ok = loads after
normalisation) is read from the contract, so the generator and the loader can
never drift apart. Every defect is listed in ``_generator/defects.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from msdw.contracts import Column, Feed
from msdw.generate import config as cfg
from msdw.generate.ids import wrong_check
from msdw.generate.writer import DEFECTS_KEY

ROW_KINDS = (
    "uscc_format", "uscc_check", "bad_date", "future_date", "duplicate_key", "missing_required",
    "negative_amount", "unknown_enum", "fullwidth_digits", "whitespace", "embedded_newline", "bad_region_ref",
)
# file-level faults (only on request) and what the loader must do
FILE_KINDS = {
    "extra_column": {"level": "W", "rule": "schema_drift", "outcome": "file loads; unknown column reported"},
    "renamed_column": {"level": "file", "rule": "required_column", "outcome": "file refused: required column missing"},
    "missing_column": {"level": "file", "rule": "required_column", "outcome": "file refused: required column missing"},
    "truncated": {"level": "day", "rule": "manifest", "outcome": "day refused: rows/sha256 differ from the manifest"},
    "empty_file": {"level": "file", "rule": "empty_file", "outcome": "file refused: no header"},
    "header_only": {"level": "ok", "rule": "header_only", "outcome": "file loads zero rows"},
}
_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in [*range(0x30, 0x3A), *range(0x41, 0x5B)]})


class DefectSpecError(ValueError):
    """A malformed ``file_defects`` entry."""


@dataclass(frozen=True)
class Target:
    kind: str
    column: Column
    level: str
    rule: str


def _rule(col: Column, name: str):
    return next((r for r in col.rules if r.rule == name), None)


def targets(feed: Feed) -> dict[str, list[Target]]:
    """Which columns of ``feed`` each row-level defect kind can hit, with the contract's expectation."""
    out: dict[str, list[Target]] = {k: [] for k in ROW_KINDS}
    for c in feed.columns:
        for kind, rule_name in (("uscc_format", "uscc_format"), ("uscc_check", "uscc_check"),
                                ("future_date", "le_business_date"), ("negative_amount", "nonneg"),
                                ("unknown_enum", "in_set")):
            r = _rule(c, rule_name)
            if r is not None:
                out[kind].append(Target(kind, c, r.level, rule_name))
        r = _rule(c, "in_ref")
        if r is not None and r.args.get("ref") == "regions":
            out["bad_region_ref"].append(Target("bad_region_ref", c, r.level, "in_ref"))
        if c.type in ("date", "timestamp"):
            out["bad_date"].append(Target("bad_date", c, "R", "parse"))
        if c.required:
            out["missing_required"].append(Target("missing_required", c, "R", "required"))
        if c.type == "code":
            out["fullwidth_digits"].append(Target("fullwidth_digits", c, "ok", "nfkc"))
        if c.type in ("code", "text") and not c.rules:
            out["whitespace"].append(Target("whitespace", c, "ok", "trim"))
        if c.type == "text" and not c.rules:
            out["embedded_newline"].append(Target("embedded_newline", c, "ok", "multiline"))
    out["duplicate_key"].append(Target("duplicate_key", feed.column(feed.key[0]), "R", "unique"))
    return {k: v for k, v in out.items() if v}


class RowDefects:
    """Injects about ``rate`` defects per row into one file's row stream."""

    def __init__(self, feed: Feed, business_date: dt.date, file: str, rate: float, rng: random.Random) -> None:
        self.feed = feed
        self.d = business_date
        self.file = file
        self.rate = rate
        self.rng = rng
        self.targets = targets(feed)
        self.kinds = sorted(self.targets)

    def _record(self, t: Target) -> dict:
        return {
            "source": self.feed.source, "feed": self.feed.name, "business_date": self.d.isoformat(),
            "file": self.file, "line": None, "field": t.column.field, "header": t.column.header,
            "kind": t.kind, "expected": {"level": t.level, "rule": t.rule},
        }

    def _mutate(self, row: dict, t: Target) -> bool:
        f = t.column.field
        v = row.get(f, "")
        rng = self.rng
        k = t.kind
        if k == "uscc_format":
            if len(v) != 18:
                return False
            row[f] = v[:8] + "O" + v[9:] if rng.random() < 0.5 else v[:17]
        elif k == "uscc_check":
            if len(v) != 18:
                return False
            row[f] = wrong_check(v)
        elif k == "bad_date":
            if not v:
                return False
            row[f] = rng.choice((f"{self.d.year}-13-45", f"{self.d.year}-02-30", "待补录", "00000000"))
        elif k == "future_date":
            fut = self.d + dt.timedelta(days=rng.randint(3, 60))
            row[f] = fut.isoformat() + (" 10:00:00" if t.column.type == "timestamp" else "")
        elif k == "missing_required":
            row[f] = ""
        elif k == "negative_amount":
            row[f] = "-" + v if v.strip("0.,") else "-100"  # "-0" would pass
        elif k == "unknown_enum":
            row[f] = rng.choice(("其他", "未知", "待定"))
        elif k == "fullwidth_digits":
            if not v or v.translate(_FULLWIDTH) == v:
                return False
            row[f] = v.translate(_FULLWIDTH)
        elif k == "whitespace":
            if not v:
                return False
            row[f] = rng.choice(("  ", " ", "\t")) + v + rng.choice((" ", "  ", ""))
        elif k == "embedded_newline":
            if len(v) < 2:
                return False
            cut = len(v) // 2
            row[f] = v[:cut] + "\n" + v[cut:]
        elif k == "bad_region_ref":
            row[f] = cfg.OUTSIDE_REGIONS[rng.randrange(len(cfg.OUTSIDE_REGIONS))]
        else:  # pragma: no cover - ROW_KINDS and this switch move together
            raise AssertionError(k)
        return True

    def apply(self, rows: Iterable[dict]) -> Iterator[dict]:
        """The same rows, some altered, plus duplicated rows at the end; defects ride in DEFECTS_KEY."""
        rng = self.rng
        rate = self.rate
        dups: list[dict] = []
        for row in rows:
            if rng.random() < rate:
                for _ in range(4):  # a kind may not fit this row (e.g. empty value): try another
                    kind = self.kinds[rng.randrange(len(self.kinds))]
                    cands = self.targets[kind]
                    t = cands[rng.randrange(len(cands))]
                    if kind == "duplicate_key":
                        dup = dict(row)
                        dup[DEFECTS_KEY] = [self._record(t)]
                        dups.append(dup)
                        break
                    if self._mutate(row, t):
                        row[DEFECTS_KEY] = [self._record(t)]
                        break
            yield row
        yield from dups


def parse_file_defects(specs: Iterable[str], feeds: dict[str, Feed]) -> dict[tuple[str, str], str]:
    """``["truncated:complaints:2025-03-04", ...]`` → {(feed, date): kind}."""
    out: dict[tuple[str, str], str] = {}
    for spec in specs:
        parts = spec.split(":")
        if len(parts) != 3:
            raise DefectSpecError(f"file defect {spec!r}: expected KIND:FEED:YYYY-MM-DD")
        kind, feed, day = parts
        if kind not in FILE_KINDS:
            raise DefectSpecError(f"file defect {spec!r}: unknown kind {kind!r}; known: {sorted(FILE_KINDS)}")
        if feed not in feeds:
            raise DefectSpecError(f"file defect {spec!r}: unknown feed {feed!r}")
        try:
            dt.date.fromisoformat(day)
        except ValueError as exc:
            raise DefectSpecError(f"file defect {spec!r}: bad date {day!r}") from exc
        out[(feed, day)] = kind
    return out
