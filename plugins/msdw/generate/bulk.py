"""``generate_feed_file``: one large, valid file of a feed, fast (for load benchmarks).

A day of a district has a few dozen registration rows; a benchmark needs
millions. Realistic template rows are taken from the simulator (the days
before ``business_date``), rendered to CSV once, and repeated with a unique
key per row, so writing costs little more than the I/O (≥ 200k rows/s).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

from msdw.contracts import feed as feed_contract
from msdw.generate.engine import SIMULATORS, _rng
from msdw.generate.ids import make_uscc, org_body
from msdw.generate.values import ISO
from msdw.generate.world import World
from msdw.generate.writer import ENCODINGS, write_rows

TEMPLATE_ROWS = 2_000
CHUNK = 20_000


def _templates(feed_name: str, seed: int, business_date: dt.date) -> list[dict[str, str]]:
    contract = feed_contract(feed_name)
    start = business_date - dt.timedelta(days=25)
    world = World("district", seed, start)
    sim = SIMULATORS[contract.source](world, start, business_date)
    styles = {f: ISO for f in ("entity_snapshot", "registration_events", "annual_reports", "sampling_results",
                               "rapid_tests", "equipment_registry", "equipment_inspections", "equipment_hazards",
                               "complaints")}
    rows: list[dict[str, str]] = []
    d = start
    while d <= business_date and len(rows) < TEMPLATE_ROWS:
        produced = sim.day(d, _rng(seed, "bulk", contract.source, d.isoformat()), styles)
        got = produced.get(feed_name, ())
        for r in got:
            rows.append(r)
            if len(rows) >= TEMPLATE_ROWS:
                break
        d += dt.timedelta(days=1)
    if not rows:
        raise RuntimeError(f"no template rows for {feed_name} before {business_date}")
    return rows


def generate_feed_file(feed: str, path: Path, rows: int, seed: int, business_date: dt.date, fmt: str = "csv") -> int:
    """Write ``rows`` valid data rows of ``feed`` to ``path``; returns the row count written."""
    contract = feed_contract(feed)
    templates = _templates(feed, seed, business_date)
    key = contract.key[0]
    others = [c for c in contract.columns if c.field != key]
    headers = [contract.column(key).header] + [c.header for c in others]
    fields = [c.field for c in others]
    uscc_key = key in ("uscc",)
    rng = random.Random(f"{seed}:bulk:{feed}")
    path = Path(path)
    if fmt == "xlsx":
        def gen():
            for i in range(rows):
                r = dict(templates[i % len(templates)])
                r[key] = _key(feed, i, uscc_key, seed)
                yield r
        return write_rows(path, fmt, headers, [key] + fields, gen(), None)
    buf = io.StringIO()
    w = csv.writer(buf)
    rendered = []
    for t in templates:
        buf.seek(0)
        buf.truncate()
        w.writerow([t[f] for f in fields])
        rendered.append(buf.getvalue())
    rng.shuffle(rendered)
    m = len(rendered)
    with path.open("w", encoding=ENCODINGS[fmt], newline="") as fh:
        csv.writer(fh).writerow(headers)
        for lo in range(0, rows, CHUNK):
            hi = min(rows, lo + CHUNK)
            fh.write("".join(f"{_key(feed, i, uscc_key, seed)},{rendered[i % m]}" for i in range(lo, hi)))
    return rows


def _key(feed: str, i: int, uscc_key: bool, seed: int) -> str:
    if uscc_key:
        return make_uscc("91", "330106", org_body(i, seed, False))
    return f"BK{feed[:2].upper()}{i:010d}"
