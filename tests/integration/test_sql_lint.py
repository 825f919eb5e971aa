"""SQL style: sqlfluff with the dbt templater passes on every dbt model (config: .sqlfluff),
the incremental branches included (tests/sqlfluff_lint.py: what `make lint` runs)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_sqlfluff_lint_dbt_models_in_both_branches(module_warehouse, tmp_path):
    from sqlfluff_lint import lint

    passes = lint(module_warehouse, tmp_path / "target")
    assert [label.split(",")[1].strip() for label, _ in passes] == ["is_incremental() false",
                                                                  "is_incremental() true"]
    for label, proc in passes:
        assert proc.returncode == 0, f"{label}:\n" + proc.stdout[-6000:] + proc.stderr[-2000:]
