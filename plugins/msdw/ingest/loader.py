"""Load one feed's file of one business date: read → COPY → validate in SQL → raw/quarantine → audit.

One transaction per feed/day, under an advisory lock on (feed, date):

1. the current load of that feed/day (audit.load_files) has the manifest's
   sha256 → record ``noop`` and touch nothing;
2. otherwise stream the file's records (normalised text + physical line
   numbers + keyed pseudonyms) with COPY into a temp table ``_in``, one chunk
   at a time, and parse and check each chunk in SQL into ``_typed`` (stage 1 of
   the validation) while the next chunk is read (``_Pipeline``); check the file
   against its manifest entry (sha256, row count), delete the day's earlier
   rows, run stage 2 (duplicate keys over the whole file, then one set-based
   statement writes raw and quarantine and returns the counts), and append the
   audit row with the pre-fetched load id (``loaded`` or ``replaced``).

A crash anywhere rolls everything back; the failure is then recorded
(``failed``, or ``refused`` for contract violations) in its own transaction.
The loader runs as ``msdw_loader`` (SET ROLE) and needs no other privilege.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import queue
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from msdw import warehouse
from msdw.config import pii_hmac_key
from msdw.contracts import Feed, source_feeds
from msdw.errors import DeliveryRefused, FileRefused, MsdwError, PermanentError, TransientError
from msdw.ingest import delivery, reader, refs, validate

log = logging.getLogger(__name__)

LOADER_ROLE = warehouse.ROLE_LOADER
# COPY data is sent in chunks of this many characters (psycopg flushes every 1 MiB):
# memory stays flat whatever the file size.
_COPY_CHUNK = 1024 * 1024
# stage 1 of the validation runs after each chunk of records (while the next one is read); chunks
# grow from _FIRST_STAGE_ROWS to _STAGE_ROWS records, so that a file of 20,000 rows overlaps too.
# At most _QUEUE_PIECES COPY pieces wait between the reader and the database.
_FIRST_STAGE_ROWS = 5_000
_STAGE_ROWS = 50_000
_QUEUE_PIECES = 16
_SWITCH_INTERVAL = 0.0002
# per load session, before its first temp table: a chunk of _in stays in local buffers
_TEMP_BUFFERS = "64MB"
_WS = " \t\r\n\v\f"


def _edge_ws(joined: str) -> bool:
    """Does a cell of ``"\x1f".join(cells)`` start or end with _WS (so needs trimming)?

    Substring searches in C (a regex with anchors was 4 µs a row, this 0.5 µs)."""
    if joined and (joined[0] in _WS or joined[-1] in _WS):
        return True
    return any(w in joined and (w + "\x1f" in joined or "\x1f" + w in joined) for w in _WS)


@dataclass
class LoadResult:
    """What one load_feed call did (mirrors its audit.load_files row)."""

    source: str
    feed: str
    business_date: date
    file_name: str
    status: str
    load_id: int | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_warned: int = 0
    quarantine_by_rule: dict[str, int] = field(default_factory=dict)
    warnings_by_rule: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replaces_load_id: int | None = None
    encoding: str | None = None
    file_format: str | None = None
    sha256: str | None = None
    seconds: float = 0.0
    # wall time per phase (read+COPY, validate+write, ...) for the logs and the benchmark
    phases: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["business_date"] = self.business_date.isoformat()
        return d


# --- SQL ------------------------------------------------------------------------


@cache
def _queries() -> dict[str, str]:
    text = (Path(__file__).parent / "sql" / "loader_queries.sql").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for block in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        out[name.strip()] = body.strip()
    return out


def _q(name: str) -> str:
    return _queries()[name]


# --- connections ------------------------------------------------------------------


@contextmanager
def _connect(conninfo: str | None) -> Iterator[psycopg.Connection]:
    """A connection acting as msdw_loader; connection problems are TransientError."""
    try:
        if conninfo:
            conn = psycopg.connect(conninfo)
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(LOADER_ROLE)))
            cm = None
        else:
            cm = warehouse.connect(role=LOADER_ROLE)
            conn = cm.__enter__()
        conn.execute(sql.SQL("set temp_buffers = {}").format(sql.Literal(_TEMP_BUFFERS)))
        conn.commit()
    except psycopg.OperationalError as exc:
        raise TransientError(f"cannot connect to the warehouse: {exc}") from exc
    try:
        yield conn
    finally:
        if cm is not None:
            cm.__exit__(None, None, None)
        else:
            conn.close()


def record_attempt(conn: psycopg.Connection, **values: Any) -> int:
    """Append one row to audit.load_files (own transaction) and return its load id."""
    params = dict(
        load_id=None, file_uri=None, sha256=None, encoding=None, file_format=None, rows_in=None, rows_loaded=None,
        rows_quarantined=None, rows_warned=None, quarantine_by_rule=None, warnings_by_rule=None, extra_columns=None,
        message=None, replaces_load_id=None, airflow_dag_id=None, airflow_run_id=None,
    )
    params.update(values)
    for k in ("quarantine_by_rule", "warnings_by_rule"):
        if isinstance(params[k], dict):
            params[k] = json.dumps(params[k], ensure_ascii=False)
    row = conn.execute(_q("insert_load"), params, prepare=False).fetchone()
    return int(row[0])


def record_refusal(
    conninfo: str | None, *, source: str, feed: str, business_date: date, file_name: str, message: str,
    status: str = "refused", started_at: datetime, **extra: Any,
) -> int | None:
    """Record a refused/failed attempt in its own transaction; never masks the original error."""
    try:
        with _connect(conninfo) as conn:
            load_id = record_attempt(
                conn, source=source, feed=feed, business_date=business_date, file_name=file_name,
                status=status, message=message[:8000], started_at=started_at, **extra,
            )
            conn.commit()
            return load_id
    except Exception:  # noqa: BLE001 - the original error is what the caller must see
        log.exception("could not record %s attempt of %s/%s %s in audit.load_files", status, source, feed, business_date)
        return None


# --- pseudonyms -----------------------------------------------------------------


def _pseudonymisers(feed: Feed) -> list[tuple[list[tuple[int, bool]], bytes]]:
    """Per pseudonym column: the (position, is_code) of its source fields, in priority order."""
    if not feed.pseudonyms:
        return []
    key = pii_hmac_key()
    pos = {c.field: i for i, c in enumerate(feed.columns)}
    return [([(pos[s], feed.column(s).type == "code") for s in p.sources], key) for p in feed.pseudonyms]


def pseudonym(value: str, key: bytes) -> str:
    """HMAC-SHA256 (hex) of a normalised identifier with the configured secret."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# --- COPY ------------------------------------------------------------------------


