"""Alerts: one function, ``notify``, with pluggable channels.

Every alert is logged (the task log is the record of last resort). When
``MSDW_ALERT_WEBHOOK_URL`` is set the alert is also POSTed as JSON (a chat
robot, an incident tool); when ``MSDW_ALERT_EMAIL`` is set it is e-mailed
through Airflow's SMTP settings. Delivery is best effort and never raises:
an alerting problem must not mask or replace the failure it reports. No
credential lives here: the webhook URL and SMTP settings come from the
environment / Airflow configuration.
"""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from msdw.config import settings

log = logging.getLogger("msdw.alerts")

WEBHOOK_TIMEOUT_S = 5.0


def _payload(event: str, message: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": "msdw",
        "event": event,
        "message": message,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "context": {k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in context.items()},
    }


def _post_webhook(url: str, payload: dict[str, Any]) -> bool:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=WEBHOOK_TIMEOUT_S) as resp:  # noqa: S310 - operator-configured URL
            ok = 200 <= resp.status < 300
            if not ok:
                log.warning("alert webhook answered HTTP %s", resp.status)
            return ok
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("alert webhook failed: %s", exc)
        return False


def _send_email(to: str, event: str, message: str) -> bool:
    try:
        from airflow.utils.email import send_email  # Airflow's [smtp] / smtp_default connection
    except Exception as exc:  # noqa: BLE001 - Airflow missing or misconfigured: log only
        log.warning("alert e-mail unavailable: %s", exc)
        return False
    try:
        send_email(to=[a.strip() for a in to.split(",") if a.strip()], subject=f"[msdw] {event}",
                   html_content=f"<pre>{_escape(message)}</pre>")
        return True
    except Exception as exc:  # noqa: BLE001 - best effort
        log.warning("alert e-mail to %s failed: %s", to, exc)
        return False


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify(event: str, message: str, **context: Any) -> dict[str, bool]:
    """Raise an alert on every configured channel; returns which channels accepted it. Never raises."""
    sent = {"log": True, "webhook": False, "email": False}
    try:
        log.error("ALERT %s: %s %s", event, message, {k: v for k, v in context.items() if v is not None})
        s = settings()
        if s.alert_webhook_url:
            sent["webhook"] = _post_webhook(s.alert_webhook_url, _payload(event, message, context))
        if s.alert_email:
            sent["email"] = _send_email(s.alert_email, event, message)
    except Exception:  # noqa: BLE001 - never let alerting raise
        log.exception("notifier failed for %s", event)
    return sent
