"""The compose postgres init script, run for real against PostgreSQL 16.

``docker/postgres-init/10-create-databases.sh`` is what the postgres
container runs on its first start. Here it runs with the same ``psql`` against
a private embedded PostgreSQL 16 (the compose image's major version; roles
are cluster-wide, so a private cluster keeps the test independent of roles
other tests created), and the warehouse owner it creates — a non-superuser —
must be able to run ``msdw bootstrap`` and ``SET ROLE`` to every group role,
exactly what ``airflow-init`` and the DAG tasks do in the deployment — and
each job role that creates temporary tables (the loader, dbt) must be able to,
in a database whose privileges the script revoked from PUBLIC.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "docker" / "postgres-init" / "10-create-databases.sh"

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def pg16():
    pgserver = pytest.importorskip("pgserver")
    datadir = Path("/tmp") / f"msdw-compose-pg-{os.getpid()}"
    srv = pgserver.get_server(datadir, cleanup_mode="delete")
    try:
        yield srv
    finally:
        srv.cleanup()


def _run_init(srv, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    info = psycopg.conninfo.conninfo_to_dict(srv.get_uri())
    import pgserver

    # the psql that ships with the server, as in the postgres container
    bindir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    path = os.pathsep.join(p for p in (str(bindir), os.environ.get("PATH", "")) if p)
    env = {
        "PATH": path,
        "PGHOST": info.get("host") or "",
        "PGPORT": str(info.get("port") or 5432),
        "POSTGRES_USER": info.get("user") or "postgres",
        **env_extra,
    }
    assert shutil.which("psql", path=path), "psql not found"
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def _dsn(srv, user: str, db: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(srv.get_uri())
    info.update(user=user, dbname=db)
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**info)


ENV = {
    "AIRFLOW_DB_USER": "airflow",
    "AIRFLOW_DB_PASSWORD": "placeholder-airflow",
    "AIRFLOW_DB_NAME": "airflow",
    "MSDW_DB_USER": "msdw",
    "MSDW_DB_PASSWORD": "placeholder-msdw",
    "MSDW_DB_NAME": "msdw",
}


def test_init_creates_two_databases_and_owner_can_bootstrap(pg16, monkeypatch):
    res = _run_init(pg16, ENV)
    assert res.returncode == 0, res.stderr
    # idempotent: the second run (a restarted container, an operator re-run) changes nothing and succeeds
    res2 = _run_init(pg16, ENV)
    assert res2.returncode == 0, res2.stderr

    admin = pg16.get_uri()
    with psycopg.connect(admin) as conn:
        owners = dict(conn.execute(
            "select datname, pg_get_userbyid(datdba) from pg_database where datname in ('airflow', 'msdw')"
        ).fetchall())
        assert owners == {"airflow": "airflow", "msdw": "msdw"}
        supers = dict(conn.execute(
            "select rolname, rolsuper from pg_roles where rolname in ('airflow', 'msdw')").fetchall())
        assert supers == {"airflow": False, "msdw": False}
        collations = dict(conn.execute(
            "select datname, datcollate from pg_database where datname in ('airflow', 'msdw')").fetchall())
        assert collations["msdw"] == "C"  # the warehouse sorts by byte order (docs/performance.md)

    # the metadata DB and the warehouse are isolated from each other's owners
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(_dsn(pg16, "airflow", "msdw")).close()
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(_dsn(pg16, "msdw", "airflow")).close()
    with psycopg.connect(_dsn(pg16, "airflow", "airflow")) as conn:
        conn.execute("create table alembic_probe (id int)")  # airflow db migrate creates tables in public

    # what airflow-init does next: `msdw bootstrap` as the (non-superuser) warehouse owner
    warehouse = _dsn(pg16, "msdw", "msdw")
    monkeypatch.setenv("MSDW_WAREHOUSE_DSN", warehouse)
    monkeypatch.setenv("MSDW_PII_HMAC_KEY", "test-key-not-a-secret")
    from msdw import warehouse as wh
    from msdw.bootstrap import bootstrap

    bootstrap(warehouse)
    bootstrap(warehouse)  # idempotent as the owner too
    with psycopg.connect(warehouse) as conn:
        for role in (wh.ROLE_LOADER, wh.ROLE_TRANSFORMER, wh.ROLE_BI, wh.ROLE_AUDITOR, wh.ROLE_PII):
            conn.execute(psycopg.sql.SQL("set role {}").format(psycopg.sql.Identifier(role)))
            conn.execute("reset role")
        n_raw = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw'").fetchone()[0]
        assert n_raw > 0
        # the probe: a temp table as each job role that needs one (a load COPYs into one, dbt builds
        # incremental models through __dbt_tmp relations); PUBLIC has no TEMPORARY here
        for role in wh.TEMP_TABLE_ROLES:
            conn.execute(psycopg.sql.SQL("set role {}").format(psycopg.sql.Identifier(role)))
            conn.execute("create temp table probe (x int) on commit drop")
            conn.rollback()
        temp_holders = {r for (r,) in conn.execute(
            "select coalesce(grantee::regrole::text, 'public') from pg_database, aclexplode(datacl) a"
            " where datname = 'msdw' and privilege_type = 'TEMPORARY'")}
        assert temp_holders == {"msdw", *wh.TEMP_TABLE_ROLES}  # the owner and exactly the two job roles
        # only what is needed: BI and auditors read, they do not get TEMPORARY
        conn.execute(psycopg.sql.SQL("set role {}").format(psycopg.sql.Identifier(wh.ROLE_BI)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="temporary"):
            conn.execute("create temp table probe (x int)")
        conn.rollback()


def test_bootstrap_names_the_missing_temporary_grant(pg16, monkeypatch):
    """Without TEMPORARY (what the issue's every load failed on), bootstrap's probe stops with the grant to run."""
    assert _run_init(pg16, ENV).returncode == 0
    from msdw import warehouse as wh
    from msdw.bootstrap import bootstrap, check_job_roles
    from msdw.errors import ConfigurationError

    warehouse = _dsn(pg16, "msdw", "msdw")
    bootstrap(warehouse)
    with psycopg.connect(warehouse) as conn:
        conn.execute("revoke temporary on database msdw from msdw_loader")
        conn.commit()
        with pytest.raises(ConfigurationError) as err:
            check_job_roles(conn)
    msg = str(err.value)
    assert "\n" not in msg and "msdw_loader cannot create temporary tables in database msdw" in msg
    assert "grant temporary on database msdw to msdw_loader" in msg
    bootstrap(warehouse)  # re-grants: the probe passes again
    with psycopg.connect(warehouse) as conn:
        check_job_roles(conn)
        assert wh.ROLE_LOADER in wh.TEMP_TABLE_ROLES


def test_bootstrap_on_a_server_whose_roles_exist_names_the_grant(pg16):
    """A managed server: the msdw_* roles exist (a DBA or another database made them), the owner is no member.

    init and bootstrap used to say "done" and every job then failed at `SET ROLE`; now bootstrap
    stops with one line naming the grant, and passes once an administrator ran it.
    """
    assert _run_init(pg16, ENV).returncode == 0
    from msdw.bootstrap import bootstrap
    from msdw.errors import ConfigurationError

    bootstrap(_dsn(pg16, "msdw", "msdw"))  # the roles exist in the cluster from here on
    env2 = {**ENV, "MSDW_DB_USER": "msdw2", "MSDW_DB_NAME": "msdw2", "AIRFLOW_DB_USER": "airflow2",
            "AIRFLOW_DB_NAME": "airflow2"}
    res = _run_init(pg16, env2)
    assert res.returncode == 0, res.stderr
    second = _dsn(pg16, "msdw2", "msdw2")
    with pytest.raises(ConfigurationError) as err:
        bootstrap(second)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("bootstrap: user msdw2 cannot SET ROLE msdw_loader, msdw_transformer, msdw_bi, msdw_auditor")
    assert msg.endswith("as an administrator run: grant msdw_loader, msdw_transformer, msdw_bi, msdw_auditor to msdw2")
    with psycopg.connect(pg16.get_uri(), autocommit=True) as admin:
        admin.execute(msg.rsplit("run: ", 1)[1])  # exactly the statement the message names
    bootstrap(second)


def test_init_reads_passwords_from_secret_files(pg16, tmp_path):
    """As compose passes them: AIRFLOW_DB_PASSWORD_FILE / MSDW_DB_PASSWORD_FILE (compose secrets)."""
    env = {k: v for k, v in ENV.items() if not k.endswith("PASSWORD")}
    env.update(AIRFLOW_DB_USER="airflow3", AIRFLOW_DB_NAME="airflow3", MSDW_DB_USER="msdw3", MSDW_DB_NAME="msdw3")
    for key in ("AIRFLOW_DB_PASSWORD", "MSDW_DB_PASSWORD"):
        f = tmp_path / key.lower()
        f.write_text(f"from-file-{key.lower()}\n", encoding="utf-8")
        env[f"{key}_FILE"] = str(f)
    res = _run_init(pg16, env)
    assert res.returncode == 0, res.stderr
    with psycopg.connect(pg16.get_uri()) as conn:
        # the file's content, without its trailing newline, is the password (scram verifier stored)
        verifier = conn.execute("select rolpassword from pg_authid where rolname = 'msdw3'").fetchone()[0]
    assert verifier.startswith("SCRAM-SHA-256$")
    both = _run_init(pg16, {**env, "MSDW_DB_PASSWORD": "x"})
    assert both.returncode != 0 and "both MSDW_DB_PASSWORD and MSDW_DB_PASSWORD_FILE are set" in both.stderr


def test_init_refuses_missing_password(pg16):
    env = {k: v for k, v in ENV.items() if k != "MSDW_DB_PASSWORD"}
    res = _run_init(pg16, env)
    assert res.returncode != 0
    assert "MSDW_DB_PASSWORD (or MSDW_DB_PASSWORD_FILE) must be set" in res.stderr


@pytest.mark.slow
def test_airflow_init_runs_against_the_databases_it_gets(pg16, tmp_path):
    """docker/airflow-init.sh as in the container, minus Docker: both owners are non-superusers.

    The metadata DB is migrated by its owner, the pool is created, the UI
    password file is written from the environment (mode 0600), and
    ``msdw bootstrap`` runs as the warehouse owner.
    """
    import secrets

    assert _run_init(pg16, ENV).returncode == 0
    host = psycopg.conninfo.conninfo_to_dict(pg16.get_uri()).get("host")
    venv_bin = Path(sys.executable).parent
    pw_file = tmp_path / "auth" / "passwords.json"
    env = {
        "PATH": os.pathsep.join([str(venv_bin), "/usr/bin", "/bin"]),
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW_UID": str(os.getuid()),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow@/airflow?host={host}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://airflow@/airflow?host={host}",
        "AIRFLOW__CELERY__BROKER_URL": "redis://:unused@127.0.0.1:1/0",
        "AIRFLOW__CORE__FERNET_KEY": __import__("base64").urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "MSDW_HOME": str(tmp_path / "msdw"),
        "MSDW_LANDING": str(tmp_path / "landing"),
        "MSDW_REPORTS_DIR": str(tmp_path / "reports"),
        "MSDW_WAREHOUSE_DSN": f"postgresql://msdw@/msdw?host={host}",
        "MSDW_PII_HMAC_KEY": secrets.token_hex(32),
        "MSDW_WAREHOUSE_POOL_SLOTS": "3",
        "_AIRFLOW_WWW_USER_USERNAME": "admin",
        "_AIRFLOW_WWW_USER_PASSWORD": "placeholder-ui-password",
    }
    for d in ("landing", "reports", "msdw", "auth"):  # compose's bind mounts: the host directories exist
        (tmp_path / d).mkdir()
    (tmp_path / "airflow" / "logs").mkdir(parents=True)
    res = subprocess.run(["bash", str(REPO / "docker" / "airflow-init.sh")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "airflow-init: done" in res.stdout

    with psycopg.connect(_dsn(pg16, "airflow", "airflow")) as conn:
        assert conn.execute("select slots from slot_pool where pool = 'warehouse'").fetchone() == (3,)
        assert conn.execute("select count(*) from alembic_version").fetchone() == (1,)
    assert json.loads(pw_file.read_text()) == {"admin": "placeholder-ui-password"}
    assert pw_file.stat().st_mode & 0o777 == 0o600
    with psycopg.connect(_dsn(pg16, "msdw", "msdw")) as conn:
        assert conn.execute("select to_regclass('audit.load_files')").fetchone()[0] is not None
    for d in ("landing", "reports", "msdw"):
        assert (tmp_path / d).is_dir()


def test_airflow_init_checks_directories_and_says_what_to_fix():
    """airflow-init never chowns: a directory the services cannot write (or read, the landing zone)
    stops it with the path, its owner and the command to run on the host — before anything else."""
    import tempfile

    root = os.geteuid() == 0
    tmp_path = Path(tempfile.mkdtemp(prefix="msdw-init-"))  # under /tmp: traversable by the other user
    dirs = {d: tmp_path / d for d in ("logs", "msdw", "reports", "landing", "auth")}
    for d in dirs.values():
        d.mkdir()
    tmp_path.chmod(0o755)
    if root:  # run as nobody: the directories stay root's (mode 0755: not writable by others)
        dirs["landing"].chmod(0o700)
        user = 65534
    else:  # not root: make them unwritable for ourselves
        for name in ("logs", "reports"):
            dirs[name].chmod(0o555)
        dirs["landing"].chmod(0o000)
        user = None
    env = {"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path), "MSDW_HOME": str(dirs["msdw"]),
           "MSDW_REPORTS_DIR": str(dirs["reports"]), "MSDW_LANDING": str(dirs["landing"]),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(dirs["auth"] / "passwords.json")}
    script = tmp_path / "airflow-init.sh"
    script.write_text((REPO / "docker" / "airflow-init.sh").read_text(encoding="utf-8"), encoding="utf-8")
    script.chmod(0o755)
    try:
        res = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60, user=user)
    finally:
        for d in dirs.values():
            d.chmod(0o755)
        leftovers = list(tmp_path.rglob(".airflow-init-write-probe*"))
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert res.returncode == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("airflow-init: ERROR:")]
    uid = 65534 if root else os.geteuid()
    assert any(f"{dirs['logs']} (owner " in e and f"not writable by uid {uid}" in e and f"chown -R {uid}:0" in e
               for e in errors), res.stderr
    assert any(f"{dirs['reports']} (owner " in e for e in errors), res.stderr
    assert any(f"{dirs['landing']} (owner " in e and "not readable" in e and "keep their owner" in e
               for e in errors), res.stderr
    assert "migrating" not in res.stdout  # nothing else ran
    assert not leftovers  # the write probes of the directories that passed are gone
