"""docker-compose.yml's services as processes on this machine: the production stack, without Docker.

What ``docker compose up`` would start, started here the way an operator would
check a deployment on a host without Docker, and from the same files:

* **secrets**: ``docker/make-secrets.sh`` writes them into ``<root>/run/secrets``
  (``/run/secrets`` in the containers);
* **PostgreSQL 16** (the compose image's major version): a private cluster from
  the pgserver wheel's binaries, listening on 127.0.0.1 with scram-sha-256
  passwords over TCP and trust on its socket, as the postgres image does; its
  databases and owners made by ``docker/postgres-init/10-create-databases.sh``
  with the postgres service's environment (passwords from the secret files);
* **Redis**: ``redis-server`` (Debian package; ``make system-deps`` installs it)
  with ``requirepass`` from the secret, as the redis service; only when the binary
  is missing, the machine's Redis on 127.0.0.1:6379 (no password, a queue of its own);
* **each Airflow service**: its compose ``environment`` (anchors merged, ``${VAR}``
  interpolated from ``.env.example`` plus this test's values) on top of the
  Dockerfile's ``ENV``, with container paths (``/opt/airflow``, ``/run/secrets``)
  and service host names (``postgres``, ``redis``, ``airflow-apiserver``) mapped to
  this machine, only the secret files the service mounts present in its view, its
  compose ``command`` run by the venv's ``airflow``;
* **airflow-init**: ``docker/airflow-init.sh`` verbatim.

Adaptations to one host, each because containers would not share it: ports
(every service listens on its own free port instead of its container's), and
nothing else. What Docker itself does (image build, health checks, restarts,
resource limits) is checked statically by tests/unit/test_compose.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
VENV_BIN = Path(sys.executable).parent
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file (comments and blank lines skipped)."""
    env = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}:{lineno}: not KEY=VALUE: {line!r}"
            env[key.strip()] = value.strip().strip("'\"")
    return env


def interpolate(text: str, env: dict[str, str], strict: bool = True) -> str:
    """Compose-style ``${VAR}``, ``${VAR:-default}``, ``${VAR:?message}`` (``$$`` → ``$``).

    ``strict``: a ``${VAR:?message}`` without a value raises, as `docker compose` stops.
    """

    def repl(m: re.Match) -> str:
        value = env.get(m["name"])
        if strict and m["op"] == ":?" and not value:
            raise KeyError(f"${{{m['name']}}} is required: {m['arg']}")
        if not value and m["op"] and m["op"].endswith("-"):
            return m["arg"] or ""
        return value or ""

    return COMPOSE_VAR.sub(repl, text).replace("$$", "$")


