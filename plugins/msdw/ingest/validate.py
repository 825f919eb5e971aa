"""The validation statements of a feed, rendered from its contract (sql/typed.sql.j2,
sql/validate.sql.j2 + sql/rules.sql.j2).

Python decides only *which* checks apply (implicit ``required``/``parse``/
``unique`` plus the contract's rules, in contract order) and prepares their
parameters (reference keys); the checks themselves are SQL macros, evaluated
set-based by PostgreSQL: every check but ``unique`` per chunk of records
(``typed_sql``, stage 1, while the loader reads the next chunk), ``unique`` and
the routing to raw/quarantine over the whole file (``sql``, stage 2).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from msdw.contracts import STATEFUL_RULES, Feed
from msdw.contracts import feed as contract_of
from msdw.ingest import refs

TYPE_LABELS = {
    "date": "date (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY年M月D日)",
    "timestamp": "timestamp (a date, optionally followed by HH:MM or HH:MM:SS)",
    "numeric": "number",
    "int": "integer",
    "bool": "yes/no value (是/否)",
}


# types whose typed value differs from the normalised text (typed.sql.j2 stores both)
PARSED_TYPES = ("date", "timestamp", "numeric", "int", "bool")


def _ident(name: str) -> str:
    if "\x00" in name:
        raise ValueError("identifier with NUL")
    return '"' + name.replace('"', '""') + '"'


def _sqlstr(value: Any) -> str:
    """Text safe inside a SQL string literal of a statement executed with parameters."""
    return str(value).replace("'", "''").replace("%", "%%")


def _literal(value: Any) -> str:
    return "'" + _sqlstr(value) + "'"


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "sql"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
_ENV.filters.update(ident=_ident, literal=_literal, sqlstr=_sqlstr)


@dataclass
class Check:
    """One rule applied to one column (a row of the reasons a row can get)."""

    field: str
    header: str
    type: str
    rule: str
    level: str
    args: dict[str, Any] = field(default_factory=dict)
    # rendering helpers (set per rule)
    param: str | None = None
    key_expr: str | None = None
    values: list[str] = field(default_factory=list)
    equals: str | None = None
    other_header: str | None = None
    match_label: str | None = None
    uscc_field: str | None = None
    left: str | None = None
    right: str | None = None
    type_label: str | None = None


# each check is one bit of a bigint per row (validate.sql.j2); the sign bit is left alone
MAX_CHECKS_PER_LEVEL = 62


@dataclass
class Statement:
    typed_sql: str  # stage 1: a SELECT over pg_temp._in (one chunk) with the columns of pg_temp._typed
    sql: str  # stage 2: routes pg_temp._typed to raw/quarantine, returns the counts
    sql_one_chunk: str  # stage 2 with stage 1 inlined over pg_temp._in (a file of one chunk)
    params: dict[str, Any]
    needs_ric_regions: bool
    checks: list[Check]
    r_checks: list[Check] = field(default_factory=list)
    w_checks: list[Check] = field(default_factory=list)

    def counts_by_rule(self, r_counts: list[int], w_counts: list[int]) -> tuple[dict[str, int], dict[str, int]]:
        """Per-check counts returned by the statement, summed per rule name (the audit's *_by_rule)."""
        def by_rule(checks: list[Check], counts: list[int]) -> dict[str, int]:
            out: dict[str, int] = {}
            for chk, n in zip(checks, counts or [], strict=True):
                if n:
                    out[chk.rule] = out.get(chk.rule, 0) + int(n)
            return out

        return by_rule(self.r_checks, r_counts), by_rule(self.w_checks, w_counts)


def _nfkc(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def plan_checks(feed: Feed, present: dict[str, bool]) -> tuple[list[Check], dict[str, Any]]:
    """Every check of the feed, with the reference-key parameters the statement needs."""
    cols = {c.field: c for c in feed.columns}
    params: dict[str, Any] = {}
    checks: list[Check] = []
    for c in feed.columns:
        base = dict(field=c.field, header=c.header, type=c.type)
        if c.required:
            checks.append(Check(**base, rule="required", level="R"))
        if c.type in TYPE_LABELS:
            checks.append(Check(**base, rule="parse", level="R", type_label=TYPE_LABELS[c.type]))
        if feed.key and c.field == feed.key[0]:
            key_expr = " || ' / ' || ".join(f'"n:{k}"' for k in feed.key)
            checks.append(Check(**base, rule="unique", level="R", key_expr=key_expr))
        for i, r in enumerate(c.rules):
            chk = Check(**base, rule=r.rule, level=r.level, args=dict(r.args))
            other = r.args.get("field")
            if other:
                chk.other_header = cols[other].header
            if r.rule == "in_set":
                chk.values = [_nfkc(v).upper() if c.type == "code" else _nfkc(v) for v in r.args["values"]]
            elif r.rule in ("required_when", "empty_when", "present_iff"):
                chk.equals = _nfkc(r.args["equals"])
            elif r.rule == "in_ref":
                match = dict(r.args.get("match") or {})
                chk.param = f"ref_{c.field}_{i}"
                params[chk.param] = refs.ref_keys(r.args["ref"], match, upper=c.type == "code")
                parts = [f'"n:{c.field}"', *(f'"n:{f}"' for f in match.values())]
                chk.key_expr = " || chr(31) || ".join(parts) if len(parts) > 1 else parts[0]
                if match:
                    chk.match_label = ", ".join(cols[f].header for f in match.values())
            elif r.rule == "entity_type":
                chk.param = f"ref_{c.field}_{i}"
                params[chk.param] = refs.ref_keys("entity_types", upper=True)
                chk.uscc_field = "uscc" if "uscc" in cols else None
            elif r.rule in ("le", "ge"):
                ot = cols[other].type
                lv, rv = f'"v:{c.field}"', f'"v:{other}"'
                if {c.type, ot} == {"date", "timestamp"}:
                    lv, rv = f"{lv}::date", f"{rv}::date"
                chk.left, chk.right = lv, rv
            checks.append(chk)
    return checks, params


def render(feed: Feed, present: dict[str, bool]) -> Statement:
    """The statements for a file of ``feed`` whose present columns are ``present``."""
    checks, params = plan_checks(feed, present)
    r_checks, w_checks = _levels(feed, checks)
    typed_sql, sql, sql_one_chunk = _texts(feed.name, tuple(present[f] for f in feed.fields))
    return Statement(typed_sql, sql, sql_one_chunk, params, any(c.rule == "ric_check" for c in checks), checks,
                     r_checks, w_checks)


def _levels(feed: Feed, checks: list[Check]) -> tuple[list[Check], list[Check]]:
    r_checks = [c for c in checks if c.level == "R"]
    # stateful W rules (msdw.contracts.STATEFUL_RULES) are not the loader's: the raw gate judges them
    w_checks = [c for c in checks if c.level == "W" and c.rule not in STATEFUL_RULES]
    if max(len(r_checks), len(w_checks)) > MAX_CHECKS_PER_LEVEL:
        raise ValueError(f"{feed.name}: more than {MAX_CHECKS_PER_LEVEL} checks of one level")
    return r_checks, w_checks


@lru_cache(maxsize=256)
def _texts(feed_name: str, present: tuple[bool, ...]) -> tuple[str, str, str]:
    """The SQL texts (stage 1, stage 2, stage 2 for one chunk): they depend on the contract and the
    columns present only (reference keys are parameters), so a backfill renders them once per feed."""
    feed = contract_of(feed_name)
    present_map = dict(zip(feed.fields, present, strict=True))
    checks, _params = plan_checks(feed, present_map)
    r_checks, w_checks = _levels(feed, checks)
    cols = [dict(field=c.field, header=c.header, type=c.type, present=present_map[c.field]) for c in feed.columns]
    context = dict(
        feed=feed,
        cols=cols,
        key=list(feed.key),
        pseudonyms=[p.field for p in feed.pseudonyms],
        byte_fields=sorted({c.field for c in checks if c.rule in ("uscc_check", "ric_check")}),
        r_checks=r_checks,
        w_checks=w_checks,
        parsed_types=PARSED_TYPES,
    )
    typed_sql = _ENV.get_template("typed.sql.j2").render(**context)
    sql = _ENV.get_template("validate.sql.j2").render(**context)
    # a file of one chunk: the same statement with stage 1 inlined over pg_temp._in
    source = "from pg_temp._typed t"
    if sql.count(source) != (2 if feed.key else 1):
        raise AssertionError(f"{feed_name}: validate.sql.j2 must read pg_temp._typed as {source!r}")
    sql_one_chunk = sql.replace(source, f"from (\n{typed_sql}\n) t")
    return typed_sql, sql, sql_one_chunk
