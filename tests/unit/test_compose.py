"""The compose deployment, checked statically (no Docker needed).

What a `docker compose up` would only reveal at 3 a.m. — a missing service or
health check, a file the compose file mounts that is not in the repository, a
``${VAR}`` nobody declares, an image whose Airflow differs from the tested
lock, a real secret committed by mistake — is asserted here in milliseconds.
The postgres init script itself runs for real in
tests/integration/test_compose_postgres_init.py.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENV_EXAMPLE = REPO / ".env.example"
LOCK = REPO / "requirements.lock"
PYPROJECT = REPO / "pyproject.toml"
INIT_SCRIPT = REPO / "docker" / "airflow-init.sh"
PG_INIT_DIR = REPO / "docker" / "postgres-init"

REQUIRED_SERVICES = {
    "postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
    "airflow-worker", "airflow-triggerer", "airflow-init",
}
AIRFLOW_SERVICES = REQUIRED_SERVICES - {"postgres", "redis"}
ONE_SHOT = {"airflow-init", "airflow-cli"}  # run to completion: no health check
# Host directories compose creates on first start (airflow-init hands them to
# AIRFLOW_UID). They hold data, so they must be git-ignored, not committed.
RUNTIME_DIRS = {"logs", "landing", "reports"}
# The only values .env.example may give a secret.
PLACEHOLDERS = {"", "change-me"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|FERNET", re.I)
WAREHOUSE_SECRETS = {"MSDW_WAREHOUSE_DSN", "MSDW_PII_HMAC_KEY"}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# ${VAR}, ${VAR:-default}, ${VAR:?message}; "$${VAR}" is a container-side variable.
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file (comments and blank lines skipped)."""
    env: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}:{lineno}: not KEY=VALUE: {line!r}"
        env[key.strip()] = value.strip().strip("'\"")
    return env


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return _env_file(ENV_EXAMPLE)


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose-style interpolation of ``text`` with ``env`` (defaults honoured)."""

    def repl(m: re.Match) -> str:
        value = env.get(m["name"])
        if not value and m["op"] and m["op"].endswith("-"):
            return m["arg"] or ""  # ${VAR:-default}
        return value or ""

    return COMPOSE_VAR.sub(repl, text).replace("$$", "$")


def _volume(spec, env: dict[str, str] | None = None) -> tuple[str, str]:
    """(source, target) of a service volume, after interpolation with ``env`` (defaults honoured)."""
    if isinstance(spec, dict):
        return str(spec.get("source", "")), str(spec["target"])
    parts = _interpolate(str(spec), env or {}).split(":")
    return (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])


def _compose_code() -> str:
    """docker-compose.yml without its comment lines (compose never interpolates those)."""
    lines = COMPOSE.read_text(encoding="utf-8").splitlines()
    return "\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))


def _environment(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _dockerfile_instructions() -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with line continuations joined."""
    out, buf, start = [], "", 0
    for lineno, raw in enumerate(DOCKERFILE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if not buf:
            start = lineno
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        instr, _, args = buf.partition(" ")
        out.append((start, instr.upper(), args.strip()))
        buf = ""
    return out


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        if m:
            pins[m[1].lower().split("[")[0]] = m[2]
    return pins


# --- services ----------------------------------------------------------------------


def test_required_services_exist(services):
    missing = REQUIRED_SERVICES - set(services)
    assert not missing, f"docker-compose.yml lacks services {sorted(missing)}"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, svc in services.items():
        if name in ONE_SHOT:
            continue
        hc = svc.get("healthcheck") or {}
        assert hc.get("test") and not hc.get("disable"), f"service {name}: no healthcheck"
        assert svc.get("restart") in {"always", "unless-stopped", "on-failure"}, f"service {name}: no restart policy"


def test_celery_executor_with_broker_and_result_backend(services):
    for name in AIRFLOW_SERVICES | {"flower", "airflow-cli"} & set(services):
        env = _environment(services[name])
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor", name
        broker = urlsplit(_interpolate(env["AIRFLOW__CELERY__BROKER_URL"], {}))
        assert broker.scheme == "redis" and broker.hostname in services, f"{name}: broker {broker.geturl()}"
        backend = urlsplit(_interpolate(env["AIRFLOW__CELERY__RESULT_BACKEND"], {}))
        assert backend.scheme.startswith("db+postgresql") and backend.hostname in services, name
        meta = urlsplit(_interpolate(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], {}))
        assert meta.scheme.startswith("postgresql") and meta.hostname == "postgres", name
        # the Celery result backend lives in the metadata DB, not in the warehouse
        assert backend.path == meta.path == "/airflow", name


