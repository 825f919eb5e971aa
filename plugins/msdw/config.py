"""Every setting of the platform, read from the environment in one place.

The same variables drive the CLI, the Airflow DAGs, dbt (profiles.yml reads
``MSDW_PG*`` through ``env_var``) and the tests, so the embedded demo and a
production deployment differ only in environment, never in code.

| variable | meaning | default |
|---|---|---|
| MSDW_HOME | local state: embedded PostgreSQL, Airflow home, landing, reports | ``<repo>/.msdw`` |
| MSDW_WAREHOUSE_DSN | libpq DSN/URI of the warehouse (admin rights for bootstrap) | unset: embedded pgserver |
| MSDW_LANDING | landing zone root (path, ``file://`` or ``s3://`` URI) | ``$MSDW_HOME/landing`` |
| MSDW_REPORTS_DIR | where quality and work reports are written | ``$MSDW_HOME/reports`` |
| MSDW_PII_HMAC_KEY | secret for keyed pseudonyms of personal data | embedded demo: generated once into ``$MSDW_HOME/secrets`` |
| MSDW_ALERT_WEBHOOK_URL | webhook for alerts (optional) | unset: alerts go to the log |
| MSDW_ALERT_EMAIL | e-mail recipient for alerts (optional; uses Airflow's SMTP connection) | unset |
| MSDW_START_DATE / MSDW_END_DATE | first (go-live) / optional last business date the ingest DAGs schedule | ``2024-01-01`` / none |
| MSDW_JURISDICTION | the jurisdiction's own GB/T 2260 code (total rows of the marts) | ``330106`` (西湖区, the district sample data) |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
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


def settings() -> Settings:
    """Current settings (re-read each call so tests and the CLI can change the environment)."""
    home = _env_path("MSDW_HOME", REPO_ROOT / ".msdw")
    return Settings(
        home=home,
        warehouse_dsn=os.environ.get("MSDW_WAREHOUSE_DSN") or None,
        landing=os.environ.get("MSDW_LANDING") or str(home / "landing"),
        reports_dir=_env_path("MSDW_REPORTS_DIR", home / "reports"),
        alert_webhook_url=os.environ.get("MSDW_ALERT_WEBHOOK_URL") or None,
        alert_email=os.environ.get("MSDW_ALERT_EMAIL") or None,
        jurisdiction=os.environ.get("MSDW_JURISDICTION", "330106"),
    )


def pii_hmac_key() -> bytes:
    """The secret behind keyed pseudonyms (HMAC-SHA256) of personal data.

    Production sets ``MSDW_PII_HMAC_KEY`` (from a secret store / ``.env``). The
    embedded demo generates a random key once and keeps it in
    ``$MSDW_HOME/secrets/pii_hmac_key`` (mode 0600), never in the repository.
    """
    value = os.environ.get("MSDW_PII_HMAC_KEY")
    if value:
        return value.encode("utf-8")
    s = settings()
    if not s.embedded:
        raise RuntimeError("MSDW_PII_HMAC_KEY must be set when MSDW_WAREHOUSE_DSN points at a real warehouse")
    return _local_secret(s.secrets_dir / "pii_hmac_key")


@cache
def _local_secret(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")
