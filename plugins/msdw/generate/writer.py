"""Writing one delivery file (CSV in three encodings, or XLSX) and its manifest, byte-reproducibly.

Rows are dicts field → text, streamed (a province snapshot does not fit in
memory as dicts). A row may carry ``DEFECTS_KEY``: the defects injected into
it, which receive their physical line number here (header = line 1; a quoted
field with embedded newlines spans several lines, as the loader counts them).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path

FORMATS = ("csv", "bom", "gb18030", "xlsx")
ENCODINGS = {"csv": "utf-8", "bom": "utf-8-sig", "gb18030": "gb18030"}
DEFECTS_KEY = "__defects__"
# fixed document timestamp: identical arguments give identical bytes
XLSX_CREATED = dt.datetime(2000, 1, 1)


def file_name(feed: str, fmt: str) -> str:
    return f"{feed}.xlsx" if fmt == "xlsx" else f"{feed}.csv"


def write_rows(path: Path, fmt: str, headers: list[str], fields: list[str], rows: Iterable[dict],
               defects_out: list[dict] | None) -> int:
    """Write header + rows; return the number of data rows.

    ``defects_out`` (when not None) receives every defect carried by a row, with
    its ``line`` filled in; line tracking costs time, so it is skipped when None.
    """
    getter = itemgetter(*fields)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {FORMATS}")
    if fmt == "xlsx":
        return _write_xlsx(path, headers, getter, rows, defects_out)
    n = 0
    with path.open("w", encoding=ENCODINGS[fmt], newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        if defects_out is None:
            for row in rows:
                w.writerow(getter(row))
                n += 1
            return n
        line = 2
        for row in rows:
            found = row.pop(DEFECTS_KEY, None)
            vals = getter(row)
            w.writerow(vals)
            if found:
                for dfx in found:
                    dfx["line"] = line
                    defects_out.append(dfx)
            line += 1 + sum(v.count("\n") for v in vals)
            n += 1
    return n


def _write_xlsx(path: Path, headers: list[str], getter, rows: Iterable[dict], defects_out) -> int:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": XLSX_CREATED, "author": "msdw generator"})
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, headers)
    r = 0
    for row in rows:
        found = row.pop(DEFECTS_KEY, None)
        r += 1
        for c, v in enumerate(getter(row)):
            if v != "":
                ws.write_string(r, c, v)
        if found and defects_out is not None:
            for dfx in found:
                dfx["line"] = r + 1
                defects_out.append(dfx)
    wb.close()
    return r


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(folder: Path, source: str, business_date: dt.date, files: list[dict]) -> Path:
    """Write ``manifest.json`` last: its presence marks the delivery complete."""
    doc = {"source": source, "business_date": business_date.isoformat(), "files": files}
    path = folder / "manifest.json"
    tmp = folder / ".manifest.json.tmp"
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
