"""Deliveries in the landing zone: ``<landing>/<source>/<YYYY-MM-DD>/{<feed>.csv|.xlsx, manifest.json}``.

The landing zone is a local path or any fsspec URI (``file://``, ``s3://`` for
S3/MinIO with s3fs installed), so object storage needs no code change. A
manifest is untrusted input: every name it lists must be a plain file name of
one of the source's feeds inside the day's directory (``../../etc/passwd`` is
refused before anything is opened).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import IO

import fsspec

from msdw.contracts import Feed, source_feeds
from msdw.errors import DeliveryRefused, FileRefused

MANIFEST = "manifest.json"
FORMATS = ("csv", "xlsx")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ManifestFile:
    name: str
    rows: int
    sha256: str

    @property
    def feed(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def file_format(self) -> str:
        return self.name.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Manifest:
    source: str
    business_date: date
    files: tuple[ManifestFile, ...]
    uri: str
    sha256: str = ""

    def entry(self, feed: str) -> ManifestFile | None:
        for f in self.files:
            if f.feed == feed:
                return f
        return None


def _fs(landing: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, root = fsspec.core.url_to_fs(str(landing))
    return fs, root.rstrip("/")


def day_path(landing: str, source: str, business_date: date) -> tuple[fsspec.AbstractFileSystem, str]:
    """Filesystem and path of one day's delivery directory."""
    fs, root = _fs(landing)
    return fs, f"{root}/{source}/{business_date.isoformat()}"


def display_uri(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A URI for messages and the audit (``s3://bucket/...`` or a local path)."""
    try:
        return fs.unstrip_protocol(path)
    except Exception:  # noqa: BLE001 - cosmetic only
        return path


def manifest_ready(landing: str, source: str, business_date: date) -> bool:
    """True once the day's ``manifest.json`` exists (the delivery is complete)."""
    fs, day = day_path(landing, source, business_date)
    return bool(fs.exists(f"{day}/{MANIFEST}"))


def _problem(name: str, msg: str) -> str:
    return f"{name}: {msg}"


def read_manifest(landing: str, source: str, business_date: date) -> Manifest:
    """Parse and check the structure of a day's manifest (not yet the files).

    Raises DeliveryRefused listing every problem found.
    """
    fs, day = day_path(landing, source, business_date)
    uri = display_uri(fs, f"{day}/{MANIFEST}")
    if not fs.exists(f"{day}/{MANIFEST}"):
        raise DeliveryRefused(f"{uri}: no manifest — the delivery is not complete", [f"{MANIFEST}: missing"])
    try:
        with fs.open(f"{day}/{MANIFEST}", "rb") as fh:
            data = fh.read()
        doc = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DeliveryRefused(f"{uri}: manifest is not valid JSON ({exc})", [f"{MANIFEST}: invalid JSON"]) from exc
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise DeliveryRefused(f"{uri}: manifest must be an object with a 'files' list", [f"{MANIFEST}: no files list"])
    if doc.get("source") != source:
        problems.append(_problem(MANIFEST, f"source is {doc.get('source')!r}, expected {source!r}"))
    if str(doc.get("business_date")) != business_date.isoformat():
        problems.append(_problem(MANIFEST, f"business_date is {doc.get('business_date')!r}, expected {business_date.isoformat()!r}"))
    feeds = {f.name for f in source_feeds(source)}
    files: list[ManifestFile] = []
    seen_feeds: set[str] = set()
    for i, entry in enumerate(doc["files"]):
        if not isinstance(entry, dict):
            problems.append(_problem(f"files[{i}]", "entry is not an object"))
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            problems.append(_problem(f"files[{i}]", "entry has no file name"))
            continue
        # confinement: a plain file name, nothing that could leave the day directory
        if "/" in name or "\\" in name or name in {".", ".."} or ".." in name or name.startswith("~") or ":" in name or "\x00" in name:
            problems.append(_problem(name, "file name must be a plain name inside the delivery directory (path refused)"))
            continue
        stem, dot, ext = name.rpartition(".")
        if not dot or ext not in FORMATS:
            problems.append(_problem(name, "unsupported file type (expected <feed>.csv or <feed>.xlsx)"))
            continue
        if stem not in feeds:
            problems.append(_problem(name, f"is not a feed of source {source!r} (feeds: {', '.join(sorted(feeds))})"))
            continue
        if stem in seen_feeds:
            problems.append(_problem(name, f"feed {stem!r} is listed more than once"))
            continue
        seen_feeds.add(stem)
        rows, sha = entry.get("rows"), entry.get("sha256")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            problems.append(_problem(name, f"rows must be a non-negative integer, got {rows!r}"))
            continue
        if not isinstance(sha, str) or not _SHA256.match(sha.lower()):
            problems.append(_problem(name, f"sha256 must be 64 hex digits, got {sha!r}"))
            continue
        files.append(ManifestFile(name, rows, sha.lower()))
    if problems:
        raise DeliveryRefused(f"{uri}: manifest refused: " + "; ".join(problems), problems)
    return Manifest(source, business_date, tuple(files), uri, hashlib.sha256(data).hexdigest())


@contextmanager
def open_file(landing: str, source: str, business_date: date, name: str) -> Iterator[IO[bytes]]:
    """Open a delivered file (binary), after checking it stays inside the day directory."""
    fs, day = day_path(landing, source, business_date)
    path = f"{day}/{name}"
    if "/" in name or "\\" in name or ".." in name:
        raise FileRefused(f"{name}: path outside the delivery directory refused", file=name, rule="path")
    if not fs.exists(path):
        raise FileRefused(f"{display_uri(fs, path)}: listed in the manifest but not delivered", file=name, rule="missing_file")
    _refuse_links(fs, day, path, name)
    with fs.open(path, "rb") as fh:
        yield fh


def _refuse_links(fs: fsspec.AbstractFileSystem, day: str, path: str, name: str) -> None:
    """A delivered file must be a regular file of the day directory, not a link to anywhere else.

    Whoever can write the landing zone could otherwise make the loader read
    (and load into raw) any file the worker can read. Object stores have no
    links; on a local or mounted filesystem the resolved path must stay in
    the resolved day directory (the landing root itself may be a mount or a
    link: only what is below the day directory is judged).
    """
    info = fs.info(path)
    if info.get("islink") or info.get("type") not in (None, "file"):
        raise FileRefused(f"{display_uri(fs, path)}: is a {'link' if info.get('islink') else info.get('type')}, "
                          "not a regular delivered file (refused)", file=name, rule="path")
    if getattr(fs, "local_file", False):
        real_day, real = os.path.realpath(day), os.path.realpath(path)
        if os.path.dirname(real) != real_day:
            raise FileRefused(f"{display_uri(fs, path)}: resolves outside its delivery directory (refused)",
                              file=name, rule="path")


def feed_of(source: str, feed_name: str) -> Feed:
    for f in source_feeds(source):
        if f.name == feed_name:
            return f
    raise KeyError(f"feed {feed_name!r} does not belong to source {source!r}")
