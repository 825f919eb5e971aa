"""Infrastructure faults during a load: lost connection, killed worker, restarted PostgreSQL.

Every scenario streams a large file (COPY in progress), breaks something at
that moment, and asserts: nothing half-loaded (the load is one transaction),
a clear, retryable error, and a retry that ends with exactly the tables a
clean load produces (same checksum, no duplicates).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest
from rel_helpers import relation_checksums, scalar

from msdw.bootstrap import bootstrap
from msdw.errors import TransientError
from msdw.ingest import load_feed
from msdw.warehouse import create_database

pytestmark = [pytest.mark.slow, pytest.mark.db]

BIG_ROWS = 60_000
DAY = date(2025, 3, 3)
COPY_PATTERN = "copy pg_temp._in %"


@pytest.fixture(scope="module")
def big_landing(tmp_path_factory) -> Path:
    """A landing zone with one large, valid rapid_tests file (≈ 6 MB) for 2025-03-03."""
    from msdw.generate import generate_feed_file

    landing = tmp_path_factory.mktemp("big_landing")
    day = landing / "sampling" / DAY.isoformat()
    day.mkdir(parents=True)
    n = generate_feed_file("rapid_tests", day / "rapid_tests.csv", BIG_ROWS, 5, DAY)
    sha = hashlib.sha256((day / "rapid_tests.csv").read_bytes()).hexdigest()
    (day / "manifest.json").write_text(json.dumps({
        "source": "sampling", "business_date": DAY.isoformat(),
        "files": [{"name": "rapid_tests.csv", "rows": n, "sha256": sha}]}), encoding="utf-8")
    return landing


def _with_db(dsn: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(scope="module")
def reference(pg_admin_dsn, big_landing) -> dict[str, tuple[int, str]]:
    """Checksums of raw/quarantine after one clean, undisturbed load of the big file (own database)."""
    name = f"msdw_rel_ref_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        create_database(c, name)
    dsn = _with_db(pg_admin_dsn, name)
    mp = pytest.MonkeyPatch()
    mp.setenv("MSDW_PII_HMAC_KEY", "test-key-not-a-secret")
    try:
        bootstrap(dsn)
        res = load_feed(str(big_landing), "sampling", "rapid_tests", DAY, conninfo=dsn)
        assert (res.status, res.rows_loaded) == ("loaded", BIG_ROWS)
        return relation_checksums(dsn, ("raw", "quarantine"))
    finally:
        mp.undo()
        with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
            c.execute(f'drop database if exists "{name}" with (force)')


def _copy_backend(admin_dsn: str, dbname: str, timeout: float = 60.0) -> int:
    """Wait until a loader backend of ``dbname`` is streaming COPY; return its pid."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(admin_dsn, autocommit=True) as c:
        while time.monotonic() < deadline:
            r = c.execute("select pid from pg_stat_activity where datname = %s and state = 'active' and query ilike %s",
                          (dbname, COPY_PATTERN)).fetchone()
            if r:
                return int(r[0])
            time.sleep(0.02)
    raise AssertionError(f"no COPY seen in {dbname} within {timeout}s")


def _dbname(dsn: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]


