"""Thresholds and suite files of the quality gates, read from ``expectations/``.

Every bound lives in ``expectations/thresholds.yml`` and every check in a
versioned suite JSON (Great Expectations 1.x format) next to it; this module
turns them into the parameter values a gate run uses. Nothing here knows a
particular feed or mart: raw suites are generated from the feed contracts
(``python -m msdw.quality.suites``), warehouse and marts suites are written by
hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

import psycopg
import yaml

from msdw.config import EXPECTATIONS_DIR
from msdw.errors import ConfigurationError

THRESHOLDS_FILE = "thresholds.yml"
LAYERS = ("raw", "warehouse", "marts")


def expectations_dir() -> Path:
    return EXPECTATIONS_DIR


@cache
def _thresholds(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: cannot read the quality thresholds: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise ConfigurationError(f"{path}: expected a mapping with version: 1")
    return doc


def thresholds() -> dict[str, Any]:
    """The parsed ``expectations/thresholds.yml`` (cached per process)."""
    return _thresholds(expectations_dir() / THRESHOLDS_FILE)


@dataclass(frozen=True)
class SuiteSpec:
    """One suite file: the relation it protects and its expectations (GX 1.x dicts)."""

    path: Path
    name: str
    layer: str
    relation: str  # schema.table
    version: str
    expectations: tuple[dict[str, Any], ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.relation.split(".", 1)[1]

    @property
    def schema(self) -> str:
        return self.relation.split(".", 1)[0]

    def parameter_names(self) -> set[str]:
        """Names the suite refers to ($PARAMETER in kwargs, ${name} in SQL)."""
        names: set[str] = set()

        def walk(v: Any) -> None:
            if isinstance(v, dict):
                if "$PARAMETER" in v:
                    names.add(v["$PARAMETER"])
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, str):
                names.update(m.group(1) for m in _SQL_PARAM.finditer(v))

        walk([e["kwargs"] for e in self.expectations])
        return names


_SQL_PARAM = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_suite(path: Path) -> SuiteSpec:
    """Read and check one suite file (errors name the file and the expectation)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{path}: not a readable suite JSON: {exc}") from exc
    msdw = (doc.get("meta") or {}).get("msdw") or {}
    relation = msdw.get("relation")
    if not doc.get("name") or not relation or "." not in relation:
        raise ConfigurationError(f"{path}: suite needs a name and meta.msdw.relation 'schema.table'")
    exps = doc.get("expectations") or []
    for i, e in enumerate(exps):
        if not isinstance(e, dict) or "type" not in e or not isinstance(e.get("kwargs"), dict):
            raise ConfigurationError(f"{path}: expectation #{i}: needs 'type' and 'kwargs'")
    return SuiteSpec(
        path=path,
        name=doc["name"],
        layer=path.parent.name,
        relation=relation,
        version=str(msdw.get("version", "1")),
        expectations=tuple(exps),
        meta=doc.get("meta") or {},
    )


def suite_paths(layer: str) -> list[Path]:
    if layer not in LAYERS:
        raise ConfigurationError(f"unknown suite layer {layer!r}; known: {LAYERS}")
    return sorted((expectations_dir() / layer).glob("*.json"))


def suites_of_gate(gate: str) -> list[SuiteSpec]:
    """The suites a gate validates: ``raw_<feed>`` → one; ``warehouse``/``marts`` → every file of the layer."""
    if gate.startswith("raw_"):
        path = expectations_dir() / "raw" / f"{gate[4:]}.json"
        if not path.exists():
            raise ConfigurationError(f"no suite for gate {gate!r}: {path} is missing")
        return [load_suite(path)]
    if gate in ("warehouse", "marts"):
        specs = [load_suite(p) for p in suite_paths(gate)]
        if not specs:
            raise ConfigurationError(f"gate {gate!r}: no suite files in {expectations_dir() / gate}")
        return specs
    raise ConfigurationError(f"unknown gate {gate!r}: expected raw_<feed>, warehouse or marts")


def render_sql_parameters(spec: SuiteSpec, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The suite's expectations with ``${name}`` in SQL replaced by SQL literals of ``params``.

    Values are quoted by psycopg (``sql.Literal``), lists become ``(a, b)``
    lists, so a threshold can never change the shape of a statement.
    """

    def literal(v: Any) -> str:
        if isinstance(v, (list, tuple)) and v and all(isinstance(x, (list, tuple)) for x in v):
            return ", ".join(literal(x) for x in v)  # rows of a VALUES list
        if isinstance(v, (list, tuple)):
            return "(" + ", ".join(literal(x) for x in v) + ")" if v else "(null)"
        return psycopg.sql.Literal(v).as_string(None)

    out = []
    for e in spec.expectations:
        e = json.loads(json.dumps(e))
        q = e["kwargs"].get("unexpected_rows_query")
        if isinstance(q, str):
            missing = [n for n in _SQL_PARAM.findall(q) if n not in params]
            if missing:
                raise ConfigurationError(f"{spec.path}: query needs parameters {missing} (not in thresholds.yml)")
            e["kwargs"]["unexpected_rows_query"] = Template(q).substitute({k: literal(params[k]) for k in _SQL_PARAM.findall(q)})
        out.append(e)
    return out
