"""Run Airflow's own components on this machine: scheduler, dag-processor, triggerer, api-server.

This is the scheduler path (as opposed to ``dag.test()``): the same DAGs,
scheduled and executed by Airflow — LocalExecutor by default, or
CeleryExecutor with a worker when ``MSDW_CELERY_BROKER_URL`` is set (e.g.
``redis://127.0.0.1:6379/0``). Used by ``msdw serve`` and by the slow
end-to-end scheduler test. Logs go to ``$AIRFLOW_HOME/logs/services/``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from msdw.config import _local_secret, settings
from msdw.orchestration import airflow_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Services:
    env: dict[str, str]
    port: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        exe = str(Path(sys.executable).with_name("airflow"))
        return subprocess.run([exe, *args], env=self.env, check=check, text=True, capture_output=True)

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.procs.items()}

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every component's process group, SIGKILL what is left after ``timeout``.

        Each component leads its own process group (``start_new_session``), so
        its children (task supervisors, the log server on port 8793) stop with
        it: an orphaned log server would keep the port and make the next
        dag-processor/triggerer exit at start.
        """
        for p in self.procs.values():
            _signal_group(p, signal.SIGTERM)
        deadline = time.time() + timeout
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs.values():
            _signal_group(p, signal.SIGKILL)  # children that outlived their leader, and any leader still up
            if p.poll() is None:
                p.wait()


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def service_environ(port: int) -> dict[str, str]:
    broker = os.environ.get("MSDW_CELERY_BROKER_URL")
    executor = "CeleryExecutor" if broker else "LocalExecutor"
    env = {**os.environ, **airflow_env.airflow_environ(executor)}
    s = settings()
    env.update({
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": _local_secret(s.secrets_dir / "airflow_jwt_secret").decode(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # local only: bound to 127.0.0.1
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__PARALLELISM": "4",
    })
    if broker:
        env["AIRFLOW__CELERY__BROKER_URL"] = broker
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    return env


def start(port: int | None = None, wait_s: float = 180) -> Services:
    airflow_env.prepare()
    port = port or _free_port()
    env = service_environ(port)
    logdir = Path(env["AIRFLOW_HOME"]) / "logs" / "services"
    logdir.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).with_name("airflow"))
    commands = {
        "api-server": [exe, "api-server", "--host", "127.0.0.1", "--port", str(port)],
        "scheduler": [exe, "scheduler"],
        "dag-processor": [exe, "dag-processor"],
        "triggerer": [exe, "triggerer"],
    }
    if env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor":
        commands["celery-worker"] = [exe, "celery", "worker", "--concurrency", "2"]
    svc = Services(env=env, port=port)
    for name, cmd in commands.items():
        log = open(logdir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
        svc.procs[name] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
    _wait_healthy(svc, wait_s)
    return svc


def _wait_healthy(svc: Services, wait_s: float) -> None:
    deadline = time.time() + wait_s
    last = None
    healthy_since = None
    while time.time() < deadline:
        dead = [n for n, ok in svc.alive().items() if not ok]
        if dead:
            svc.stop()
            raise RuntimeError(f"airflow components exited early: {dead} (see logs/services/*.log)")
        try:
            with urllib.request.urlopen(f"{svc.base_url}/api/v2/monitor/health", timeout=5) as r:
                body = json.loads(r.read())
                if body.get("scheduler", {}).get("status") == "healthy":
                    # and every component still up a few seconds later (a dag-processor or
                    # triggerer that cannot start exits right after its banner)
                    healthy_since = healthy_since or time.time()
                    if time.time() - healthy_since >= 5:
                        return
                last = body
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = exc
        time.sleep(2)
    svc.stop()
    raise TimeoutError(f"airflow did not become healthy in {wait_s}s: {last}")


@contextmanager
def running(port: int | None = None) -> Iterator[Services]:
    svc = start(port)
    try:
        yield svc
    finally:
        svc.stop()
