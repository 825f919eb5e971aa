"""Secrets as files: the platform's settings read ``<NAME>_FILE`` (compose secrets) as well as ``<NAME>``."""

from __future__ import annotations

import psycopg
import pytest

from msdw import config
from msdw.errors import ConfigurationError


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("MSDW_WAREHOUSE_DSN", "MSDW_WAREHOUSE_PASSWORD", "MSDW_PII_HMAC_KEY", "MSDW_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    return monkeypatch


def test_a_secret_from_its_file_without_the_trailing_newline(clean_env, tmp_path):
    f = tmp_path / "pii_hmac_key"
    f.write_text("k" * 64 + "\n", encoding="utf-8")
    clean_env.setenv("MSDW_PII_HMAC_KEY_FILE", str(f))
    assert config.pii_hmac_key() == b"k" * 64
    clean_env.setenv("MSDW_PII_HMAC_KEY", "from-the-variable")  # the variable itself wins
    assert config.pii_hmac_key() == b"from-the-variable"


def test_an_empty_file_is_unset_and_an_unreadable_one_an_error(clean_env, tmp_path):
    hook = tmp_path / "alert_webhook_url"
    hook.write_text("", encoding="utf-8")
    clean_env.setenv("MSDW_ALERT_WEBHOOK_URL_FILE", str(hook))
    assert config.settings().alert_webhook_url is None  # compose mounts an empty file: no webhook
    hook.write_text("https://robot.example/send?key=abc\n", encoding="utf-8")
    assert config.settings().alert_webhook_url == "https://robot.example/send?key=abc"
    clean_env.setenv("MSDW_ALERT_WEBHOOK_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match=r"MSDW_ALERT_WEBHOOK_URL_FILE=.*missing: cannot read the secret"):
        config.settings()


def test_the_warehouse_password_file_completes_a_dsn_without_one(clean_env, tmp_path):
    pw = tmp_path / "msdw_db_password"
    pw.write_text("s3cr3t with space\n", encoding="utf-8")
    clean_env.setenv("MSDW_WAREHOUSE_DSN", "postgresql://msdw@postgres:5432/msdw")
    clean_env.setenv("MSDW_WAREHOUSE_PASSWORD_FILE", str(pw))
    info = psycopg.conninfo.conninfo_to_dict(config.settings().warehouse_dsn)
    assert info == {"user": "msdw", "host": "postgres", "port": "5432", "dbname": "msdw",
                    "password": "s3cr3t with space"}
    # a DSN that carries its own password keeps it
    clean_env.setenv("MSDW_WAREHOUSE_DSN", "postgresql://msdw:example@postgres:5432/msdw")
    assert config.settings().warehouse_dsn == "postgresql://msdw:example@postgres:5432/msdw"
    clean_env.delenv("MSDW_WAREHOUSE_DSN")
    assert config.settings().warehouse_dsn is None  # a password alone does not make a warehouse


def test_secret_url_builds_airflow_urls_from_secret_files(tmp_path):
    """docker/secret-url, the command of the compose file's AIRFLOW__*_CMD options."""
    import subprocess
    import sys
    from pathlib import Path
    from urllib.parse import quote

    helper = Path(__file__).resolve().parents[2] / "docker" / "secret-url"
    pw = tmp_path / "airflow_db_password"
    raw = "p@ss/w:rd%"  # every character a URL would misread
    pw.write_text(raw + "\n", encoding="utf-8")

    def run(template: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(helper), template], capture_output=True, text=True)

    url = run(f"postgresql+psycopg2://airflow:{{{pw}}}@postgres:5432/airflow")
    encoded = quote(raw, safe="")
    assert encoded == "p%40ss%2Fw%3Ard%25"
    assert url.returncode == 0 and url.stdout == f"postgresql+psycopg2://airflow:{encoded}@postgres:5432/airflow"
    assert run(f"{{{pw}}}").stdout == raw  # a secret alone is printed as is (a Fernet key's '=')
    missing = run(f"redis://:{{{tmp_path / 'nope'}}}@redis:6379/0")
    assert missing.returncode == 1 and missing.stderr.strip() == f"secret-url: cannot read the secret {tmp_path / 'nope'}: No such file or directory"
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    assert "is empty" in run(f"x{{{tmp_path / 'empty'}}}").stderr