def dockerfile_env() -> dict[str, str]:
    """The ``ENV`` of the Dockerfile (continuation lines joined)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for k, v in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", line[4:]):
                env[k] = v
    return env


# --- PostgreSQL -----------------------------------------------------------------------------------


class PgCluster:
    """A private PostgreSQL 16 cluster: TCP on 127.0.0.1 with passwords, trust on its own socket.

    As the postgres image: ``initdb --auth-host=scram-sha-256 --auth-local=trust``,
    the superuser ``postgres`` with the password of the ``postgres_password`` secret.
    Root cannot run PostgreSQL: as root the cluster runs as pgserver's system user.
    """

    def __init__(self, datadir: Path, superuser_password_file: Path):
        import pgserver

        self.datadir = datadir
        self.bindir = Path(pgserver.__file__).parent / "pginstall" / "bin"
        self.port = free_port()
        self.user = None
        datadir.mkdir(parents=True)
        if os.geteuid() == 0:
            import stat

            from pgserver.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            self.user = "pgserver"
            entry = ensure_user_exists(self.user)
            ensure_prefix_permissions(datadir)
            ensure_prefix_permissions(self.bindir)
            ensure_folder_permissions(self.bindir, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(self.bindir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            os.chown(datadir, entry.pw_uid, entry.pw_gid)
        pwfile = datadir.parent / "pg-superuser-password"
        shutil.copy(superuser_password_file, pwfile)
        if self.user:
            shutil.chown(pwfile, self.user)
        self._run("initdb", "-D", str(datadir), "-U", "postgres", f"--pwfile={pwfile}", "--encoding=UTF8",
                  "--auth-host=scram-sha-256", "--auth-local=trust")
        pwfile.unlink()
        self._run("pg_ctl", "-D", str(datadir), "-w", "-t", "60", "-l", str(datadir / "server.log"),
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {datadir}", "start")

    def _run(self, exe: str, *args: str) -> None:
        res = subprocess.run([str(self.bindir / exe), *args], capture_output=True, text=True, user=self.user,
                             timeout=120)
        assert res.returncode == 0, f"{exe}: {res.stdout[-2000:]}{res.stderr[-2000:]}"

    def admin_dsn(self, dbname: str = "postgres") -> str:
        """The superuser over the socket (trust), as `docker compose exec postgres psql` would."""
        return psycopg.conninfo.make_conninfo(host=str(self.datadir), port=self.port, user="postgres", dbname=dbname)

    def stop(self) -> None:
        subprocess.run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"],
                       capture_output=True, user=self.user, timeout=120)


# --- Redis -----------------------------------------------------------------------------------------


class Redis:
    """redis-server as the compose service runs it (``requirepass`` from the secret), on a free port.

    Without the redis-server binary: the machine's Redis on 127.0.0.1:6379 when it
    answers, which has no password: ``url`` then carries none and ``queue`` keeps
    this stack's tasks apart from any other Celery user of that server.
    """

    def __init__(self, workdir: Path, password_file: Path):
        self.proc = None
        self.queue = None
        exe = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                               else None)
        if exe:
            self.port = free_port()
            conf = workdir / "redis.conf"
            conf.write_text(f"bind 127.0.0.1\nport {self.port}\nrequirepass {password_file.read_text().strip()}\n"
                            f"save \"\"\nappendonly no\ndir {workdir}\n", encoding="utf-8")
            conf.chmod(0o600)
            self.log = open(workdir / "redis.log", "ab")  # noqa: SIM115 - the server's, closed at stop()
            self.proc = subprocess.Popen([exe, str(conf)], stdout=self.log, stderr=subprocess.STDOUT)
            self.password = password_file.read_text().strip()
        elif _answers("127.0.0.1", 6379):
            self.port, self.password, self.queue = 6379, None, f"msdw-stack-{os.getpid()}"
        else:
            import pytest

            pytest.skip("no redis-server binary and no Redis on 127.0.0.1:6379 (make system-deps installs it)")
        deadline = time.time() + 30
        while not self.ping():
            assert time.time() < deadline, "redis did not answer in 30 s"
            time.sleep(0.2)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                if self.password:
                    s.sendall(f"AUTH {self.password}\r\n".encode())
                    if not s.recv(64).startswith(b"+OK"):
                        return False
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)
            self.log.close()


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --- alert sinks -----------------------------------------------------------------------------------


class WebhookSink:
    """An HTTP endpoint that records the JSON bodies POSTed to it (the alert robot)."""

    def __init__(self):
        self.received: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.received.append(json.loads(body.decode("utf-8")))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"errcode":0}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?key=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """A local SMTP server (aiosmtpd) that keeps every message it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received: list[dict] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                msg = message_from_bytes(envelope.original_content or envelope.content)
                body = "".join(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                               for part in msg.walk() if part.get_content_maintype() == "text")
                sink.received.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                      "subject": str(make_header(decode_header(msg["Subject"] or ""))),
                                      "body": body})
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


# --- the stack -----------------------------------------------------------------------------------