def test_airflow_core_settings(services):
    env = _environment(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/airflow/dags"
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/airflow/plugins"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"], "AIRFLOW__CORE__AUTH_MANAGER must be set explicitly"
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert COMPOSE_VAR.fullmatch(env[key]), f"{key} must come from .env, not be written in the compose file"
    # task processes reach the Execution API of the api-server service
    url = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == "airflow-apiserver" and url.path.rstrip("/") == "/execution"
    api = services["airflow-apiserver"]
    assert api["command"] == "api-server"
    assert any(str(p).endswith(f":{url.port}") for p in api["ports"]), "api-server port != execution API port"
    assert env.get("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK") == "true", "the scheduler healthcheck needs it"


def test_commands_match_the_official_components(services):
    expected = {
        "airflow-scheduler": "scheduler", "airflow-dag-processor": "dag-processor",
        "airflow-worker": "celery worker", "airflow-triggerer": "triggerer",
    }
    for name, command in expected.items():
        assert services[name]["command"] == command, name


def test_worker_is_scalable(services):
    worker = services["airflow-worker"]
    for key in ("container_name", "hostname", "ports"):
        assert key not in worker, f"airflow-worker must not set {key}: `--scale airflow-worker=N` needs identical replicas"
    env = _environment(worker)
    assert env.get("DUMB_INIT_SETSID") == "0", "warm shutdown of Celery workers needs DUMB_INIT_SETSID=0"


def test_platform_environment(services):
    env = _environment(services["airflow-worker"])
    assert env["MSDW_HOME"] == "/opt/airflow/msdw"
    for key in ("MSDW_WAREHOUSE_DSN", "MSDW_PII_HMAC_KEY", "MSDW_ALERT_WEBHOOK_URL", "MSDW_ALERT_EMAIL",
                "MSDW_JURISDICTION", "MSDW_LANDING", "MSDW_REPORTS_DIR"):
        assert key in env, f"airflow-worker lacks {key}"
    dsn = urlsplit(_interpolate(env["MSDW_WAREHOUSE_DSN"], {}))
    assert dsn.scheme == "postgresql" and dsn.hostname == "postgres" and dsn.path == "/msdw"
    assert COMPOSE_VAR.fullmatch(env["MSDW_PII_HMAC_KEY"]), "MSDW_PII_HMAC_KEY must come from .env"
    # landing and reports are mounted where the platform looks for them
    targets = {_volume(v)[1] for v in services["airflow-worker"]["volumes"]}
    assert {env["MSDW_LANDING"], env["MSDW_REPORTS_DIR"], env["MSDW_HOME"], "/opt/airflow/dags",
            "/opt/airflow/plugins", "/opt/airflow/dbt_project", "/opt/airflow/expectations",
            "/opt/airflow/logs"} <= targets


def test_warehouse_secrets_only_where_tasks_run(services):
    """Least privilege: the API server, scheduler, DAG processor and triggerer never see the PII key."""
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "flower"):
        if name in services:
            leaked = WAREHOUSE_SECRETS & set(_environment(services[name]))
            assert not leaked, f"{name} gets {sorted(leaked)}"
    for name in ("airflow-worker", "airflow-init"):
        assert WAREHOUSE_SECRETS <= set(_environment(services[name])), name


def test_init_migrates_creates_pool_and_bootstraps(services):
    init = services["airflow-init"]
    assert init.get("user") == "0:0", "airflow-init must run as root to chown the runtime directories"
    script_path = init["command"][-1]
    assert script_path == "/opt/airflow/docker/airflow-init.sh"
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    for step in ("airflow db migrate", "airflow pools set", "msdw bootstrap"):
        assert re.search(rf"^\s*{re.escape(step)}\b", script, re.M), f"airflow-init.sh does not run `{step}`"
    from msdw.orchestration.airflow_env import WAREHOUSE_POOL

    assert f"airflow pools set {WAREHOUSE_POOL} " in script, "pool name differs from the DAGs' WAREHOUSE_POOL"
    # the other Airflow services wait for it to finish
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        cond = services[name]["depends_on"].get("airflow-init", {}).get("condition")
        assert cond == "service_completed_successfully", name


def test_postgres_creates_both_databases(services):
    pg = services["postgres"]
    assert re.fullmatch(r"postgres:1[6-9](\.\d+)?(-\w+)?", pg["image"]), "init script needs PostgreSQL 16+"
    mounts = {t: s for s, t in (_volume(v) for v in pg["volumes"])}
    assert mounts.get("/docker-entrypoint-initdb.d") == "./docker/postgres-init"
    scripts = sorted(PG_INIT_DIR.glob("*.sh"))
    assert scripts, "docker/postgres-init has no init script"
    for s in scripts:
        assert os.access(s, os.X_OK), f"{s} must be executable (the postgres entrypoint runs it)"
    env = _environment(pg)
    for key in ("AIRFLOW_DB_PASSWORD", "MSDW_DB_PASSWORD", "POSTGRES_PASSWORD"):
        assert COMPOSE_VAR.fullmatch(env[key]), f"postgres {key} must come from .env"


