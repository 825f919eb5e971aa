"""Reader: encoding detection, header mapping, physical line numbers (no database)."""

from __future__ import annotations

import io

import pytest

from msdw.contracts import feed
from msdw.errors import FileRefused
from msdw.ingest import reader
from msdw.ingest.delivery import ManifestFile

RAPID = feed("rapid_tests")
HEADER = ",".join(c.header for c in RAPID.columns)


def _open(data: bytes):
    return reader.open_csv(io.BytesIO(data), "rapid_tests.csv", RAPID)


def test_encodings_are_detected_from_bytes():
    text = HEADER + "\r\nRT1,市场,330106,青菜,农药,2024-05-08,阴性,,0\r\n"
    assert _open(text.encode("utf-8")).encoding == "utf-8"
    assert _open(b"\xef\xbb\xbf" + text.encode("utf-8")).encoding == "utf-8-sig"
    assert _open(text.encode("gb18030")).encoding == "gb18030"
    f = _open(text.encode("gb18030"))
    assert [cells[1] for _, cells in f.records()] == ["市场"]


def test_line_numbers_are_physical_with_embedded_newlines():
    data = (HEADER + '\nRT1,"多行\n检测点",330106,,,2024-05-08,阴性,,\n\nRT2,x,330106,,,2024-05-08,阴性,,\n').encode()
    f = _open(data)
    got = [(line, cells[0]) for line, cells in f.records()]
    assert got == [(2, "RT1"), (5, "RT2")]
    assert f.rows == 2
    import hashlib

    assert f.sha256 == hashlib.sha256(data).hexdigest()


def test_headers_any_order_nfkc_extra_and_missing_optional():
    cols = list(reversed(RAPID.columns))
    headers = [c.header for c in cols if c.field != "station"] + [" 备注 "]
    hmap = reader.map_headers(RAPID, headers, "f.csv")
    assert hmap.extra_columns == [" 备注 "]
    assert hmap.present[RAPID.fields.index("station")] is False
    # full-width brackets in a header still match (NFKC)
    hm = reader.map_headers(RAPID, [h.replace("(", "（").replace(")", "）") for h in headers], "f.csv")
    assert all(hm.present[i] for i, c in enumerate(RAPID.columns) if c.field != "station")


def test_missing_required_column_names_it():
    headers = [c.header for c in RAPID.columns if c.field != "test_date"]
    with pytest.raises(FileRefused) as exc:
        reader.map_headers(RAPID, headers, "rapid_tests.csv")
    assert "检测日期 (test_date)" in str(exc.value) and "rapid_tests.csv" in str(exc.value)
    assert exc.value.column == "检测日期"


@pytest.mark.parametrize(
    "data, words",
    [(b"", "empty"), (b"\x00\x01\x02\x03binary" * 10, "binary"), (b"\xff\xfe" + "a,b".encode("utf-16-le"), "UTF-16")],
)
def test_unreadable_files_are_refused(data, words):
    with pytest.raises(FileRefused, match=words):
        _open(data)


def test_manifest_file_feed_and_format():
    m = ManifestFile("rapid_tests.xlsx", 3, "0" * 64)
    assert (m.feed, m.file_format) == ("rapid_tests", "xlsx")


@pytest.mark.parametrize("cells, needs_trim", [
    (["91330106MA", "杭州市 西湖区", "2025-01-01"], False),  # a space inside a cell is data
    (["91330106MA ", "x"], True),  # trailing space of the first cell, next to the separator
    (["a", "\tb"], True),  # leading tab of a middle/last cell
    ([" a", "b"], True),  # leading space of the whole row
    (["a", "b\n"], True),  # trailing newline of the whole row (embedded newline cell)
    (["a", "", "b"], False),  # an empty cell is not whitespace
    (["", ""], False),
])
def test_loader_fast_path_finds_every_cell_edge_whitespace(cells, needs_trim):
    """The loader skips its per-cell normalisation loop when the joined row needs no change;
    the edge check must agree with trimming each cell (msdw.ingest.loader._edge_ws)."""
    from msdw.ingest.loader import _WS, _edge_ws

    assert _edge_ws("\x1f".join(cells)) is needs_trim
    assert needs_trim == any(c != c.strip(_WS) for c in cells)
