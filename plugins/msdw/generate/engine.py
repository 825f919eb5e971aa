"""``generate()``: a landing zone of daily deliveries for the four sources, per docs/contracts/.

Layout: ``<out>/<source>/<YYYY-MM-DD>/<feed>.csv|.xlsx`` + ``manifest.json``
(written last, after its files), plus ``<out>/_generator/defects.jsonl`` and
``summary.json``. Same arguments give a byte-identical tree: every random
choice comes from a ``random.Random`` derived from (seed, source, date[, feed])
and nothing depends on the wall clock or on hash ordering.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from msdw.contracts import SOURCES, Feed, all_feeds, source_feeds
from msdw.generate import config as cfg
from msdw.generate.defects import FILE_KINDS, RowDefects, parse_file_defects
from msdw.generate.sim_complaints import ComplaintsSim
from msdw.generate.sim_equipment import EquipmentSim
from msdw.generate.sim_registration import RegistrationSim
from msdw.generate.sim_sampling import SamplingSim
from msdw.generate.values import FileStyle, draw_style
from msdw.generate.world import World
from msdw.generate.writer import FORMATS, file_name, sha256_of, write_manifest, write_rows

log = logging.getLogger(__name__)

SIMULATORS = {"registration": RegistrationSim, "sampling": SamplingSim, "equipment": EquipmentSim,
              "complaints": ComplaintsSim}
GENERATOR_DIR = "_generator"


@dataclass
class GenerationSummary:
    """What a run wrote: rows per feed, files, defects, where, and how fast."""

    out: Path
    profile: str
    start: dt.date
    end: dt.date
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    deliveries: int = 0
    defects: dict[str, int] = field(default_factory=dict)
    file_defects: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {
            "out": str(self.out), "profile": self.profile, "start": self.start.isoformat(),
            "end": self.end.isoformat(), "seed": self.seed, "rows": dict(sorted(self.rows.items())),
            "total_rows": self.total_rows, "files": self.files, "deliveries": self.deliveries,
            "defects": dict(sorted(self.defects.items())), "file_defects": self.file_defects,
        }

    def __str__(self) -> str:
        lines = [f"{self.profile} {self.start}..{self.end} seed {self.seed}: {self.deliveries} deliveries, "
                 f"{self.files} files, {self.total_rows:,} rows ({self.rows_per_second:,.0f} rows/s)"]
        lines += [f"  {feed:<24}{n:>12,}" for feed, n in sorted(self.rows.items())]
        if self.defects:
            lines.append(f"  defects injected: {sum(self.defects.values()):,} "
                         + ", ".join(f"{k} {v}" for k, v in sorted(self.defects.items())))
        if self.file_defects:
            lines.append("  file defects: " + ", ".join(self.file_defects))
        return "\n".join(lines)


def _rng(seed: int, *parts: object) -> random.Random:
    # str seeds are hashed with SHA-512 by random.seed: stable across processes and PYTHONHASHSEED
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _choose_format(rng: random.Random, formats: Sequence[str]) -> str:
    if len(formats) == 1:
        return formats[0]
    if "csv" in formats and rng.random() < cfg.SHARE_PLAIN_CSV_WHEN_MIXED:
        return "csv"
    return formats[rng.randrange(len(formats))]


def _columns(feed: Feed, rng: random.Random, file_defect: str | None) -> tuple[list[str], list[str], dict | None]:
    """Header row and field order of one file (sometimes shuffled), with a file-level fault applied.

    Returns (headers, fields, fault detail).
    """
    cols = list(feed.columns)
    if rng.random() < cfg.SHARE_SHUFFLED_HEADER:
        rng.shuffle(cols)
    headers = [c.header for c in cols]
    fields = [c.field for c in cols]
    detail = None
    if file_defect == "extra_column":
        headers.append("备注")
        fields.append("__extra__")
        detail = {"header": "备注", "field": None}
    elif file_defect in ("renamed_column", "missing_column"):
        req = [c for c in cols if c.required]
        c = req[rng.randrange(len(req))]
        pos = fields.index(c.field)
        if file_defect == "renamed_column":
            headers[pos] = c.header + "（新）"
        else:
            del headers[pos], fields[pos]
        detail = {"header": c.header, "field": c.field}
    return headers, fields, detail


def generate(
    out: Path,
    start: dt.date,
    end: dt.date,
    profile: str = "district",
    seed: int = 0,
    defects: float = 0.0,
    formats: Sequence[str] = ("csv",),
    file_defects: Sequence[str] = (),
) -> GenerationSummary:
    """Write the daily deliveries of all four sources for ``start``..``end`` into ``out``."""
    t0 = time.perf_counter()
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if not 0.0 <= defects < 1.0:
        raise ValueError(f"defect rate must be in [0, 1), got {defects}")
    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"unknown formats {bad}; known: {FORMATS}")
    feeds = {f.name: f for f in all_feeds()}
    faults = parse_file_defects(file_defects, feeds)
    out = Path(out)
    gen_dir = out / GENERATOR_DIR
    gen_dir.mkdir(parents=True, exist_ok=True)
    world = World(profile, seed, start)
    sims = {s: SIMULATORS[s](world, start, end) for s in SOURCES}
    summary = GenerationSummary(out=out, profile=profile, start=start, end=end, seed=seed,
                                rows={f: 0 for f in feeds})
    defect_log = (gen_dir / "defects.jsonl").open("w", encoding="utf-8")
    try:
        d = start
        while d <= end:
            for source in SOURCES:
                _deliver(d, source, sims[source], seed, defects, formats, faults, summary, defect_log)
            d += dt.timedelta(days=1)
    finally:
        defect_log.close()
    summary.seconds = time.perf_counter() - t0
    # timing and the output path vary run to run: they stay out of the byte-reproducible tree
    doc = summary.to_dict()
    doc.pop("out")
    (gen_dir / "summary.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log.info("generated %s rows in %.1fs (%.0f rows/s) into %s", f"{summary.total_rows:,}", summary.seconds,
             summary.rows_per_second, out)
    return summary


def _deliver(d: dt.date, source: str, sim, seed: int, rate: float, formats: Sequence[str],
             faults: dict[tuple[str, str], str], summary: GenerationSummary, defect_log) -> None:
    """Simulate one source's day and write its files, then its manifest."""
    day_rng = _rng(seed, source, d.isoformat())
    feeds = source_feeds(source)
    styles: dict[str, FileStyle] = {f.name: draw_style(_rng(seed, source, d.isoformat(), f.name, "style"))
                                    for f in feeds}
    produced = sim.day(d, day_rng, styles)
    folder = summary.out / source / d.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for feed in feeds:
        if feed.name not in produced:
            continue  # optional feed not delivered today (the snapshot after the first day)
        rows = produced[feed.name]
        frng = _rng(seed, source, d.isoformat(), feed.name, "file")
        fmt = _choose_format(frng, formats)
        fault = faults.get((feed.name, d.isoformat()))
        headers, fields, detail = _columns(feed, frng, fault)
        name = file_name(feed.name, fmt)
        path = folder / name
        found: list[dict] | None = [] if rate > 0 else None
        if rate > 0:
            rows = RowDefects(feed, d, name, rate, _rng(seed, source, d.isoformat(), feed.name, "defects")).apply(rows)
        if fault == "extra_column":
            rows = ({**r, "__extra__": "见附件"} for r in rows)
        if fault in ("header_only", "empty_file"):
            rows = ()
            found = [] if found is not None else None
        n = write_rows(path, fmt, headers, fields, rows, found)
        if fault == "empty_file":
            path.write_bytes(b"")
        entry = {"name": name, "rows": n, "sha256": sha256_of(path)}
        if fault == "truncated":
            _truncate(path)
        entries.append(entry)
        summary.rows[feed.name] += n
        summary.files += 1
        for rec in found or ():
            summary.defects[rec["kind"]] = summary.defects.get(rec["kind"], 0) + 1
            defect_log.write(json.dumps(rec, ensure_ascii=False) + "\n")
        if fault:
            spec = f"{fault}:{feed.name}:{d.isoformat()}"
            summary.file_defects.append(spec)
            rec = {"source": source, "feed": feed.name, "business_date": d.isoformat(), "file": name,
                   "line": None, "field": (detail or {}).get("field"), "header": (detail or {}).get("header"),
                   "kind": fault, "expected": FILE_KINDS[fault]}
            defect_log.write(json.dumps(rec, ensure_ascii=False) + "\n")
    write_manifest(folder, source, d, entries)
    summary.deliveries += 1


def _truncate(path: Path) -> None:
    """Cut the file at about half its bytes, on a line boundary (an interrupted transfer)."""
    data = path.read_bytes()
    cut = data.rfind(b"\n", 0, max(1, len(data) // 2))
    path.write_bytes(data[: cut + 1] if cut > 0 else data[: len(data) // 2])
