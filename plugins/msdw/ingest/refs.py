"""Reference data the rules check against, read once per load.

``in_ref`` / ``entity_type`` read the same CSVs dbt seeds from
``dbt_project/seeds/<ref>.csv`` (one source of truth for codes). The key is
the seed's first column; ``match: {<seed column>: <feed field>}`` adds more
seed columns to the key (e.g. product categories are valid per program).
Keys are passed to the validation statement as one text[] parameter per rule,
composite keys joined with U+001F.

``ric_check``'s birth-place part uses python-stdnum's own GB/T 2260 table
(``stdnum/cn/loc.dat``) so the SQL check is equivalent to ``stdnum.cn.ric``.
"""

from __future__ import annotations

import csv
import unicodedata
from functools import lru_cache
from pathlib import Path

from msdw.config import DBT_PROJECT_DIR
from msdw.errors import ConfigurationError

KEY_SEP = "\x1f"

# Overridable in tests; the deployment reads the dbt project's seeds.
SEEDS_DIR: Path = DBT_PROJECT_DIR / "seeds"


def _norm(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip(" \t\r\n\v\f")


@lru_cache(maxsize=64)
def _read_seed(path: Path, mtime: float) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def ref_keys(ref: str, match: dict[str, str] | None = None, *, upper: bool = False) -> list[str]:
    """Valid keys of reference ``ref``: its first column (plus ``match`` columns), normalised."""
    path = SEEDS_DIR / f"{ref}.csv"
    if not path.exists():
        raise ConfigurationError(f"reference data {ref!r} not found: expected the dbt seed {path}")
    header, rows = _read_seed(path, path.stat().st_mtime)
    if not header:
        raise ConfigurationError(f"reference data {path} has no header")
    cols = [header[0], *(match or {}).keys()]
    for c in cols:
        if c not in header:
            raise ConfigurationError(f"reference data {path} has no column {c!r} (columns: {header})")
    keys = set()
    for row in rows:
        parts = [_norm(row.get(c) or "") for c in cols]
        if upper:
            parts = [p.upper() for p in parts]
        if parts[0]:
            keys.add(KEY_SEP.join(parts))
    return sorted(keys)


@lru_cache(maxsize=1)
def ric_regions() -> tuple[tuple[str, int, int], ...]:
    """(GB/T 2260 code, first year, last year) pairs valid as a 居民身份证 birth place.

    Derived from python-stdnum's numdb exactly as ``stdnum.cn.ric.get_birth_place``
    reads it: a county without ``[from-to]`` is valid in every year.
    """
    from stdnum import numdb

    db = numdb.get("cn/loc")
    candidates: set[str] = set()

    def walk(prefixes, prefix: str) -> None:
        for length, low, high, _props, children in prefixes:
            if low.isdigit() and high.isdigit() and len(low) == len(high) == length:
                values = [str(v).zfill(length) for v in range(int(low), int(high) + 1)]
            else:
                values = [low]
            for v in values:
                code = prefix + v
                if len(code) == 6:
                    candidates.add(code)
                elif len(code) < 6:
                    walk(children, code)

    walk(db.prefixes, "")
    out: list[tuple[str, int, int]] = []
    for code in sorted(candidates):
        info: dict[str, str] = {}
        for _part, props in db.info(code):
            info.update(props)
        county = info.get("county")
        if not county:
            continue
        for item in county.split(","):
            if not item.startswith("["):
                out.append((code, 1, 9999))
                break
            span = item[1:].split("]")[0]
            start, end = span.split("-")
            out.append((code, int(start) if start else 1, int(end) if end else 9999))
    return tuple(out)