def test_depends_on_reference_defined_services(services):
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on undefined service {dep}"
            assert dep != name
            cond = (spec or {}).get("condition", "service_started")
            assert cond in DEPENDS_CONDITIONS, f"{name} → {dep}: unknown condition {cond}"
            if cond == "service_healthy":
                assert services[dep].get("healthcheck"), f"{name} waits for {dep} to be healthy; it has no healthcheck"
            # a default service must not depend on one that only starts with a profile
            if not svc.get("profiles"):
                assert not services[dep].get("profiles"), f"{name} depends on profile-only service {dep}"


# --- files the compose file and the Dockerfile reference ------------------------------------




def test_referenced_files_exist(compose, services, env_example):
    named = set(compose.get("volumes") or {})
    for name, svc in services.items():
        build = svc.get("build")
        if build:
            ctx = REPO / (build if isinstance(build, str) else build.get("context", "."))
            assert ctx.is_dir(), f"{name}: build context {ctx} missing"
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (ctx / dockerfile).is_file(), f"{name}: {dockerfile} missing"
        for spec in svc.get("env_file") or []:
            path = spec if isinstance(spec, str) else spec["path"]
            assert (REPO / path).exists() or path == ".env", f"{name}: env_file {path} missing"
        for vol in svc.get("volumes") or []:
            host, target = _volume(vol, env_example)
            if not host.startswith((".", "/", "~")):
                assert host in named, f"{name}: named volume {host} (→ {target}) not declared"
                continue
            rel = Path(host).as_posix().removeprefix("./")
            if rel in RUNTIME_DIRS:
                assert _git_ignored(rel), f"runtime dir {rel}/ must be git-ignored (it holds data)"
                continue
            assert (REPO / rel).exists(), f"{name}: {host} (mounted at {target}) does not exist in the repository"


def _git_ignored(rel: str) -> bool:
    if not shutil.which("git") or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    res = subprocess.run(["git", "check-ignore", "-q", f"{rel}/probe"], cwd=REPO)
    return res.returncode == 0


def _dockerignore_patterns() -> list[str]:
    return [p.strip() for p in DOCKERIGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")]


def _dockerignored(rel: str, patterns: list[str]) -> bool:
    ignored = False
    for pat in patterns:
        neg = pat.startswith("!")
        pat = pat.lstrip("!").rstrip("/")
        parts = rel.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.removeprefix("**/")) for p in prefixes):
            ignored = not neg
    return ignored


def test_dockerfile_copies_existing_and_included_files():
    patterns = _dockerignore_patterns()
    copies = [(ln, args) for ln, instr, args in _dockerfile_instructions() if instr in {"COPY", "ADD"}]
    assert copies, "Dockerfile copies nothing"
    for ln, args in copies:
        parts = [a for a in args.split() if not a.startswith("--")]
        for src in parts[:-1]:
            assert (REPO / src).exists(), f"Dockerfile:{ln}: COPY source {src} missing"
            assert not _dockerignored(src, patterns), f"Dockerfile:{ln}: {src} is excluded by .dockerignore"
    # and local state or secrets never reach the build context
    for must_ignore in (".env", ".venv", ".msdw", ".git", "landing", "reports", "logs", "dbt_project/target"):
        assert _dockerignored(must_ignore, patterns), f".dockerignore must exclude {must_ignore}"


# --- variables and secrets ----------------------------------------------------------


def test_every_compose_variable_is_declared_in_env_example(env_example):
    text = _compose_code()
    used = {m["name"] for m in COMPOSE_VAR.finditer(text)}
    undeclared = used - set(env_example)
    assert not undeclared, f".env.example does not declare {sorted(undeclared)}"
    unused = set(env_example) - used
    assert not unused, f".env.example declares variables docker-compose.yml never uses: {sorted(unused)}"
    # bare $VAR (no braces) would be interpolated by compose too, silently
    bare = re.findall(r"(?<!\$)\$(?!\{|\$)([A-Za-z_]\w*)", text)
    assert not bare, f"use ${{VAR}} (or $${{VAR}} for the container's shell): {bare}"


def test_required_secrets_fail_fast_when_unset():
    """A missing secret must stop `docker compose` with a message, never start with an empty one."""
    text = _compose_code()
    for m in COMPOSE_VAR.finditer(text):
        if SECRET_NAME.search(m["name"]) and m["name"] != "AIRFLOW_AUTH_MANAGER":
            assert m["op"] == ":?", f"${{{m['name']}}} must be written ${{{m['name']}:?message}}"


