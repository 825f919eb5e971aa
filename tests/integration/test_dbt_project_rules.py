"""The dbt project's structure rules (dbt-project-evaluator's, enforced here from dbt's manifest).

dbt-project-evaluator v1.3.2 run over this project found models with no
primary-key test, a mart joining the ``audit.load_files`` source directly, and
intermediate models without a test. The rules below are its checks, read from
``manifest.json`` of a ``dbt parse`` (no database needed), so a new model that
breaks one fails here, not in a later audit:

* every model has a primary-key test: ``unique`` + ``not_null`` on one column, or
  ``primary_key`` (tests/generic/business_rules.sql) on its key columns, or
  ``unique_combination`` + ``not_null`` on each of them;
* every model has at least one data test (test coverage 100 %);
* only staging models read sources; marts and warehouse models read them through
  staging (their SQL names no ``source()``);
* the only macros that call ``source()`` are the incremental macros
  (macros/incremental.sql), which look up the load audit and raw keys by index in
  the incremental branches of the warehouse's large models, by design.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest

from msdw.config import DBT_PROJECT_DIR

# the one macro file allowed to call source() (see the module docstring)
SOURCE_MACROS = {"macros/incremental.sql"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    from msdw.dbt_runner import run_dbt

    target = tmp_path_factory.mktemp("dbt-parse")
    # parse only: the profile is rendered, nothing connects
    run_dbt(["parse"], conninfo="host=localhost port=5432 dbname=msdw user=msdw", target_path=target)
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def models(manifest) -> dict[str, dict]:
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}


@pytest.fixture(scope="module")
def tests_by_model(manifest) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        attached = node.get("attached_node") or next(iter(node["depends_on"]["nodes"]), None)
        if attached:
            out[attached].append(node)
    return out


def _generic(test: dict) -> tuple[str, str | None, dict]:
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    return meta.get("name", ""), test.get("column_name") or kwargs.get("column_name"), kwargs


def _has_primary_key(tests: list[dict]) -> bool:
    unique, not_null, combos = set(), set(), []
    for t in tests:
        name, column, kwargs = _generic(t)
        if name == "primary_key":
            return True
        if name == "unique" and column:
            unique.add(column)
        elif name == "not_null" and column:
            not_null.add(column)
        elif name == "unique_combination":
            combos.append(set(kwargs.get("columns") or []))
    return bool(unique & not_null) or any(c and c <= not_null for c in combos)


def _path(node: dict) -> str:
    return node["original_file_path"].removeprefix("models/")


def test_every_model_has_a_primary_key_test(models, tests_by_model):
    missing = sorted(_path(n) for uid, n in models.items() if not _has_primary_key(tests_by_model.get(uid, [])))
    assert not missing, ("models without a primary-key test (unique + not_null, primary_key, or "
                         f"unique_combination + not_null on each column): {missing}")


def test_every_model_has_a_data_test(models, tests_by_model):
    untested = sorted(_path(n) for uid, n in models.items() if not tests_by_model.get(uid))
    assert not untested, f"models without any data test: {untested}"
    layers = defaultdict(int)
    for n in models.values():
        layers[_path(n).split("/")[0]] += 1
    assert set(layers) == {"staging", "warehouse", "marts"}, layers  # the layers the rules are about


def test_only_staging_reads_sources(models):
    readers = {_path(n): [s for s in n["depends_on"]["nodes"] if s.startswith("source.")] for n in models.values()}
    wrong = {p: s for p, s in readers.items() if s and not p.startswith("staging/")}
    assert not wrong, f"models outside staging that read sources (read them through a staging model): {wrong}"
    # the rendered dependencies miss the incremental branches (is_incremental() is false at parse
    # time): the SQL of marts and warehouse models must not name a source at all
    for n in models.values():
        if not _path(n).startswith("staging/"):
            sql = (DBT_PROJECT_DIR / n["original_file_path"]).read_text(encoding="utf-8")
            assert not re.search(r"\bsource\s*\(", sql), f"{_path(n)} calls source(): ref a staging model"


def test_only_the_incremental_macros_call_source(manifest):
    callers = sorted(m["original_file_path"] for m in manifest["macros"].values()
                     if m["package_name"] == "msdw" and re.search(r"\bsource\s*\(", m["macro_sql"]))
    assert set(callers) <= SOURCE_MACROS, f"macros calling source() outside {SOURCE_MACROS}: {callers}"


def test_the_load_audit_reaches_the_marts_through_staging(models):
    periods = next(n for n in models.values() if n["name"] == "int_marts__periods")
    assert "model.msdw.stg_audit__load_files" in periods["depends_on"]["nodes"]
    assert not [d for d in periods["depends_on"]["nodes"] if d.startswith("source.")]
