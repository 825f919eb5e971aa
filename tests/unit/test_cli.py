"""The CLI refuses bad input with a clear message and a non-zero exit code."""

from __future__ import annotations

import pytest

from msdw.cli import main


def test_bad_date_is_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["generate", "--out", "x", "--start", "2024-13-01", "--end", "2024-12-31"])
    assert e.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_reversed_range(capsys, tmp_path):
    rc = main(["run", "--landing", str(tmp_path), "--from", "2024-02-01", "--to", "2024-01-01"])
    assert rc == 2
    assert "before" in capsys.readouterr().err


def test_missing_landing_dir(capsys, tmp_path):
    rc = main(["run", "--landing", str(tmp_path / "nope"), "--from", "2024-01-01", "--to", "2024-01-01"])
    assert rc == 2
    assert "landing directory not found" in capsys.readouterr().err


def test_unknown_command():
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2