class ComposeStack:
    """The compose deployment run as processes under ``root`` (a stand-in for ``/opt/airflow``).

    ``dotenv`` overrides ``.env.example`` (what an operator writes into ``.env``);
    ``extra_env`` is added to every Airflow service (e.g. the scheduler test's
    shorter intervals). Use as a context manager: ``init()``, then ``start()``.
    """

    def __init__(self, root: Path, dotenv: dict[str, str] | None = None, extra_env: dict[str, str] | None = None,
                 webhook_url: str = ""):
        self.root = Path(root)
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        self.secrets = self.root / "secrets"  # the host's ./secrets (docker/make-secrets.sh)
        self.compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
        self.dotenv = {**env_file(REPO / ".env.example"), "AIRFLOW_BASE_DIGEST": "sha256:" + "0" * 64,
                       "AIRFLOW_UID": str(os.getuid()), **(dotenv or {})}
        self.extra_env = dict(extra_env or {})
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.pg: PgCluster | None = None
        self.redis: Redis | None = None
        # the image's layout: code and the helper scripts from the checkout, runtime directories of their own
        for d in ("dags", "dbt_project", "expectations", "docker"):
            (self.root / d).symlink_to(REPO / d)
        for d in ("logs", "landing", "reports", "msdw", "auth", "home"):
            (self.root / d).mkdir()
        res = subprocess.run(["bash", str(REPO / "docker" / "make-secrets.sh"), str(self.secrets)],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        (self.secrets / "alert_webhook_url").write_text(webhook_url, encoding="utf-8")

    # -- compose → process -------------------------------------------------------------------------

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def secret(self, name: str) -> str:
        return (self.secrets / name).read_text(encoding="utf-8").strip()

    def _map(self, value: str, service: str) -> str:
        """A path or host name in service ``service``'s container → this machine's."""
        value = value.replace("/run/secrets", str(self.secrets_of(service))).replace("/opt/airflow", str(self.root))
        hosts = {"postgres:5432": self.pg.port if self.pg else None, "redis:6379": self.redis.port if self.redis else None,
                 "airflow-apiserver:8080": self.ports.get("airflow-apiserver")}
        for host, port in hosts.items():
            if port:
                value = value.replace(host, f"127.0.0.1:{port}")
        return value

    def service(self, name: str) -> dict:
        return self.compose["services"][name]

    def service_secrets(self, name: str) -> list[str]:
        return [s if isinstance(s, str) else s["source"] for s in self.service(name).get("secrets") or []]

    def secrets_of(self, name: str) -> Path:
        """Service ``name``'s ``/run/secrets``: exactly the secrets it mounts (links into ./secrets).

        A service that read a secret it does not mount fails here as it would in compose.
        """
        view = self.root / "run" / name / "secrets"
        if not view.exists():
            view.mkdir(parents=True)
            for secret in self.service_secrets(name):
                (view / secret).symlink_to(self.secrets / secret)
        return view

    def env(self, name: str) -> dict[str, str]:
        """The environment a container of service ``name`` would have, on this machine."""
        svc = self.service(name)
        raw = svc.get("environment") or {}
        env = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.root / "home"),
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOSTNAME": name,
               "AIRFLOW_HOME": str(self.root),  # the official image's ENV
               **{k: self._map(v, name) for k, v in dockerfile_env().items()}}
        for k, v in raw.items():
            env[k] = self._map(interpolate("" if v is None else str(v), self.dotenv), name)
        env.update(self.extra_env)
        return env

    def _adapt(self, name: str, env: dict[str, str]) -> dict[str, str]:
        """One host instead of a network of containers: every listener on a free port of its own."""
        if name == "airflow-apiserver":
            env.update(AIRFLOW__API__HOST="127.0.0.1", AIRFLOW__API__PORT=str(self.ports[name]))
        elif name == "airflow-scheduler":
            env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(free_port())
        elif name == "airflow-worker":
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
        elif name == "airflow-triggerer":
            env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
        if self.redis and self.redis.queue:  # the machine's shared Redis: no password, a queue of our own
            env.pop("AIRFLOW__CELERY__BROKER_URL_CMD", None)
            env["AIRFLOW__CELERY__BROKER_URL"] = f"redis://127.0.0.1:{self.redis.port}/0"
            env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] = self.redis.queue
        return env

    # -- lifecycle ---------------------------------------------------------------------------------

    def init(self) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
        """postgres + redis up, ``10-create-databases.sh`` as the postgres container runs it, then airflow-init."""
        self.pg = PgCluster(self.root / "pg", self.secrets / "postgres_password")
        self.redis = Redis(self.root, self.secrets / "redis_password")
        pg_env = {k: self._map(interpolate(str(v), self.dotenv), "postgres")
                  for k, v in self.service("postgres")["environment"].items()}
        pg_env.pop("POSTGRES_PASSWORD_FILE")  # read by the image's entrypoint (initdb above), not by the script
        pg_env.update(PATH=f"{self.pg.bindir}:/usr/bin:/bin", PGHOST=str(self.pg.datadir), PGPORT=str(self.pg.port))
        pg_init = subprocess.run(["bash", str(REPO / "docker" / "postgres-init" / "10-create-databases.sh")],
                                 env=pg_env, capture_output=True, text=True, timeout=120)
        assert pg_init.returncode == 0, pg_init.stderr
        init = self.run_service("airflow-init")
        return pg_init, init

    def run_service(self, name: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """A one-shot service (airflow-init): its command (and entrypoint, if the service sets one), to completion.

        The image's own entrypoint is not run: it waits for the metadata DB (already up here) and
        gives an arbitrary AIRFLOW_UID a passwd entry (this user has one).
        """
        svc = self.service(name)
        cmd = [self._map(c, name) for c in ([svc["entrypoint"]] if isinstance(svc.get("entrypoint"), str)
                                            else svc.get("entrypoint") or [])]
        cmd += [self._map(c, name) for c in svc["command"]]
        return subprocess.run(cmd, env=self._adapt(name, self.env(name)), capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)

    def start(self, services=AIRFLOW_SERVICES, wait_s: float = 240) -> None:
        """Start the long-running Airflow services (api-server first: the others call it), wait until healthy."""
        self.ports["airflow-apiserver"] = free_port()
        logdir = self.root / "logs" / "services"
        logdir.mkdir(parents=True, exist_ok=True)
        for name in services:
            command = self.service(name)["command"]
            args = command.split() if isinstance(command, str) else list(command)
            env = self._adapt(name, self.env(name))
            log = open(logdir / f"{name}.log", "ab")  # noqa: SIM115 - the child's for its lifetime
            self.procs[name] = subprocess.Popen([str(VENV_BIN / "airflow"), *args], env=env, cwd=self.root,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_healthy(wait_s)

    def _wait_healthy(self, wait_s: float) -> None:
        deadline, healthy_since, last = time.time() + wait_s, None, None
        url = f"http://127.0.0.1:{self.ports['airflow-apiserver']}/api/v2/monitor/health"
        while time.time() < deadline:
            dead = [n for n, ok in self.alive().items() if not ok]
            assert not dead, f"services exited at start: {dead}\n{self.log_tail(*dead)}"
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    last = json.loads(r.read())
                healthy = all((last.get(c) or {"status": "healthy"}).get("status") == "healthy"
                              for c in ("metadatabase", "scheduler", "triggerer", "dag_processor"))
                if healthy:
                    healthy_since = healthy_since or time.time()
                    if time.time() - healthy_since >= 5:
                        return
            except Exception as exc:  # noqa: BLE001 - not up yet
                last = exc
            time.sleep(2)
        raise AssertionError(f"the stack did not become healthy in {wait_s:.0f}s: {last}\n{self.log_tail()}")

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``docker compose run --rm airflow-cli airflow …``"""
        env = self._adapt("airflow-cli", self.env("airflow-cli"))
        res = subprocess.run([str(VENV_BIN / "airflow"), *args], env=env, capture_output=True, text=True,
                             cwd=self.root, timeout=600)
        if check:
            assert res.returncode == 0, f"airflow {' '.join(args)}: {res.stderr[-3000:]}"
        return res

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.procs.items()}

    def log_tail(self, *names: str, chars: int = 3000) -> str:
        out = []
        for name in names or self.procs:
            f = self.root / "logs" / "services" / f"{name}.log"
            if f.exists():
                out.append(f"--- {name} ---\n" + f.read_text(errors="replace")[-chars:])
        return "\n".join(out)

    def stop(self) -> None:
        for p in self.procs.values():
            _signal_group(p, signal.SIGTERM)
        deadline = time.time() + 15  # then SIGKILL: the worker's warm shutdown has nothing to wait for
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs.values():
            _signal_group(p, signal.SIGKILL)  # children that outlived their leader (task supervisors, log servers)
            if p.poll() is None:
                p.wait()
        if self.redis:
            self.redis.stop()
        if self.pg:
            self.pg.stop()

    def __enter__(self) -> ComposeStack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
