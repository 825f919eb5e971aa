"""Reading a delivered file: encoding detection, CSV/XLSX records with physical line numbers.

Why this module exists separately from the loader: everything that depends on
the *bytes* of a file (encoding, quoting, spreadsheet cell types, the sha256
the manifest promises) is decided here, once, and the loader only sees
``(line_no, [cell, ...])`` records in contract column order. Nothing is
normalised here: values go to the database as delivered, so quarantine can
show exactly what was sent; normalisation and rules run in SQL.

Streaming: CSV is read through a hashing byte stream and ``csv.reader`` record
by record, so memory does not grow with the file. XLSX is read with
python-calamine (a workbook is a zip archive; its first sheet is decoded in
memory, which bounds XLSX deliveries to what a spreadsheet can hold anyway).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import operator
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from msdw.contracts import Feed
from msdw.errors import FileRefused

# A hostile or simply long free-text cell (complaint content) must not break
# parsing; the database takes up to 1 GB per value, we accept 256 MiB.
csv.field_size_limit(256 * 1024 * 1024)

SAMPLE_BYTES = 256 * 1024
_READ_CHUNK = 1 << 20
_WS = " \t\r\n\v\f"


def norm_header(value: Any) -> str:
    """Headers compare after NFKC + trim (full-width brackets, stray spaces, BOM remnants)."""
    return unicodedata.normalize("NFKC", str(value or "")).strip(_WS + "\ufeff")


class _HashingStream(io.RawIOBase):
    """A read-only byte stream that hashes (sha256) and counts what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha256.update(data)
        self.size += n
        return n

    def drain(self) -> None:
        """Read (and hash) whatever is left, so the digest covers the whole file."""
        while True:
            data = self._raw.read(_READ_CHUNK)
            if not data:
                return
            self.sha256.update(data)
            self.size += len(data)


def _decodes(sample: bytes, encoding: str) -> str | None:
    """The sample decoded strictly, ignoring a multi-byte character cut at its end; None if invalid."""
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def detect_encoding(sample: bytes, file: str, expected_headers: set[str] | None = None) -> str:
    """The encoding of a CSV from its first bytes (never from its name).

    BOM → ``utf-8-sig``; valid UTF-8 → ``utf-8``; otherwise the candidate among
    GB18030 (the superset of GBK/GB2312 older exports use) and charset-normalizer's
    best guess whose decoded first line carries the contract's headers.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(f"{file}: UTF-16 is not an accepted encoding (UTF-8 or GB18030)", file=file, line=1, rule="encoding")
    if b"\x00" in sample:
        raise FileRefused(f"{file}: binary content (NUL bytes) — not a CSV text file", file=file, rule="encoding")
    if _decodes(sample, "utf-8") is not None:
        return "utf-8"
    candidates = ["gb18030"]
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
        if best is not None and best.encoding:
            guess = codecs.lookup(best.encoding).name
            if guess in {"gbk", "gb2312", "hz", "gb18030"}:
                guess = "gb18030"
            if guess not in candidates:
                candidates.append(guess)
    except Exception:  # noqa: BLE001 - detection is best effort; GB18030 stays a candidate
        pass
    decoded = {enc: _decodes(sample, enc) for enc in candidates}
    if expected_headers:
        for enc, text in decoded.items():
            if text is not None:
                first = text.splitlines()[0] if text else ""
                if any(h in norm_header(first) or h in first for h in expected_headers):
                    return enc
    for enc, text in decoded.items():
        if text is not None:
            return enc
    raise FileRefused(
        f"{file}: cannot decode the file as UTF-8 or GB18030 (binary or corrupt content)", file=file, rule="encoding"
    )


@dataclass
class HeaderMap:
    """Where each contract column is in the file (None: absent) and what else the file has."""

    positions: list[int | None]
    present: list[bool]
    extra_columns: list[str]
    headers: list[str]


def map_headers(feed: Feed, headers: list[Any], file: str) -> HeaderMap:
    """Map file headers to contract columns by Chinese name, in any order.

    A missing required column refuses the file; a missing optional one loads as
    NULL; unknown columns are ignored and reported (schema drift).
    """
    normalised = [norm_header(h) for h in headers]
    index: dict[str, int] = {}
    duplicates = []
    for i, h in enumerate(normalised):
        if not h:
            continue
        if h in index:
            duplicates.append(h)
        index.setdefault(h, i)
    if duplicates:
        raise FileRefused(
            f"{file}: line 1: column header(s) {', '.join(duplicates)} appear more than once", file=file, line=1, rule="header"
        )
    positions: list[int | None] = []
    missing = []
    known = set()
    for c in feed.columns:
        h = norm_header(c.header)
        known.add(h)
        pos = index.get(h)
        positions.append(pos)
        if pos is None and c.required:
            missing.append(c)
    if missing:
        names = ", ".join(f"{c.header} ({c.field})" for c in missing)
        raise FileRefused(
            f"{file}: line 1: required column {names} is missing from the header",
            file=file,
            line=1,
            column=missing[0].header,
            rule="required_column",
        )
    extra = [headers[i] if isinstance(headers[i], str) else str(headers[i]) for i, h in enumerate(normalised) if h and h not in known]
    return HeaderMap(positions, [p is not None for p in positions], extra, [str(h) for h in headers])


def _xlsx_cell(value: Any) -> str | None:
    """A spreadsheet cell as the text a person would have typed."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


