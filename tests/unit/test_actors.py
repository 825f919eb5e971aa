"""The person recorded with a human action: --by, else the OS user; never empty."""

import pytest

from msdw.actors import actor
from msdw.errors import PermanentError


def test_by_wins_and_is_trimmed():
    assert actor("  张三 ") == "张三"


def test_default_is_the_os_user(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops-li")
    assert actor() == "ops-li"


def test_empty_name_is_refused(monkeypatch):
    with pytest.raises(PermanentError, match="--by"):
        actor("   ")
    monkeypatch.setattr("getpass.getuser", lambda: "")
    with pytest.raises(PermanentError):
        actor()
