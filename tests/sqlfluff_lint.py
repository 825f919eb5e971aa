"""sqlfluff over the dbt models, both branches of every incremental model (what `make lint` runs).

The dbt templater renders each model as dbt compiles it against the warehouse,
so ``{% if is_incremental() %}`` is false on an empty database and those
branches — the daily path of the warehouse's large models — were never linted.
Two passes (config: .sqlfluff):

1. every model, on a bootstrapped empty warehouse (``is_incremental()`` false);
2. the incremental models again, once they exist (``dbt build`` of them and what
   they read, without tests): ``is_incremental()`` is true.

    .venv/bin/python tests/sqlfluff_lint.py          # own throw-away database

The database is a throw-away one: on ``MSDW_TEST_ADMIN_DSN`` when set, else on
an embedded PostgreSQL (pgserver) under /tmp; never the configured warehouse.
tests/integration/test_sql_lint.py runs the same two passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = "dbt_project/models"
INCREMENTAL = "config.materialized:incremental"


def _sqlfluff(paths: list[str], dsn: str) -> subprocess.CompletedProcess:
    from msdw.warehouse import libpq_env

    # the dbt templater compiles the models, which needs the profile's connection
    env = {**os.environ, **libpq_env(dsn)}
    sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))
    return subprocess.run([sqlfluff, "lint", *paths, "--processes", "2", "--nocolor"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)


def incremental_models(manifest: Path) -> list[str]:
    """Paths of the incremental models in dbt's ``manifest``, relative to the repository."""
    import json

    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return sorted(f"dbt_project/{n['original_file_path']}" for n in nodes
                  if n["resource_type"] == "model" and n["config"].get("materialized") == "incremental")


def lint(dsn: str, target: Path) -> list[tuple[str, subprocess.CompletedProcess]]:
    """The two passes on the bootstrapped, empty warehouse ``dsn``; (label, sqlfluff's result) each.

    ``target`` is the dbt target directory of the build between the passes.
    """
    from msdw.dbt_runner import run_dbt

    out = [("every model, is_incremental() false", _sqlfluff([MODELS], dsn))]
    run_dbt(["build", "--select", f"+{INCREMENTAL}", "--exclude", "resource_type:test", "resource_type:unit_test"],
            conninfo=dsn, target_path=target)
    incremental = incremental_models(target / "manifest.json")
    assert incremental, "no incremental model found: the second pass would lint nothing"
    out.append((f"{len(incremental)} incremental models, is_incremental() true", _sqlfluff(incremental, dsn)))
    return out


@contextmanager
def scratch_warehouse() -> Iterator[str]:
    """A bootstrapped empty database, dropped afterwards."""
    import psycopg

    from msdw.bootstrap import bootstrap
    from msdw.warehouse import create_database

    admin = os.environ.get("MSDW_TEST_ADMIN_DSN")
    srv = None
    if not admin:
        import pgserver

        srv = pgserver.get_server(Path(f"/tmp/msdw-lint-pg-{os.getuid()}"), cleanup_mode="stop")
        admin = srv.get_uri()
    name = f"msdw_lint_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as c:
        create_database(c, name)
    dsn = psycopg.conninfo.make_conninfo(admin, dbname=name)
    try:
        bootstrap(dsn)
        yield dsn
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(psycopg.sql.SQL("drop database if exists {} with (force)").format(psycopg.sql.Identifier(name)))


def main() -> int:
    os.environ.setdefault("MSDW_PII_HMAC_KEY", "lint-key-not-a-secret")
    scratch = Path(f"/tmp/msdw-lint-dbt-{os.getuid()}")
    os.environ.setdefault("DBT_LOG_PATH", str(scratch / "logs"))
    failed = False
    with scratch_warehouse() as dsn:
        for label, proc in lint(dsn, scratch / "target"):
            print(f"sqlfluff ({label}): {'pass' if proc.returncode == 0 else 'FAIL'}")
            if proc.returncode:
                failed = True
                print(proc.stdout[-20000:], proc.stderr[-4000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
