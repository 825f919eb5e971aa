"""The two locks: what the production image installs, and what development adds.

requirements.lock (from requirements.in) is the runtime: the Dockerfile installs
it and nothing else. requirements-dev.lock (from requirements-dev.in, constrained
by the runtime lock) adds test, lint, demo and benchmark tools; `make venv`
installs it. A test or dev package in the runtime lock would ship in every
container; a pin that differs between the locks would mean the image runs
something the tests never ran.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = REPO / "requirements.lock"
DEV_LOCK = REPO / "requirements-dev.lock"

# Packages that must never reach the production image: test runners and their
# plugins, linters, the embedded PostgreSQL and the sample-data generator's fake
# names, the benchmark-only dbt-in-Airflow renderer (which registers an Airflow
# plugin, listeners and a /cosmos app in every component it is installed in).
DEV_ONLY = {
    "pytest", "pytest-timeout", "pytest-xdist", "execnet", "iniconfig", "aiosmtpd", "atpublic",
    "ruff", "sqlfluff", "sqlfluff-templater-dbt", "diff-cover",
    "pgserver", "faker", "astronomer-cosmos",
}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m[1]).lower()] = m[3]
    return pins


def _via(path: Path) -> dict[str, set[str]]:
    """For each pinned package, the ``# via`` sources uv recorded (-r files and packages)."""
    via: dict[str, set[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==", line)
        if m:
            current = re.sub(r"[-_.]+", "-", m[1]).lower()
            via[current] = set()
            continue
        s = line.strip().removeprefix("#").strip().removeprefix("via").strip()
        if current and line.startswith("    #") and s:
            via[current].add(s)
    return via


def test_runtime_lock_has_no_test_dev_or_bench_package():
    runtime = _pins(RUNTIME_LOCK)
    shipped = sorted(DEV_ONLY & set(runtime))
    assert not shipped, f"requirements.lock (the production image) carries dev/test/bench packages: {shipped}"
    # and nothing in it is there only because a dev requirement pulled it in
    via = _via(RUNTIME_LOCK)
    pulled = {p: sorted(v & DEV_ONLY) for p, v in via.items() if v & DEV_ONLY}
    assert not pulled, f"requirements.lock has packages pulled in by dev packages: {pulled}"


def test_dev_lock_extends_the_runtime_lock_at_the_same_pins():
    runtime, dev = _pins(RUNTIME_LOCK), _pins(DEV_LOCK)
    missing = sorted(set(runtime) - set(dev))
    assert not missing, f"requirements-dev.lock lacks runtime packages: {missing}"
    differ = {p: (runtime[p], dev[p]) for p in runtime if dev[p] != runtime[p]}
    assert not differ, f"the locks pin these differently (runtime, dev): {differ}"
    assert DEV_ONLY <= set(dev)


def test_lock_headers_name_the_commands_that_made_them():
    for lock, source in ((RUNTIME_LOCK, "requirements.in"), (DEV_LOCK, "requirements-dev.in")):
        head = lock.read_text(encoding="utf-8").splitlines()[:2]
        assert f"uv pip compile --python-version 3.11 {source} -o {lock.name}" in head[1], lock.name
    dev_in = (REPO / "requirements-dev.in").read_text(encoding="utf-8")
    assert "-r requirements.in" in dev_in and "-c requirements.lock" in dev_in


def test_pyproject_runtime_dependencies_are_the_runtime_lock():
    """pyproject's [project] dependencies name runtime packages only, each pinned in requirements.lock."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _pins(RUNTIME_LOCK)
    for req in project["dependencies"]:
        name = re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.\-]+", req)[0]).lower()
        assert name in runtime, f"pyproject dependency {name} is not in requirements.lock"
        assert name not in DEV_ONLY, f"pyproject lists the dev package {name} as a runtime dependency"
    extras = {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.\-]+", r)[0]).lower()
              for reqs in project["optional-dependencies"].values() for r in reqs}
    assert extras <= DEV_ONLY, f"optional dependencies outside the dev set: {sorted(extras - DEV_ONLY)}"


def test_the_image_installs_the_runtime_lock_only():
    text = "\n".join(ln for ln in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
                     if not ln.lstrip().startswith("#"))
    assert "requirements-dev" not in text
    assert re.search(r"-r /opt/airflow/requirements\.lock\b", text)
    assert not re.search(r"pip install[^\n]*\s-e\s", text), "the image installs msdw non-editable"


def test_installed_versions_are_the_locked_ones():
    """The venv the tests run in is the dev lock (so the image's runtime pins are what the tests ran)."""
    dev = _pins(DEV_LOCK)
    wrong = {}
    for name in ("apache-airflow", "apache-airflow-providers-celery", "celery", "kombu", "dbt-core",
                 "great-expectations", "psycopg"):
        installed = importlib.metadata.version(name)
        if installed != dev[name]:
            wrong[name] = (installed, dev[name])
    assert not wrong, f"installed ≠ locked (run make venv): {wrong}"


def test_celery_executor_imports_with_the_locked_packages():
    """The scheduler, the workers and flower import this; with celery 5.7 the provider could not (retry removed)."""
    pytest.importorskip("airflow")
    from airflow.providers.celery.executors import celery_executor_utils
    from airflow.providers.celery.executors.celery_executor import CeleryExecutor

    assert CeleryExecutor.__name__ == "CeleryExecutor"
    assert callable(celery_executor_utils.execute_workload)
