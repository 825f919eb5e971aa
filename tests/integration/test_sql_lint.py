"""SQL style: sqlfluff with the dbt templater passes on every dbt model (config: .sqlfluff)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sqlfluff_lint_dbt_models(module_warehouse):
    from msdw.warehouse import libpq_env

    # the dbt templater compiles the models, which needs the profile's connection
    env = {**os.environ, **libpq_env(module_warehouse)}
    sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))
    proc = subprocess.run([sqlfluff, "lint", "dbt_project/models", "--processes", "2", "--nocolor"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
