"""Fixtures of the reliability and security suite; the warehouse fixtures are in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def landing(tmp_path):
    """An empty landing zone for hand-made deliveries."""
    path = tmp_path / "landing"
    path.mkdir()
    return path