def _load_in_thread(landing: Path, dsn: str) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["result"] = load_feed(str(landing), "sampling", "rapid_tests", DAY, conninfo=dsn)
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def _statuses(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as c:
        return [r[0] for r in c.execute("select status from audit.load_files where feed = 'rapid_tests' order by load_id")]


def test_connection_lost_mid_copy_rolls_back_and_retry_succeeds(warehouse_env, pg_admin_dsn, big_landing, reference):
    t, out = _load_in_thread(big_landing, warehouse_env)
    pid = _copy_backend(pg_admin_dsn, _dbname(warehouse_env))
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        assert c.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    t.join(120)
    err = out.get("error")
    assert isinstance(err, TransientError), out  # retryable: Airflow retries it with backoff
    assert "rapid_tests.csv: warehouse connection lost during the load" in str(err)
    assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 0
    assert scalar(warehouse_env, "select count(*) from quarantine.rapid_tests") == 0
    assert _statuses(warehouse_env) == ["failed"]  # the attempt is recorded, in its own transaction

    res = load_feed(str(big_landing), "sampling", "rapid_tests", DAY, conninfo=warehouse_env)
    assert (res.status, res.rows_loaded, res.replaces_load_id) == ("loaded", BIG_ROWS, None)
    assert scalar(warehouse_env, "select count(*) - count(distinct test_id) from raw.rapid_tests") == 0
    assert relation_checksums(warehouse_env, ("raw", "quarantine")) == reference
    assert _statuses(warehouse_env) == ["failed", "loaded"]


def test_worker_killed_mid_load_rerun_gives_identical_tables(warehouse_env, pg_admin_dsn, big_landing, reference):
    code = (
        "import sys; from datetime import date; from msdw.ingest import load_feed; "
        f"load_feed({str(big_landing)!r}, 'sampling', 'rapid_tests', date({DAY.year}, {DAY.month}, {DAY.day}), "
        f"conninfo={warehouse_env!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        pid = _copy_backend(pg_admin_dsn, _dbname(warehouse_env))
        os.kill(proc.pid, signal.SIGKILL)  # no cleanup, no rollback from the client side
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    # the server notices the dead client (EOF inside COPY) and aborts its transaction
    deadline = time.monotonic() + 60
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        while c.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "killed worker's backend still alive"
            time.sleep(0.1)
    assert scalar(warehouse_env, "select count(*) from raw.rapid_tests") == 0
    assert _statuses(warehouse_env) == []  # a SIGKILLed worker cannot write its audit row (the task log has it)

    res = load_feed(str(big_landing), "sampling", "rapid_tests", DAY, conninfo=warehouse_env)
    assert (res.status, res.rows_loaded) == ("loaded", BIG_ROWS)
    assert relation_checksums(warehouse_env, ("raw", "quarantine")) == reference
    again = load_feed(str(big_landing), "sampling", "rapid_tests", DAY, conninfo=warehouse_env)
    assert again.status == "noop" and relation_checksums(warehouse_env, ("raw", "quarantine")) == reference


@pytest.fixture
def private_pg():
    """A throw-away PostgreSQL (pgserver) this test may restart; never the shared server."""
    import pgserver

    datadir = Path("/tmp") / f"msdw-rel-pg-{uuid.uuid4().hex[:8]}"
    srv = pgserver.get_server(datadir, cleanup_mode="stop")
    try:
        yield srv
    finally:
        try:
            srv.cleanup()
        finally:
            shutil.rmtree(datadir, ignore_errors=True)


def _restart(srv) -> None:
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "-l", str(srv.log), "restart"], pgdata=srv.pgdata, user=srv.system_user, timeout=60)


def test_postgres_restart_during_a_load_fails_cleanly_and_rerun_succeeds(private_pg, big_landing, reference, monkeypatch):
    monkeypatch.setenv("MSDW_PII_HMAC_KEY", "test-key-not-a-secret")
    admin = private_pg.get_uri()
    with psycopg.connect(admin, autocommit=True) as c:
        create_database(c, "msdw_rel_restart")
    dsn = _with_db(admin, "msdw_rel_restart")
    bootstrap(dsn)
    t, out = _load_in_thread(big_landing, dsn)
    _copy_backend(admin, "msdw_rel_restart")
    _restart(private_pg)
    t.join(120)
    err = out.get("error")
    assert isinstance(err, TransientError), out
    assert "rapid_tests.csv: warehouse connection lost during the load" in str(err)
    assert scalar(dsn, "select count(*) from raw.rapid_tests") == 0
    assert "loaded" not in _statuses(dsn)
    res = load_feed(str(big_landing), "sampling", "rapid_tests", DAY, conninfo=dsn)
    assert (res.status, res.rows_loaded) == ("loaded", BIG_ROWS)
    assert relation_checksums(dsn, ("raw", "quarantine")) == reference


def test_warehouse_down_before_a_load_is_a_transient_error_naming_the_server(big_landing, monkeypatch):
    """No server at all (connection refused): a retryable error, not a crash, and nothing to clean up."""
    monkeypatch.setenv("MSDW_PII_HMAC_KEY", "test-key-not-a-secret")
    dead = "postgresql://postgres@127.0.0.1:1/msdw?connect_timeout=2"
    with pytest.raises(TransientError, match="cannot connect to the warehouse"):
        load_feed(str(big_landing), "sampling", "rapid_tests", DAY, conninfo=dead)