def test_env_example_holds_placeholders_only(env_example):
    for key, value in env_example.items():
        if SECRET_NAME.search(key):
            assert value in PLACEHOLDERS, f".env.example: {key} has a real-looking value; use change-me"
        assert not re.fullmatch(r"[0-9a-fA-F]{32,}|[A-Za-z0-9+/_\-]{40,}={0,2}", value), \
            f".env.example: {key} looks like a generated secret"
        if "://" in value:
            assert not urlsplit(value).password, f".env.example: {key} carries a password"
    assert "openssl rand -hex 32" in ENV_EXAMPLE.read_text(encoding="utf-8"), "document how to generate secrets"


def test_env_file_is_git_ignored():
    assert _git_ignored_file(".env")
    assert not _git_ignored_file(".env.example")


def _git_ignored_file(rel: str) -> bool:
    if not shutil.which("git") or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    return subprocess.run(["git", "check-ignore", "-q", "--no-index", rel], cwd=REPO).returncode == 0


# --- pins ------------------------------------------------------------------------------


def test_image_pins_match_the_lock():
    pins = _lock_pins()
    froms = [args for _, instr, args in _dockerfile_instructions() if instr == "FROM"]
    assert len(froms) == 1, "one stage, extending the official image"
    m = re.fullmatch(r"apache/airflow:(?P<airflow>[\d.]+)-python(?P<python>\d+\.\d+)", froms[0])
    assert m, f"FROM must pin apache/airflow:<version>-python<x.y>, got {froms[0]!r}"
    assert m["airflow"] == "3.3.2" == pins["apache-airflow"] == pins["apache-airflow-core"]
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert "apache-airflow==3.3.2" in project["dependencies"]
    assert f">={m['python']}" in project["requires-python"], "image Python differs from pyproject's"

    runs = " ".join(args for _, instr, args in _dockerfile_instructions() if instr == "RUN")
    assert re.search(r"pip install [^&]*\"apache-airflow==\$\{AIRFLOW_VERSION\}\" -r \S*requirements\.lock", runs), \
        "install the lock pinned to the image's Airflow (official extending-the-image guidance)"
    assert re.search(r"pip install [^&]*--no-deps -e ", runs), "install the project itself with --no-deps"
    users = [args for _, instr, args in _dockerfile_instructions() if instr == "USER"]
    assert users and users[-1] == "airflow", "the image must end as the airflow user"


def test_dockerfile_bakes_in_no_secret():
    for ln, instr, args in _dockerfile_instructions():
        if instr in {"ENV", "ARG"}:
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args):
                assert not SECRET_NAME.search(name), f"Dockerfile:{ln}: {instr} {name} would bake a secret into the image"


# --- credentials in the tree ---------------------------------------------------------------

# A password may appear only as a variable or an obvious placeholder.
_OK_PASSWORD = re.compile(
    r"""^(|\$\{?\w.*|\$\$\{?\w.*|\{\{.*|\{\w*\}|%\(?\w*\)?s|<[^>]*>|\*+|\.\.\.|x+|change-?me|changeme|password|
        pass|pw|secret|placeholder[-\w]*|test|example|redacted|REDACTED)$""",
    re.X | re.I,
)
_SCANS = {
    "credentials in a URI": re.compile(
        r"\b[a-z][a-z0-9+.\-]*://(?P<user>[^\s:/@'\"`<>]+):(?P<pw>[^\s@/'\"`<>]*)@"),
    "password= literal": re.compile(r"(?i)\bpassword\s*=\s*(?P<q>['\"]?)(?P<pw>[^\s'\"&;,)]*)(?P=q)"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?(?P<pw>[A-Za-z0-9/+=]{30,})"),
}
_SELF = Path(__file__).resolve()


def _tracked_files() -> list[Path]:
    if not shutil.which("git") or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / p for p in out.decode().split("\0") if p]


def test_no_credentials_in_the_tree():
    findings = []
    for path in _tracked_files():
        if path.resolve() == _SELF or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (xlsx fixtures, images)
        # ${VAR:?message} interpolations become one token, so a URI built from
        # variables reads as postgresql://${VAR}:${VAR}@host (allowed)
        text = re.sub(r"\$\{[^}\n]*\}", "${VAR}", data.decode("utf-8", errors="replace"))
        for what, rx in _SCANS.items():
            for m in rx.finditer(text):
                pw = m.groupdict().get("pw")
                if pw is not None and _OK_PASSWORD.match(pw):
                    continue
                if what == "password= literal" and not m["q"] and path.suffix == ".py":
                    continue  # a keyword argument fed from an expression, e.g. password=info.get(...)
                line = text.count("\n", 0, m.start()) + 1
                findings.append(f"{path.relative_to(REPO)}:{line}: {what}: {m.group(0)[:60]!r}")
    assert not findings, "possible credentials committed:\n" + "\n".join(sorted(findings))
