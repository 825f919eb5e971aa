"""The compose deployment, checked statically (no Docker needed).

What a `docker compose up` would only reveal at 3 a.m. — a missing service or
health check, a file the compose file mounts that is not in the repository, a
``${VAR}`` nobody declares, an image whose Airflow differs from the tested
lock, a secret in an environment variable or in a container that does not need
it, a real secret committed by mistake — is asserted here in milliseconds.
The postgres init script itself runs for real in
tests/integration/test_compose_postgres_init.py, and every service of this file
runs as a process with its environment in the scheduler path of
tests/e2e/test_pipeline.py (tests/compose_stack.py).
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
from compose_stack import COMPOSE_VAR, env_file, interpolate

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
    "airflow-worker", "airflow-triggerer", "airflow-init", "airflow-log-groomer",
}
AIRFLOW_SERVICES = REQUIRED_SERVICES - {"postgres", "redis", "airflow-log-groomer"}
ONE_SHOT = {"airflow-init", "airflow-cli"}  # run to completion: no health check
# Host directories compose creates on first start (airflow-init hands them to
# AIRFLOW_UID). They hold data, so they must be git-ignored, not committed.
RUNTIME_DIRS = {"logs", "landing", "reports", "secrets"}
# The only values .env.example may give a secret.
PLACEHOLDERS = {"", "change-me"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|FERNET", re.I)
# Which secret files each service mounts (compose `secrets:`): least privilege, and
# exactly what the production-stack test runs each service with. The warehouse
# password and the PII key reach only the containers that run warehouse tasks.
SECRETS_OF = {
    "postgres": {"postgres_password", "airflow_db_password", "msdw_db_password"},
    "redis": {"redis_password"},
    "airflow-apiserver": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "airflow_api_secret_key"},
    "airflow-scheduler": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "redis_password"},
    "airflow-dag-processor": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "alert_webhook_url"},
    "airflow-triggerer": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "airflow_api_secret_key"},
    "airflow-worker": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "airflow_api_secret_key",
                       "redis_password", "msdw_db_password", "pii_hmac_key", "alert_webhook_url"},
    "airflow-init": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "msdw_db_password",
                     "pii_hmac_key", "airflow_admin_password"},
    "airflow-cli": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "airflow_api_secret_key",
                    "redis_password", "msdw_db_password", "pii_hmac_key"},
    "airflow-log-groomer": set(),
    "flower": {"airflow_db_password", "airflow_fernet_key", "airflow_jwt_secret", "redis_password"},
}
SECRET_HELPER = "/opt/airflow/docker/secret-url"
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# COMPOSE_VAR: ${VAR}, ${VAR:-default}, ${VAR:?message}; "$${VAR}" is a container-side variable.


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return env_file(ENV_EXAMPLE)


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose-style interpolation of ``text`` with ``env`` (defaults honoured, required ones left empty)."""
    return interpolate(text, env, strict=False)


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


def _secrets(svc: dict) -> set[str]:
    return {s if isinstance(s, str) else s["source"] for s in svc.get("secrets") or []}


