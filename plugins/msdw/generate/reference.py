"""Reference values read from the dbt seeds, the same CSVs the loader's ``in_ref`` rules use.

Reading them (rather than copying lists into the generator) keeps generated
data valid by construction: a category added to a seed is generated, a code
removed from a seed is no longer produced.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from msdw.config import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


class ReferenceDataError(RuntimeError):
    """A seed the generator needs is missing or lacks a column."""


def _read(name: str, seeds_dir: Path) -> list[dict[str, str]]:
    path = seeds_dir / f"{name}.csv"
    if not path.exists():
        raise ReferenceDataError(f"reference seed {path} is missing (the generator reads dbt_project/seeds)")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Reference:
    regions: dict[str, dict[str, str]]  # region_code -> row
    entity_types: tuple[str, ...]
    industry_codes: tuple[str, ...]
    product_categories: dict[str, tuple[str, ...]]  # program -> categories
    equipment_categories: dict[str, dict[str, str]]  # category_code -> row
    complaint_categories: tuple[str, ...]

    def region_name(self, code: str) -> str:
        return self.regions[code]["region_name"]

    def full_region_name(self, code: str) -> str:
        """'杭州市西湖区' for a county, '杭州市' for a prefecture."""
        row = self.regions[code]
        parent = row.get("prefecture_code") or ""
        if row["level"] == "county" and parent and parent in self.regions and parent != code:
            return self.regions[parent]["region_name"] + row["region_name"]
        return row["region_name"]

    def active_counties(self, prefix: str) -> tuple[str, ...]:
        return tuple(
            sorted(
                c for c, r in self.regions.items()
                if r["level"] == "county" and r.get("is_active", "true") == "true" and c.startswith(prefix)
            )
        )


@cache
def load_reference(seeds_dir: Path = SEEDS_DIR) -> Reference:
    regions = {r["region_code"]: r for r in _read("regions", seeds_dir)}
    entity_types = tuple(r["entity_type_code"] for r in _read("entity_types", seeds_dir))
    industry_codes = tuple(r["industry_code"] for r in _read("industry_classes", seeds_dir))
    products: dict[str, list[str]] = {}
    for r in _read("product_categories", seeds_dir):
        products.setdefault(r["program"], []).append(r["product_category"])
    equipment = {r["category_code"]: r for r in _read("equipment_categories", seeds_dir)}
    complaints = tuple(r["category"] for r in _read("complaint_categories", seeds_dir))
    return Reference(
        regions=regions,
        entity_types=entity_types,
        industry_codes=industry_codes,
        product_categories={k: tuple(v) for k, v in products.items()},
        equipment_categories=equipment,
        complaint_categories=complaints,
    )