@dataclass
class DeliveredFile:
    """An open delivered file: its headers, format, encoding and a stream of records.

    ``records()`` yields ``(line_no, cells)`` with cells in contract column order
    (None for absent columns and empty cells). After it is exhausted,
    ``sha256``/``size`` describe the whole file and ``rows`` counts the records.
    """

    name: str
    file_format: str
    encoding: str | None
    header_map: HeaderMap
    warnings: list[str] = field(default_factory=list)
    rows: int = 0
    _iter: Iterator[tuple[int, list[Any]]] | None = None
    _hasher: _HashingStream | None = None
    _sha_bytes: str | None = None
    _size: int = 0

    @property
    def sha256(self) -> str:
        if self._hasher is not None:
            return self._hasher.sha256.hexdigest()
        return self._sha_bytes or ""

    @property
    def size(self) -> int:
        return self._hasher.size if self._hasher is not None else self._size

    def records(self) -> Iterator[tuple[int, list[str | None]]]:
        """Records in contract column order; cells of absent columns (and short rows) are None."""
        positions = self.header_map.positions
        width = len(self.header_map.headers)
        # fast path: one C-level itemgetter per record; index `width` is a None sentinel
        getter = operator.itemgetter(*[width if p is None else p for p in positions])
        assert self._iter is not None
        n = 0
        for line_no, row in self._iter:
            if len(row) == width:
                row.append(None)
                cells = list(getter(row)) if len(positions) > 1 else [getter(row)]
            else:  # ragged row: pad / cut
                row = (row + [None] * width)[:width] + [None]
                cells = list(getter(row)) if len(positions) > 1 else [getter(row)]
            n += 1
            yield line_no, cells
        self.rows = n
        if self._hasher is not None:
            self._hasher.drain()


def _csv_records(text: io.TextIOBase, file: str, consumed: int) -> Iterator[tuple[int, list[str]]]:
    """Records after the header; ``consumed`` physical lines were read already."""
    reader = csv.reader(text, strict=True)
    last = consumed
    try:
        for row in reader:
            start = last + 1
            last = consumed + reader.line_num
            if not row or (len(row) == 1 and not row[0].strip(_WS)):
                continue  # blank line: not a record
            yield start, row
    except csv.Error as exc:
        raise FileRefused(f"{file}: line {last + 1}: malformed CSV ({exc})", file=file, line=last + 1, rule="csv") from exc
    except UnicodeDecodeError as exc:
        raise FileRefused(
            f"{file}: around line {last + 1}: bytes that are not valid in the detected encoding ({exc.reason})",
            file=file,
            line=last + 1,
            rule="encoding",
        ) from exc


def open_csv(raw: IO[bytes], name: str, feed: Feed) -> DeliveredFile:
    hasher = _HashingStream(raw)
    buffered = io.BufferedReader(hasher, buffer_size=_READ_CHUNK)
    sample = buffered.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
    if not sample:
        raise FileRefused(f"{name}: the file is empty (0 bytes); a day without events is a header-only file", file=name, rule="empty")
    expected = {norm_header(c.header) for c in feed.columns}
    encoding = detect_encoding(sample, name, expected)
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text, strict=True)
    try:
        headers = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileRefused(f"{name}: line 1: unreadable header ({exc})", file=name, line=1, rule="header") from exc
    if not headers or not any(norm_header(h) for h in headers):
        raise FileRefused(f"{name}: line 1: no header row", file=name, line=1, rule="header")
    hmap = map_headers(feed, headers, name)
    # the same text stream continues; physical line numbers continue after the header
    return DeliveredFile(name, "csv", encoding, hmap, _iter=_csv_records(text, name, reader.line_num), _hasher=hasher)


def open_xlsx(data: bytes, name: str, feed: Feed) -> DeliveredFile:
    import python_calamine

    if not data:
        raise FileRefused(f"{name}: the file is empty (0 bytes)", file=name, rule="empty")
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = wb.sheet_names
        sheet = wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure means an unusable workbook
        raise FileRefused(f"{name}: not a readable XLSX workbook ({exc})", file=name, rule="xlsx") from exc
    warnings = []
    if len(sheets) > 1:
        warnings.append(f"{name}: workbook has {len(sheets)} sheets; loaded the first ({sheets[0]!r}), ignored {sheets[1:]!r}")
    # first non-empty row is the header
    first = 0
    while first < len(rows) and not any(_xlsx_cell(v) for v in rows[first]):
        first += 1
    if first >= len(rows):
        raise FileRefused(f"{name}: the first sheet has no header row", file=name, line=1, rule="header")
    headers = [_xlsx_cell(v) or "" for v in rows[first]]
    hmap = map_headers(feed, headers, name)

    def records() -> Iterator[tuple[int, list[str | None]]]:
        for i in range(first + 1, len(rows)):
            cells = [_xlsx_cell(v) for v in rows[i]]
            if any(c is not None and c.strip(_WS) for c in cells):
                yield i + 1, cells

    f = DeliveredFile(name, "xlsx", None, hmap, warnings=warnings, _iter=records())
    f._sha_bytes = hashlib.sha256(data).hexdigest()
    f._size = len(data)
    return f
