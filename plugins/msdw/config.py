"""Every setting of the platform, read from the environment in one place.

The same variables drive the CLI, the Airflow DAGs, dbt (profiles.yml reads
``MSDW_PG*`` through ``env_var``) and the tests, so the embedded demo and a
production deployment differ only in environment, never in code.

| variable | meaning | default |
|---|---|---|
| MSDW_HOME | local state: embedded PostgreSQL, Airflow home, landing, reports | ``<repo>/.msdw`` |
| MSDW_PROJECT_DIR | where ``dags/``, ``dbt_project/``, ``expectations/`` are (the image: ``/opt/airflow``) | the checkout the package lives in |
| MSDW_WAREHOUSE_DSN | libpq DSN/URI of the warehouse (admin rights for bootstrap) | unset: embedded pgserver |
| MSDW_WAREHOUSE_PASSWORD_FILE | file holding the password of the DSN's user (a compose secret), used when the DSN has none | unset |
| MSDW_LANDING | landing zone root (path, ``file://`` or ``s3://`` URI) | ``$MSDW_HOME/landing`` |
| MSDW_REPORTS_DIR | where quality and work reports are written | ``$MSDW_HOME/reports`` |
| MSDW_PII_HMAC_KEY | secret for keyed pseudonyms of personal data | embedded demo: generated once into ``$MSDW_HOME/secrets`` |
| MSDW_ALERT_WEBHOOK_URL | webhook for alerts (optional) | unset: alerts go to the log |
| MSDW_ALERT_EMAIL | e-mail recipient for alerts (optional; uses Airflow's SMTP connection) | unset |
| MSDW_START_DATE / MSDW_END_DATE | first (go-live) / optional last business date the ingest DAGs schedule | ``2024-01-01`` / none |
| MSDW_JURISDICTION | the jurisdiction's own GB/T 2260 code (total rows of the marts) | ``330106`` (西湖区, the district sample data) |

Secrets (``MSDW_WAREHOUSE_DSN``, ``MSDW_PII_HMAC_KEY``, ``MSDW_ALERT_WEBHOOK_URL``, whose
robot URLs carry a key) may instead be given as a file named by the same
variable with ``_FILE`` appended (``MSDW_PII_HMAC_KEY_FILE=/run/secrets/pii_hmac_key``),
the convention of the official PostgreSQL image: docker-compose.yml mounts them as
compose secrets, so they are never in a container's environment.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# The package installed from a checkout (editable) finds dags/, dbt_project/ and
# expectations/ two levels up; the production image installs it into site-packages
# and says where they are with MSDW_PROJECT_DIR (Dockerfile).
REPO_ROOT = Path(os.environ.get("MSDW_PROJECT_DIR") or Path(__file__).resolve().parents[2])
PACKAGE_DIR = Path(__file__).resolve().parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DAGS_DIR = REPO_ROOT / "dags"
PLUGINS_DIR = REPO_ROOT / "plugins"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_dsn: str | None
    landing: str
    reports_dir: Path
    alert_webhook_url: str | None
    alert_email: str | None
    jurisdiction: str

    @property
    def embedded(self) -> bool:
        """True when no warehouse DSN is configured and pgserver runs the warehouse."""
        return not self.warehouse_dsn

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"


def secret(name: str) -> str | None:
    """The value of the environment variable ``name``, else the content of the file named by ``name_FILE``.

    Trailing whitespace (the newline an editor adds) is dropped; an empty
    value or file means "not set". A ``_FILE`` that cannot be read is a
    configuration error naming the variable and the file, never a silent None.
    """
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").rstrip() or None
    except OSError as exc:
        from msdw.errors import ConfigurationError

        raise ConfigurationError(f"{name}_FILE={path}: cannot read the secret ({exc.strerror})") from None


def _warehouse_dsn() -> str | None:
    dsn = secret("MSDW_WAREHOUSE_DSN")
    password = secret("MSDW_WAREHOUSE_PASSWORD")
    if not dsn or not password:
        return dsn
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(dsn)
    if info.get("password"):
        return dsn
    return psycopg.conninfo.make_conninfo(dsn, password=password)


def settings() -> Settings:
    """Current settings (re-read each call so tests and the CLI can change the environment)."""
    home = _env_path("MSDW_HOME", REPO_ROOT / ".msdw")
    return Settings(
        home=home,
        warehouse_dsn=_warehouse_dsn(),
        landing=os.environ.get("MSDW_LANDING") or str(home / "landing"),
        reports_dir=_env_path("MSDW_REPORTS_DIR", home / "reports"),
        alert_webhook_url=secret("MSDW_ALERT_WEBHOOK_URL"),
        alert_email=os.environ.get("MSDW_ALERT_EMAIL") or None,
        jurisdiction=os.environ.get("MSDW_JURISDICTION", "330106"),
    )


def pii_hmac_key() -> bytes:
    """The secret behind keyed pseudonyms (HMAC-SHA256) of personal data.

    Production sets ``MSDW_PII_HMAC_KEY`` or, in compose, ``MSDW_PII_HMAC_KEY_FILE``
    (a compose secret). The embedded demo generates a random key once and keeps it in
    ``$MSDW_HOME/secrets/pii_hmac_key`` (mode 0600), never in the repository.
    """
    value = secret("MSDW_PII_HMAC_KEY")
    if value:
        return value.encode("utf-8")
    s = settings()
    if not s.embedded:
        raise RuntimeError("MSDW_PII_HMAC_KEY must be set (or MSDW_PII_HMAC_KEY_FILE) when MSDW_WAREHOUSE_DSN "
                           "points at a real warehouse")
    return _local_secret(s.secrets_dir / "pii_hmac_key")


@cache
def _local_secret(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")
