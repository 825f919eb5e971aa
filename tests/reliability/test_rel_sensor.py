"""A delivery whose manifest never arrives: the sensor times out, the alert fires, later days go on.

Driven through the real ingest DAG with ``dag.test()`` (the path of ``msdw
run``). The sensor's timeout and poke interval are read from the environment
when the DAG file is parsed, so each run happens in a fresh interpreter with
``MSDW_MANIFEST_TIMEOUT_HOURS`` / ``MSDW_MANIFEST_POKE_SECONDS`` set before the
DagBag is built. Alerts are captured by a local webhook (``MSDW_ALERT_WEBHOOK_URL``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rel_helpers import csv_bytes, deliver, q, row

from msdw.warehouse import create_database

pytestmark = [pytest.mark.slow, pytest.mark.db]

LATE, NEXT = date(2025, 3, 3), date(2025, 3, 4)

DRIVER = r"""
import json, sys
from datetime import datetime
from zoneinfo import ZoneInfo
from msdw.orchestration import airflow_env
airflow_env.prepare(quiet=True)
from airflow.dag_processing.dagbag import DagBag
import os
bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
assert not bag.import_errors, bag.import_errors
dag = bag.dags["ingest_complaints"]
sensor = dag.get_task("wait_for_manifest")
day = sys.argv[1]
logical = datetime.fromisoformat(day + "T00:00").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
dr = dag.test(logical_date=logical, run_conf={"from_date": day, "to_date": day, "landing": sys.argv[2]})
print("RESULT " + json.dumps({
    "state": str(dr.state), "timeout": sensor.timeout, "poke_interval": sensor.poke_interval, "mode": sensor.mode,
    "tasks": {ti.task_id: str(ti.state) for ti in dr.get_task_instances()},
}))
"""


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _webhook():
    """A local alert webhook: (url, received payloads, stop)."""
    _Hook.received = []
    srv = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}/alert", _Hook.received, srv.shutdown


@pytest.fixture(scope="module")
def airflow_metadata(pg_admin_dsn):
    """A throw-away Airflow metadata database on the test PostgreSQL (SQLAlchemy URL).

    Not the SQLite fallback of msdw.orchestration.airflow_env: with the DAGs' deadline
    alerts, dag.test() on SQLite fails in Airflow's deadline_alert lookup (see docs/reliability.md).
    """
    import uuid

    import psycopg

    name = f"msdw_rel_af_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        create_database(c, name)
    info = psycopg.conninfo.conninfo_to_dict(pg_admin_dsn)
    user, host, port = info.get("user", "postgres"), info.get("host", ""), info.get("port", "5432")
    cred = f"{user}:{info['password']}" if info.get("password") else user
    if host.startswith("/"):
        url = f"postgresql+psycopg2://{cred}@/{name}?host={host}&port={port}"
    else:
        url = f"postgresql+psycopg2://{cred}@{host}:{port}/{name}"
    yield url
    with psycopg.connect(pg_admin_dsn, autocommit=True) as c:
        c.execute(f'drop database if exists "{name}" with (force)')


def _run_day(day: date, landing, env) -> dict:
    """dag.test() of ingest_complaints for one business date in a fresh interpreter; its outcome."""
    proc = subprocess.run([sys.executable, "-c", DRIVER, day.isoformat(), str(landing)], env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode == 0 and lines:
        return {**json.loads(lines[-1][len("RESULT "):]), "log": proc.stdout + proc.stderr}
    return {"state": "crashed", "output": (proc.stdout + proc.stderr)[-4000:], "log": proc.stdout + proc.stderr}


@pytest.fixture(scope="module")
def two_days(module_warehouse, tmp_path_factory, airflow_metadata):
    """Day LATE: files but no manifest (never arrives). Day NEXT: complete. Each run through dag.test()."""
    url, alerts, stop = _webhook()
    landing = tmp_path_factory.mktemp("landing")
    day_dir = deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [row("complaints")])},
                      business_date=LATE)
    (day_dir / "manifest.json").unlink()
    deliver(landing, "complaints", {"complaints.csv": csv_bytes("complaints", [
        row("complaints", ticket_id="T2", received_at="2025-03-04 10:00", accepted_date="2025-03-04")])},
        business_date=NEXT)
    env = {**os.environ, "MSDW_MANIFEST_TIMEOUT_HOURS": str(6 / 3600), "MSDW_MANIFEST_POKE_SECONDS": "1",
           "MSDW_ALERT_WEBHOOK_URL": url, "MSDW_START_DATE": "2025-03-01",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_metadata}
    try:
        late = _run_day(LATE, landing, env)
        late_alerts = list(alerts)
        nxt = _run_day(NEXT, landing, env)
        next_alerts = alerts[len(late_alerts):]
    finally:
        stop()
    return {"dsn": module_warehouse, "late": late, "late_alerts": late_alerts, "next": nxt, "next_alerts": next_alerts}


def test_missing_manifest_times_out_alerts_and_loads_nothing(two_days):
    late = two_days["late"]
    assert late["state"] == "failed", late
    assert (late["timeout"], late["poke_interval"], late["mode"]) == (6.0, 1.0, "reschedule")
    assert late["tasks"] == {"wait_for_manifest": "failed", "verify_delivery": "upstream_failed",
                             "load_complaints": "upstream_failed", "gate_raw": "upstream_failed"}
    [alert] = two_days["late_alerts"]
    assert alert["event"] == "delivery_late" and alert["context"]["task_id"] == "wait_for_manifest"
    assert alert["message"].startswith("ingest_complaints: manifest.json not delivered in time (Sensor has timed out")
    dsn = two_days["dsn"]
    assert q(dsn, "select count(*) from raw.complaints where _business_date = %s", (LATE,)) == [(0,)]
    assert q(dsn, "select count(*) from audit.load_files where business_date = %s", (LATE,)) == [(0,)]


def test_later_day_is_unaffected_by_the_late_one(two_days):
    nxt = two_days["next"]
    assert nxt["state"] == "success", nxt.get("output", nxt)
    dsn = two_days["dsn"]
    assert q(dsn, "select _business_date, ticket_id from raw.complaints") == [(NEXT, "T2")]
    assert q(dsn, "select status from audit.load_files where business_date = %s", (NEXT,)) == [("loaded",)]
    assert two_days["next_alerts"] == []  # the good day raised nothing


def test_later_day_loads_even_though_its_run_crashes_at_the_end(two_days):
    """What holds today despite the deadline bug: the next day's data is loaded, with no alert."""
    dsn = two_days["dsn"]
    assert q(dsn, "select _business_date, ticket_id from raw.complaints") == [(NEXT, "T2")]
    assert q(dsn, "select status from audit.load_files where business_date = %s", (NEXT,)) == [("loaded",)]
    assert [a["event"] for a in two_days["next_alerts"]] == []


def test_airflow_task_logs_carry_no_personal_data(two_days):
    """The task logs of both runs (loader, gate, alert lines) never contain a complainant's phone, ID or name.

    ``dag.test()`` runs the tasks in-process and writes their log lines to the
    console, not to per-task files, so the console output of both runs is what
    is searched (plus any task log file under AIRFLOW_HOME, where the scheduler
    path writes them).
    """
    from msdw.config import settings

    outputs = {f"{day} run output": two_days[day]["log"] for day in ("late", "next")}
    outputs |= {str(p): p.read_text(encoding="utf-8", errors="replace")
                for p in (settings().airflow_home / "logs").rglob("*") if p.is_file()}
    text = "\n".join(outputs.values())
    # the logs are there: the loader and the gate of the good day reported their work
    assert "load_complaints" in text and "gate_raw" in text, text[-3000:]
    values = [v for r in q(two_days["dsn"], "select complainant_name, complainant_phone, complainant_id_no from raw.complaints")
              for v in r if v]
    assert {"王五", "13800138000", "11010519491231002X"} <= set(values)
    hits = [f"{v} in {where}" for where, body in outputs.items() for v in values if v in body]
    assert hits == []
