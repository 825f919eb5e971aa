"""Failure callbacks: every failed task and every late delivery raises an alert.

Alerts go through ``msdw.notify`` (always the log; a webhook and/or e-mail
when configured). Callbacks never raise: an alerting problem must not mask
the task's own failure.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _notify(event: str, message: str, **ctx) -> None:
    try:
        from msdw.notify import notify
    except ImportError:  # pragma: no cover - notifier always shipped
        log.error("ALERT %s: %s %s", event, message, ctx)
        return
    try:
        notify(event, message, **ctx)
    except Exception:  # noqa: BLE001
        log.exception("notifier failed for %s", event)


def _where(context) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    return {
        "dag_id": getattr(context.get("dag"), "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
    }


def on_failure(context) -> None:
    exc = context.get("exception")
    where = _where(context)
    _notify("task_failed", f"{where['dag_id']}.{where['task_id']} failed: {exc}", **where)


def on_sla_miss_like(context) -> None:
    """The manifest sensor timed out: the day's delivery is late (nothing is loaded or published for it)."""
    where = _where(context)
    _notify("delivery_late", f"{where['dag_id']}: manifest.json not delivered in time ({context.get('exception')})",
            **where)



def on_publication_late_or_failed(context) -> None:
    """DAG-level: the marts run failed or exceeded MSDW_PUBLISH_DEADLINE_HOURS; BI keeps the previous publication."""
    dag_run = context.get("dag_run")
    _notify("publication_late_or_failed",
            f"refresh_monthly_marts run {getattr(dag_run, 'run_id', '')} did not publish: {context.get('reason') or 'failed'}"
            "; BI keeps reading the previous publication", run_id=getattr(dag_run, "run_id", None))