class _Pipeline:
    """Overlaps reading the file (this thread) with the database's work on what was read (a worker thread).

    The reader thread parses and normalises records into CSV pieces; the worker
    streams them with COPY into ``pg_temp._in`` and, after each chunk of
    records (``_FIRST_STAGE_ROWS`` growing to ``_STAGE_ROWS``), closes the COPY
    and runs stage 1 of the validation (``Statement.typed_sql``: parse and check
    the chunk into ``pg_temp._typed``) while the reader goes on with the next chunk. Python holds the GIL only
    while parsing; the worker waits on the socket without it, so the client
    core reads while the server core checks. The queue is bounded: memory does
    not grow with the file. The worker alone uses the connection until
    ``close()`` returns; its first error is re-raised there, in the caller's thread.
    """

    _END_CHUNK = object()
    _STOP = object()
    _ABORT = object()

    def __init__(self, cur: psycopg.Cursor, copy_stmt: sql.Composable,
                 stage: Callable[[psycopg.Cursor, int], None] | None):
        self._cur = cur
        self._copy_stmt = copy_stmt
        self._stage = stage
        self.chunks = 0  # chunks handed to the stage
        self._queue: queue.Queue = queue.Queue(maxsize=_QUEUE_PIECES)
        self._error: BaseException | None = None
        self.seconds_waiting = 0.0  # the reader blocked on a full queue: the database was the bottleneck
        self._thread = threading.Thread(target=self._work, name="msdw-load-worker", daemon=True)
        _short_switch_interval(+1)
        self._thread.start()

    def _work(self) -> None:
        copy_cm = copy = None
        item = None
        try:
            for item in iter(self._queue.get, None):
                if item is self._ABORT:
                    raise _Aborted()
                if item is self._END_CHUNK or item is self._STOP:
                    last = item is self._STOP
                    if copy_cm is not None:
                        copy_cm.__exit__(None, None, None)
                        copy_cm = copy = None
                        # a file of one chunk stays in _in: stage 2 inlines stage 1 over it
                        if self._stage is not None and not (last and self.chunks == 0):
                            self._stage(self._cur, self.chunks)
                            self.chunks += 1
                            if not last:
                                self._cur.execute("truncate pg_temp._in")
                    if item is self._STOP:
                        return
                    continue
                if copy_cm is None:
                    copy_cm = self._cur.copy(self._copy_stmt)
                    copy = copy_cm.__enter__()
                copy.write(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the reader thread in close()
            if copy_cm is not None:
                try:
                    copy_cm.__exit__(type(exc), exc, exc.__traceback__)
                except BaseException:  # noqa: BLE001 - the first error is the one to report
                    pass
            if not isinstance(exc, _Aborted):
                self._error = exc
            # keep draining until the reader's last item, so a reader blocked on put() is released
            while item is not self._STOP and item is not self._ABORT:
                item = self._queue.get()

    def put(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        t = time.perf_counter()
        self._queue.put(item)
        self.seconds_waiting += time.perf_counter() - t

    def end_chunk(self) -> None:
        self.put(self._END_CHUNK)

    def close(self, ok: bool) -> None:
        """Finish (ok) or abandon the stream, wait for the worker, re-raise its error."""
        self._queue.put(self._STOP if ok else self._ABORT)
        self._thread.join()
        _short_switch_interval(-1)
        if self._error is not None:
            raise self._error


class _Aborted(Exception):
    """The reader failed: the worker abandons the COPY (the caller rolls back)."""


_switch = {"users": 0, "saved": None}
_switch_lock = threading.Lock()


def _short_switch_interval(delta: int) -> None:
    """The reader is CPU-bound and holds the GIL; each time the worker's socket becomes ready it
    must wait for the GIL, up to the switch interval (5 ms by default). With a COPY piece needing
    several socket waits, that convoy cost 3-5 s per million rows: while any pipeline of the
    process runs, switch every 0.2 ms (counted, so loads in parallel threads restore it once)."""
    with _switch_lock:
        if delta > 0 and _switch["users"] == 0:
            _switch["saved"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch["saved"], _SWITCH_INTERVAL))
        _switch["users"] += delta
        if delta < 0 and _switch["users"] == 0:
            sys.setswitchinterval(_switch["saved"])


def _stream_records(cur: psycopg.Cursor, feed: Feed, f: reader.DeliveredFile,
                    stage: Callable[[psycopg.Cursor, int], None] | None) -> tuple[int, int, float]:
    """COPY the file's records into pg_temp._in and call ``stage(cursor, chunk number)`` (stage 1 of
    the validation: _in → _typed) after each chunk, which then leaves _in; returns (records, chunks
    staged, seconds the reader waited for the database). A file of one chunk is not staged: its
    records stay in _in (chunks = 0), as do all records without ``stage`` (bench/ingest_checks.py).

    Cells are normalised here, while streaming, with exactly the rules of
    ``msdw_fn.norm_text``/``norm_code`` (NFKC, trim, upper-case codes, empty →
    NULL): done per cell in PostgreSQL it was the most expensive stage of the
    validation statement (≈17 µs of ≈85 µs per 14-column row, see
    docs/ingestion.md), in Python it costs ≈2 µs on the client core. Cells whose
    delivered text differs from the normal form travel in ``_raw`` (JSON
    header → text as delivered), so quarantine still shows exactly what was sent.
    """
    pseudo = _pseudonymisers(feed)
    codes = [c.type == "code" for c in feed.columns]
    headers = [c.header for c in feed.columns]
    cols = [sql.Identifier("line_no"), *(sql.Identifier(c.field) for c in feed.columns),
            *(sql.Identifier(p.field) for p in feed.pseudonyms), sql.Identifier("_raw")]
    stmt = sql.SQL("copy pg_temp._in ({}) from stdin (format csv)").format(sql.SQL(", ").join(cols))
    buf = io.StringIO()
    writerow = csv.writer(buf, lineterminator="\n").writerow
    nfkc = unicodedata.normalize
    dumps = json.dumps
    code_idx = [i for i, is_code in enumerate(codes) if is_code]
    is_normalized = unicodedata.is_normalized
    edge_ws = _edge_ws
    n = 0
    in_chunk = 0
    chunk_rows = min(_FIRST_STAGE_ROWS, _STAGE_ROWS)
    pipe = _Pipeline(cur, stmt, stage)
    ok = False
    try:
        for line_no, cells in f.records():
            diff = None
            # fast path (most rows): nothing to change in the whole row, decided by three C-level
            # scans of the joined cells instead of a Python loop over each cell. The separator
            # \x1f is a starter that composes with nothing, so the row is NFKC-normal iff every
            # cell is; a cell edge is always next to a separator or an end of the string.
            joined = "\x1f".join([v or "" for v in cells])
            cells_ok = False
            if is_normalized("NFKC", joined) and not edge_ws(joined):
                code_cells = "\x1f".join([cells[i] or "" for i in code_idx])
                cells_ok = code_cells.upper() == code_cells
            for i, v in enumerate(() if cells_ok else cells):
                if v is None:
                    continue
                x = (v if v.isascii() else nfkc("NFKC", v)).strip(_WS)
                if codes[i]:
                    x = x.upper()
                if x != v:
                    if diff is None:
                        diff = {}
                    diff[headers[i]] = v
                    cells[i] = x or None
            extra = []
            for sources, key in pseudo:
                h = None
                for i, _is_code in sources:
                    if cells[i]:
                        h = pseudonym(cells[i], key)
                        break
                extra.append(h)
            writerow([line_no, *cells, *extra, dumps(diff, ensure_ascii=False) if diff else None])
            n += 1
            in_chunk += 1
            if buf.tell() >= _COPY_CHUNK or in_chunk >= chunk_rows:
                pipe.put(buf.getvalue())
                buf.seek(0)
                buf.truncate()
                if in_chunk >= chunk_rows:
                    pipe.end_chunk()
                    in_chunk = 0
                    chunk_rows = min(chunk_rows * 2, _STAGE_ROWS)
        if buf.tell():
            pipe.put(buf.getvalue())
        ok = True
    finally:
        pipe.close(ok)
    return n, pipe.chunks, pipe.seconds_waiting


def _create_input_table(cur: psycopg.Cursor, feed: Feed) -> None:
    """pg_temp._in: one chunk of records as text."""
    cols = [sql.SQL("line_no integer not null")]
    cols += [sql.SQL("{} text").format(sql.Identifier(c.field)) for c in feed.columns]
    cols += [sql.SQL("{} text").format(sql.Identifier(p.field)) for p in feed.pseudonyms]
    cols += [sql.SQL("_raw jsonb")]
    cur.execute(sql.SQL("create temp table _in ({}) on commit drop").format(sql.SQL(", ").join(cols)))


def _stage_1(stmt: validate.Statement, params: dict[str, Any]) -> Callable[[psycopg.Cursor, int], None]:
    """Stage 1 of the validation for one chunk: _in → pg_temp._typed, which the first chunk creates
    (one planning of the big statement per chunk; planned, not prepared, so that the reference
    arrays are constants and hashed)."""
    create = sql.SQL("create temp table _typed on commit drop as {}").format(sql.SQL(stmt.typed_sql))
    insert = sql.SQL("insert into pg_temp._typed {}").format(sql.SQL(stmt.typed_sql))

    def run(cur: psycopg.Cursor, chunk: int) -> None:
        cur.execute(create if chunk == 0 else insert, params, prepare=False)

    return run


def _load_ric_regions(cur: psycopg.Cursor) -> None:
    cur.execute(_q("ric_regions_table"))
    with cur.copy("copy pg_temp._ric_loc (code, y0, y1) from stdin") as copy:
        for row in refs.ric_regions():
            copy.write_row(row)
    cur.execute(_q("ric_regions_index"))
    cur.execute("analyze pg_temp._ric_loc")


# --- public API ---------------------------------------------------------------------


def _file_sha256(landing: str, source: str, business_date: date, name: str) -> str:
    h = hashlib.sha256()
    with delivery.open_file(landing, source, business_date, name) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _explain_unreadable(landing: str, source: str, business_date: date, entry: delivery.ManifestFile,
                        exc: FileRefused) -> FileRefused:
    """A file that cannot be parsed AND does not match its manifest is reported as truncated/corrupt."""
    try:
        sha = _file_sha256(landing, source, business_date, entry.name)
    except Exception:  # noqa: BLE001 - keep the original error
        return exc
    if sha == entry.sha256:
        return exc
    return FileRefused(
        f"{entry.name}: sha256 {sha} does not match the manifest ({entry.sha256}): truncated or corrupt file "
        f"(reading it failed with: {exc})", file=entry.name, line=exc.line, rule="sha256",
    )


def _open(fh, entry: delivery.ManifestFile, feed: Feed) -> reader.DeliveredFile:
    if entry.file_format == "xlsx":
        return reader.open_xlsx(fh.read(), entry.name, feed)
    return reader.open_csv(fh, entry.name, feed)


def load_feed(
    landing: str,
    source: str,
    feed: str,
    business_date: date,
    *,
    conninfo: str | None = None,
    airflow_dag_id: str | None = None,
    airflow_run_id: str | None = None,
) -> LoadResult | None:
    """Load ``feed`` of ``source`` for ``business_date`` from the landing zone.

    Returns None when the manifest does not list the feed (no events that day:
    nothing to load). Raises FileRefused/DeliveryRefused (permanent) or
    TransientError; every attempt is recorded in audit.load_files.
    """
    t0 = time.perf_counter()
    started_at = datetime.now(UTC)
    contract = delivery.feed_of(source, feed)
    audit_ids = dict(airflow_dag_id=airflow_dag_id, airflow_run_id=airflow_run_id)
    try:
        manifest = delivery.read_manifest(landing, source, business_date)
    except DeliveryRefused as exc:
        record_refusal(conninfo, source=source, feed=feed, business_date=business_date, file_name=delivery.MANIFEST,
                       message=str(exc), started_at=started_at, **audit_ids)
        raise
    entry = manifest.entry(feed)
    if entry is None:
        log.info("%s/%s %s: not in the manifest (no events that day)", source, feed, business_date)
        return None
    fs, day = delivery.day_path(landing, source, business_date)
    file_uri = delivery.display_uri(fs, f"{day}/{entry.name}")
    result = LoadResult(source, feed, business_date, entry.name, status="failed", sha256=entry.sha256, file_format=entry.file_format)
    try:
        with _connect(conninfo) as conn:
            try:
                _load_in_transaction(conn, contract, landing, manifest, entry, file_uri, started_at, audit_ids, result)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
    except psycopg.OperationalError as exc:
        _record_failure(conninfo, result, started_at, file_uri, audit_ids, exc)
        raise TransientError(f"{file_uri}: warehouse connection lost during the load: {exc}") from exc
    except Exception as exc:
        _record_failure(conninfo, result, started_at, file_uri, audit_ids, exc)
        raise
    result.seconds = round(time.perf_counter() - t0, 3)
    log.info(
        "%s/%s %s: %s load_id=%s rows_in=%s loaded=%s quarantined=%s warned=%s (%.1fs)",
        source, feed, business_date, result.status, result.load_id, result.rows_in, result.rows_loaded,
        result.rows_quarantined, result.rows_warned, result.seconds,
    )
    return result


def _record_failure(conninfo, result: LoadResult, started_at, file_uri, audit_ids, exc: BaseException) -> None:
    status = "refused" if isinstance(exc, PermanentError) else "failed"
    result.status = status
    result.load_id = record_refusal(
        conninfo, source=result.source, feed=result.feed, business_date=result.business_date, file_name=result.file_name,
        message=f"{type(exc).__name__}: {exc}", status=status, started_at=started_at, file_uri=file_uri,
        sha256=result.sha256, encoding=result.encoding, file_format=result.file_format, **audit_ids,
    )


def _load_in_transaction(
    conn: psycopg.Connection,
    contract: Feed,
    landing: str,
    manifest: delivery.Manifest,
    entry: delivery.ManifestFile,
    file_uri: str,
    started_at: datetime,
    audit_ids: dict[str, Any],
    result: LoadResult,
) -> None:
    d = manifest.business_date
    key = dict(feed=contract.name, business_date=d)
    cur = conn.cursor()
    # the statement is big and runs once: JIT compilation costs more than it saves
    cur.execute("set local jit = off")
    cur.execute("set local work_mem = '64MB'")
    cur.execute(_q("lock_feed_day"), key)
    current = cur.execute(_q("current_load"), key).fetchone()
    base = dict(source=contract.source, feed=contract.name, business_date=d, file_name=entry.name, file_uri=file_uri,
                sha256=entry.sha256, file_format=entry.file_format, started_at=started_at, **audit_ids)
    if current and current[1] == entry.sha256:
        result.status = "noop"
        result.replaces_load_id = None
        result.load_id = record_attempt(conn, **base, status="noop",
                                        message=f"identical to load {current[0]} (same sha256): nothing changed")
        return
    load_id = int(cur.execute(_q("next_load_id")).fetchone()[0])
    t_copy = time.perf_counter()
    try:
        with delivery.open_file(landing, contract.source, d, entry.name) as fh:
            f = _open(fh, entry, contract)
            result.encoding = f.encoding
            present = dict(zip(contract.fields, f.header_map.present, strict=True))
            stmt = validate.render(contract, present)
            params = dict(stmt.params, load_id=load_id, business_date=d, source_file=entry.name)
            if stmt.needs_ric_regions:
                _load_ric_regions(cur)
            _create_input_table(cur, contract)
            rows_in, chunks, waited = _stream_records(cur, contract, f, _stage_1(stmt, params))
    except FileRefused as exc:
        raise _explain_unreadable(landing, contract.source, d, entry, exc) from exc
    except (psycopg.errors.CharacterNotInRepertoire, psycopg.errors.UntranslatableCharacter) as exc:
        # e.g. a NUL byte beyond the encoding-detection sample: text PostgreSQL cannot store.
        # A property of the file, not of the connection: refuse it (no retry), naming it.
        raise FileRefused(
            f"{file_uri}: contains bytes that are not valid text in any accepted encoding "
            f"(binary data or NUL characters): {exc.diag.message_primary}",
            file=entry.name, rule="encoding",
        ) from exc
    # read + normalise + COPY + stage 1 (parse and check), overlapped; of which the reader waited
    result.phases["read_copy"] = round(time.perf_counter() - t_copy, 3)
    result.phases["reader_waited"] = round(waited, 3)
    if f.sha256 != entry.sha256:
        raise FileRefused(
            f"{file_uri}: sha256 {f.sha256} does not match the manifest ({entry.sha256}): truncated or corrupt file",
            file=entry.name, rule="sha256",
        )
    if rows_in != entry.rows:
        raise FileRefused(
            f"{file_uri}: {rows_in} data rows, the manifest says {entry.rows}: truncated or corrupt file",
            file=entry.name, rule="rows",
        )
    for table in (sql.SQL("raw.{}"), sql.SQL("quarantine.{}")):
        cur.execute(
            sql.SQL("delete from {} where _business_date = %s").format(table.format(sql.Identifier(contract.name))), (d,)
        )
    result.phases["delete_previous"] = round(time.perf_counter() - t_copy - result.phases["read_copy"], 3)
    t_val = time.perf_counter()
    stage_2 = stmt.sql if chunks else stmt.sql_one_chunk
    loaded, quarantined, warned, r_counts, w_counts = cur.execute(stage_2, params, prepare=False).fetchone()
    q_by_rule, w_by_rule = stmt.counts_by_rule(r_counts, w_counts)
    result.phases["validate_write"] = round(time.perf_counter() - t_val, 3)
    if loaded + quarantined != rows_in:
        raise MsdwError(f"{file_uri}: reconciliation failed: {rows_in} rows in, {loaded} loaded + {quarantined} quarantined")
    status = "replaced" if current else "loaded"
    extra = [str(x) for x in f.header_map.extra_columns]
    warnings = list(f.warnings)
    if extra:
        warnings.append(f"{entry.name}: unknown column(s) ignored: {', '.join(extra)}")
    record_attempt(
        conn, **base, load_id=load_id, encoding=f.encoding, rows_in=rows_in, rows_loaded=loaded,
        rows_quarantined=quarantined, rows_warned=warned, quarantine_by_rule=q_by_rule, warnings_by_rule=w_by_rule,
        extra_columns=extra, status=status, message="; ".join(warnings) or None,
        replaces_load_id=current[0] if current else None,
    )
    result.status = status
    result.load_id = load_id
    result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_warned = rows_in, loaded, quarantined, warned
    result.quarantine_by_rule, result.warnings_by_rule = dict(q_by_rule), dict(w_by_rule)
    result.extra_columns, result.warnings = extra, warnings
    result.replaces_load_id = current[0] if current else None


def verify_delivery(
    landing: str, source: str, business_date: date, *, conninfo: str | None = None,
    airflow_dag_id: str | None = None, airflow_run_id: str | None = None,
) -> delivery.Manifest:
    """Check a day's delivery as a whole before anything of it is loaded.

    Every manifest entry must name a file of one of the source's feeds inside the
    day directory, and the file must match its sha256 and row count and carry the
    required columns. Any problem refuses the whole day (DeliveryRefused, naming
    each file and problem) and is recorded as 'refused' in audit.load_files.
    """
    started_at = datetime.now(UTC)
    audit_ids = dict(airflow_dag_id=airflow_dag_id, airflow_run_id=airflow_run_id)
    try:
        manifest = delivery.read_manifest(landing, source, business_date)
    except DeliveryRefused as exc:
        record_refusal(conninfo, source=source, feed="manifest", business_date=business_date, file_name=delivery.MANIFEST,
                       message=str(exc), started_at=started_at, **audit_ids)
        raise
    problems: list[tuple[delivery.ManifestFile, str]] = []
    for entry in manifest.files:
        contract = delivery.feed_of(source, entry.feed)
        try:
            with delivery.open_file(landing, source, business_date, entry.name) as fh:
                f = _open(fh, entry, contract)
                rows = sum(1 for _ in f.records())
            if f.sha256 != entry.sha256:
                problems.append((entry, f"sha256 {f.sha256} does not match the manifest ({entry.sha256}): truncated or corrupt"))
            elif rows != entry.rows:
                problems.append((entry, f"{rows} data rows, the manifest says {entry.rows}: truncated or corrupt"))
        except FileRefused as exc:
            problems.append((entry, str(_explain_unreadable(landing, source, business_date, entry, exc))))
    if problems:
        lines = [f"{e.name}: {msg}" if not msg.startswith(e.name) else msg for e, msg in problems]
        for e, msg in problems:
            record_refusal(conninfo, source=source, feed=e.feed, business_date=business_date, file_name=e.name,
                           message=f"delivery refused: {msg}", started_at=started_at, sha256=e.sha256,
                           file_format=e.file_format, **audit_ids)
        raise DeliveryRefused(f"{manifest.uri}: delivery of {source} {business_date} refused: " + "; ".join(lines), lines)
    try:
        with _connect(conninfo) as conn:
            conn.execute(_q("insert_delivery"), dict(
                source=source, business_date=business_date, manifest_uri=manifest.uri, manifest_sha256=manifest.sha256,
                files=len(manifest.files), rows_declared=sum(e.rows for e in manifest.files), **audit_ids))
            conn.commit()
    except psycopg.OperationalError as exc:
        raise TransientError(f"{manifest.uri}: cannot record the verified delivery: {exc}") from exc
    return manifest


def waive_delivery(source: str, business_date: date, reason: str, *, by: str | None = None,
                   conninfo: str | None = None) -> int:
    """Record that ``source`` will never deliver ``business_date`` (audit.delivery_waivers).

    The marts gate's completeness check then accepts the missing day; the
    waiver, its reason and the person who gave it (``by``, default the OS
    user: msdw.actors) stay in the audit. Refused when the day was in fact
    delivered (there is nothing to waive).
    """
    from msdw.actors import actor
    from msdw.contracts import SOURCES

    if source not in SOURCES:
        raise PermanentError(f"unknown source {source!r} (sources: {', '.join(SOURCES)})")
    if not reason or not reason.strip():
        raise PermanentError("a waiver needs a reason")
    with psycopg.connect(conninfo or warehouse.dsn()) as conn:
        delivered = conn.execute("select count(*) from audit.deliveries where source = %s and business_date = %s",
                                 (source, business_date)).fetchone()[0]
        if delivered:
            raise PermanentError(f"{source} {business_date} was delivered ({delivered} verified delivery record(s)): "
                                 "nothing to waive")
        waiver_id, who = conn.execute(_q("insert_waiver"), dict(source=source, business_date=business_date,
                                                                reason=reason.strip(), waived_by=actor(by))).fetchone()
        conn.commit()
    log.info("waiver %s: %s %s never delivered (%s), by %s", waiver_id, source, business_date, reason, who)
    return int(waiver_id)


def load_order(source: str, feeds: list[str]) -> list[str]:
    """Feeds in an order that honours the contracts' ``load_after`` (registry before inspections)."""
    contracts = {f.name: f for f in source_feeds(source)}
    done: list[str] = []

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in done or name not in feeds:
            return
        if name in stack:
            raise PermanentError(f"load_after cycle among feeds of {source}: {' -> '.join(stack + (name,))}")
        for dep in getattr(contracts[name], "load_after", ()):
            visit(dep, stack + (name,))
        done.append(name)

    for f in [f.name for f in source_feeds(source)]:
        visit(f, ())
    return done


def load_day(landing: str, source: str, business_date: date, **kw: Any) -> list[LoadResult]:
    """Verify the day's delivery, then load each delivered feed in dependency order."""
    verify_kw = {k: v for k, v in kw.items() if k in ("conninfo", "airflow_dag_id", "airflow_run_id")}
    manifest = verify_delivery(landing, source, business_date, **verify_kw)
    results = []
    for name in load_order(source, [e.feed for e in manifest.files]):
        res = load_feed(landing, source, name, business_date, **kw)
        if res is not None:
            results.append(res)
    return results