def _cmd_template(value: str) -> str:
    """The template of a ``secret-url`` *_CMD value, each ``{/run/secrets/x}`` as the token ``SECRET-x``."""
    helper, _, template = value.partition(" ")
    assert helper == SECRET_HELPER, f"secrets are read with {SECRET_HELPER}, not {helper!r}"
    return re.sub(r"\{/run/secrets/(\w+)\}", r"SECRET-\1", template)


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
        backend = urlsplit(_interpolate(_cmd_template(env["AIRFLOW__CELERY__RESULT_BACKEND_CMD"]), {}))
        assert backend.scheme.startswith("db+postgresql") and backend.hostname in services, name
        meta = urlsplit(_interpolate(_cmd_template(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD"]), {}))
        assert meta.scheme.startswith("postgresql") and meta.hostname == "postgres", name
        # the Celery result backend lives in the metadata DB, not in the warehouse
        assert backend.path == meta.path == "/airflow", name
        assert meta.password == backend.password == "SECRET-airflow_db_password", name
    # the broker: only the components that use it know where it is and hold its password
    for name, svc in services.items():
        env = _environment(svc)
        uses_broker = name in {"airflow-scheduler", "airflow-worker", "flower", "airflow-cli"}
        assert ("AIRFLOW__CELERY__BROKER_URL_CMD" in env) == uses_broker, name
        if uses_broker:
            broker = urlsplit(_cmd_template(env["AIRFLOW__CELERY__BROKER_URL_CMD"]))
            assert broker.scheme == "redis" and broker.hostname in services, f"{name}: broker {broker.geturl()}"
            assert broker.password == "SECRET-redis_password" and "redis_password" in _secrets(svc), name


def test_airflow_core_settings(services):
    env = _environment(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/airflow/dags"
    assert "AIRFLOW__CORE__PLUGINS_FOLDER" not in env, "msdw is installed in the image; it has no Airflow plugin"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"], "AIRFLOW__CORE__AUTH_MANAGER must be set explicitly"
    for key, secret in (("AIRFLOW__CORE__FERNET_KEY", "airflow_fernet_key"),
                        ("AIRFLOW__API_AUTH__JWT_SECRET", "airflow_jwt_secret"),
                        ("AIRFLOW__API__SECRET_KEY", "airflow_api_secret_key")):
        assert key not in env, f"{key} must be read from a secret file ({key}_CMD), not be an environment variable"
        assert _cmd_template(env[f"{key}_CMD"]) == f"SECRET-{secret}", key
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
    for key in ("MSDW_WAREHOUSE_DSN", "MSDW_WAREHOUSE_PASSWORD_FILE", "MSDW_PII_HMAC_KEY_FILE",
                "MSDW_ALERT_WEBHOOK_URL_FILE", "MSDW_ALERT_EMAIL", "MSDW_JURISDICTION", "MSDW_LANDING",
                "MSDW_REPORTS_DIR", "MSDW_MANIFEST_TIMEOUT_HOURS", "MSDW_MANIFEST_POKE_SECONDS",
                "MSDW_PUBLISH_DEADLINE_HOURS", "MSDW_START_DATE", "MSDW_END_DATE"):
        assert key in env, f"airflow-worker lacks {key}"
    dsn = urlsplit(_interpolate(env["MSDW_WAREHOUSE_DSN"], {}))
    assert dsn.scheme == "postgresql" and dsn.hostname == "postgres" and dsn.path == "/msdw"
    assert not dsn.password, "the DSN carries no password: MSDW_WAREHOUSE_PASSWORD_FILE does"
    assert env["MSDW_WAREHOUSE_PASSWORD_FILE"] == "/run/secrets/msdw_db_password"
    assert env["MSDW_PII_HMAC_KEY_FILE"] == "/run/secrets/pii_hmac_key"
    # landing (read-only: deliveries are never written), reports and state mounted where the platform looks
    mounts = {_volume(v)[1]: str(v) for v in services["airflow-worker"]["volumes"]}
    assert {env["MSDW_LANDING"], env["MSDW_REPORTS_DIR"], env["MSDW_HOME"], "/opt/airflow/logs"} <= set(mounts)
    assert mounts[env["MSDW_LANDING"]].endswith(":ro")
    # the code runs from the image: no checkout is mounted over it
    for name, svc in services.items():
        for target in (_volume(v)[1] for v in svc.get("volumes") or []):
            assert target not in {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/dbt_project",
                                  "/opt/airflow/expectations"}, f"{name} mounts code over the image at {target}"


def test_secrets_are_files_mounted_only_where_needed(compose, services):
    """Every secret is a compose secret file, never an environment variable; each service mounts its own set."""
    declared = compose.get("secrets") or {}
    for name, spec in declared.items():
        assert spec.get("file") == f"${{MSDW_SECRETS_DIR:-./secrets}}/{name}", name
    got = {name: _secrets(svc) for name, svc in services.items()}
    assert got == {n: SECRETS_OF[n] for n in got}, "secrets mounted per service differ from SECRETS_OF"
    assert set(declared) == set().union(*SECRETS_OF.values()), "declared secrets ≠ secrets used"
    made = set(re.findall(r"^put (\w+) ", (REPO / "docker" / "make-secrets.sh").read_text(), re.M))
    assert made == set(declared), "docker/make-secrets.sh makes other secrets than compose declares"
    for name, svc in services.items():
        env = _environment(svc)
        for key, value in env.items():
            assert not (SECRET_NAME.search(key) and not key.endswith(("_CMD", "_FILE", "_DIR"))), \
                f"{name}: {key} would put a secret into the environment; use {key}_CMD / {key}_FILE"
            for ref in re.findall(r"/run/secrets/(\w+)", value):
                assert ref in declared, f"{name}: {key} reads an undeclared secret {ref}"
        # service-specific settings read only secrets the service mounts
        for key in ("MSDW_WAREHOUSE_PASSWORD_FILE", "MSDW_PII_HMAC_KEY_FILE", "MSDW_ALERT_WEBHOOK_URL_FILE",
                    "AIRFLOW__CELERY__BROKER_URL_CMD", "_AIRFLOW_WWW_USER_PASSWORD_CMD", "POSTGRES_PASSWORD_FILE",
                    "AIRFLOW_DB_PASSWORD_FILE", "MSDW_DB_PASSWORD_FILE"):
            for ref in re.findall(r"/run/secrets/(\w+)", env.get(key, "")):
                assert ref in got[name], f"{name}: {key} reads {ref}, which it does not mount"
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "flower"):
        assert not {"msdw_db_password", "pii_hmac_key"} & got[name], f"{name} must not get warehouse secrets"


def test_init_migrates_creates_pool_and_bootstraps(services):
    init = services["airflow-init"]
    assert init.get("user") == services["airflow-worker"]["user"] == "${AIRFLOW_UID:-50000}:0", \
        "airflow-init runs as the services' user: it checks the directories, it does not chown them"
    script_path = init["command"][-1]
    assert script_path == "/opt/airflow/docker/airflow-init.sh"
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    for step in ("airflow db migrate", "airflow pools set", "msdw bootstrap"):
        assert re.search(rf"^\s*{re.escape(step)}\b", script, re.M), f"airflow-init.sh does not run `{step}`"
    code = "\n".join(ln for ln in script.splitlines() if not ln.lstrip().startswith("#"))
    code = re.sub(r'"[^"\n]*"', '""', code)  # the messages telling the operator what to run
    assert not re.search(r"(^|[;&|(]\s*)(sudo\s+)?chown\b", code, re.M), \
        "airflow-init must not chown (root-squashed NFS, the sources' files)"
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
    for key, secret in (("AIRFLOW_DB_PASSWORD", "airflow_db_password"), ("MSDW_DB_PASSWORD", "msdw_db_password"),
                        ("POSTGRES_PASSWORD", "postgres_password")):
        assert key not in env and env[f"{key}_FILE"] == f"/run/secrets/{secret}", f"postgres {key}: a secret file"


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


def test_the_image_is_built_once_and_run_by_every_airflow_service(compose, services):
    """`build:` is on one service (not in the shared anchor, which built the same image N times)."""
    assert "build" not in compose["x-airflow-common"]
    builders = [n for n, svc in services.items() if svc.get("build")]
    assert builders == ["airflow-init"], builders
    build = services["airflow-init"]["build"]
    assert build["context"] == "." and "AIRFLOW_BASE_DIGEST" in build["args"]
    image = services["airflow-init"]["image"]
    for name in AIRFLOW_SERVICES | {"airflow-log-groomer", "flower", "airflow-cli"}:
        assert services[name]["image"] == image, f"{name} runs another image than the one built"


def test_resource_limits_and_log_retention(compose, services):
    """Every long-running service is bounded; container logs rotate; task logs are groomed."""
    for name, svc in services.items():
        if name in ONE_SHOT:
            continue
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        assert limits.get("memory") and limits.get("cpus"), f"{name}: no cpu/memory limit"
        logging = svc.get("logging") or {}
        assert logging.get("driver") == "json-file" and logging["options"].get("max-size") \
            and logging["options"].get("max-file"), f"{name}: container logs are not rotated"
    groomer = services["airflow-log-groomer"]
    assert groomer["command"] == ["bash", "/clean-logs"], "the image's log groomer (as the official compose file)"
    assert groomer["environment"]["AIRFLOW__LOG_RETENTION_DAYS"] == "${MSDW_LOG_RETENTION_DAYS:-30}"
    assert groomer["environment"]["CONNECTION_CHECK_MAX_COUNT"] == "0"
    assert not _secrets(groomer)


def test_alerts_are_configured_through_smtp_settings_and_a_secret(services):
    """Airflow sends e-mail through [smtp] (host, port, TLS) — not through the smtp_default connection."""
    env = _environment(services["airflow-worker"])
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_SSL", "SMTP_MAIL_FROM"):
        assert re.fullmatch(rf"\$\{{{key}:-[^}}]*\}}", env[f"AIRFLOW__SMTP__{key}"]), f"AIRFLOW__SMTP__{key} from .env"
    # task callbacks run on workers, DAG callbacks in the DAG processor (Airflow 3): both can alert
    for name in ("airflow-worker", "airflow-dag-processor"):
        e = _environment(services[name])
        assert e["MSDW_ALERT_WEBHOOK_URL_FILE"] == "/run/secrets/alert_webhook_url" and "MSDW_ALERT_EMAIL" in e, name


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
    for must_ignore in (".env", ".venv", ".msdw", ".git", "landing", "reports", "logs", "secrets",
                        "dbt_project/target"):
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


def test_no_secret_is_interpolated_from_env():
    """Secrets are files (compose `secrets:`), never ``${VAR}`` from .env: .env holds settings only."""
    text = _compose_code()
    leaked = {m["name"] for m in COMPOSE_VAR.finditer(text)
              if SECRET_NAME.search(m["name"]) and not m["name"].endswith("_DIR")}
    assert not leaked, f"secrets interpolated from .env: {sorted(leaked)}"
    # the one required setting without a safe default stops `docker compose` with a message
    assert "${AIRFLOW_BASE_DIGEST:?" in text


def test_env_example_holds_placeholders_only(env_example):
    for key, value in env_example.items():
        if SECRET_NAME.search(key) and not key.endswith("_DIR"):
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
    m = re.fullmatch(r"apache/airflow:(?P<airflow>[\d.]+)-python(?P<python>\d+\.\d+)@\$\{AIRFLOW_BASE_DIGEST\}",
                     froms[0])
    assert m, f"FROM must pin apache/airflow:<version>-python<x.y>@<digest>, got {froms[0]!r}"
    args = [a for ln, instr, a in _dockerfile_instructions() if instr == "ARG"]
    assert "AIRFLOW_BASE_DIGEST" in args, "the digest is a build argument without a default (no invented digest)"
    assert m["airflow"] == "3.3.2" == pins["apache-airflow"] == pins["apache-airflow-core"]
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert "apache-airflow==3.3.2" in project["dependencies"]
    assert f">={m['python']}" in project["requires-python"], "image Python differs from pyproject's"

    runs = " ".join(args for _, instr, args in _dockerfile_instructions() if instr == "RUN")
    assert re.search(r"pip install [^&]*\"apache-airflow==\$\{AIRFLOW_VERSION\}\" -r \S*requirements\.lock", runs), \
        "install the lock pinned to the image's Airflow (official extending-the-image guidance)"
    assert re.search(r"pip install [^&]*--no-deps /tmp/msdw-src", runs), \
        "install the project itself, not editable, with --no-deps"
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
