"""Named SQL statements of msdw.reporting, read from ``sql/*.sql`` (one ``-- name:`` block each)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"


@cache
def _queries() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        for block in re.split(r"^-- name: ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
            name, _, body = block.partition("\n")
            if name.strip() in out:
                raise ValueError(f"{path}: statement {name.strip()!r} is defined twice")
            out[name.strip()] = body.strip()
    return out


def query(name: str) -> str:
    """The statement ``name`` (KeyError naming the directory when it does not exist)."""
    try:
        return _queries()[name]
    except KeyError:
        raise KeyError(f"{SQL_DIR}/*.sql: no statement named {name!r}") from None
