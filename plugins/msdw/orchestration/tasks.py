"""What each Airflow task does: thin calls into the platform's modules.

The DAG factory wraps these; they import their heavy dependencies (psycopg,
dbt, Great Expectations) only when a task runs, never at DAG parse time.
Errors the platform marks as permanent (a contract violation, a refused
delivery, a failed quality gate) become ``AirflowFailException`` so Airflow
does not retry what a retry cannot fix; everything else is retried with
exponential backoff.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)


def permanent_errors_fail_fast(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - re-raised, classified
            if _is_permanent(exc):
                raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
            raise

    return wrapper


def _is_permanent(exc: BaseException) -> bool:
    try:
        from msdw.errors import PermanentError
    except ImportError:  # pragma: no cover - errors module always present in a full install
        return False
    try:
        from msdw.quality import GateFailed
    except ImportError:  # pragma: no cover
        GateFailed = ()  # type: ignore[assignment]
    if isinstance(exc, (PermanentError, GateFailed)):
        return True
    # a dbt data test that fails is a data problem: re-running the same build cannot fix it
    failures = getattr(exc, "failures", None)
    return bool(failures) and any(status == "fail" for _, status, _ in failures)


def business_dates(params: dict[str, Any], data_interval_start: datetime | None) -> list[date]:
    """The business dates a run covers.

    A scheduled run covers the day of its data interval (the run for
    2024-05-08 starts after that day ends). A run triggered with params
    ``from_date``/``to_date`` (``msdw run``, a manual catch-up) covers that
    inclusive range, day by day in order.
    """
    start, end = params.get("from_date"), params.get("to_date")
    if start:
        d0 = date.fromisoformat(str(start))
        d1 = date.fromisoformat(str(end or start))
        if d1 < d0:
            raise ValueError(f"to_date {d1} is before from_date {d0}")
        return [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]
    if data_interval_start is None:
        raise ValueError("no business date: the run has no data interval and no from_date param")
    return [data_interval_start.astimezone(_SHANGHAI).date()]


try:
    from zoneinfo import ZoneInfo

    _SHANGHAI = ZoneInfo("Asia/Shanghai")
except Exception:  # pragma: no cover
    _SHANGHAI = None  # type: ignore[assignment]


def landing_of(params: dict[str, Any]) -> str:
    from msdw.config import settings

    return str(params.get("landing") or settings().landing)


def run_label(context: dict[str, Any]) -> str:
    """The pipeline run id stamped on published data: ``<dag_id>/<run_id>``."""
    return f"{context['dag'].dag_id}/{context['run_id']}"


# --- ingestion -----------------------------------------------------------------


def manifests_missing(source: str, dates: list[date], landing: str) -> list[date]:
    from msdw.ingest import manifest_ready

    return [d for d in dates if not manifest_ready(landing, source, d)]


@permanent_errors_fail_fast
def verify(source: str, dates: list[date], landing: str, dag_id: str | None = None,
           run_id: str | None = None) -> dict[str, Any]:
    from msdw.ingest import verify_delivery

    checked = {}
    for d in dates:
        m = verify_delivery(landing, source, d, airflow_dag_id=dag_id, airflow_run_id=run_id)
        checked[d.isoformat()] = len(getattr(m, "files", []) or [])
    return checked


@permanent_errors_fail_fast
def load(source: str, feed: str, dates: list[date], landing: str, dag_id: str, run_id: str) -> dict[str, Any]:
    """Load one feed for each business date, in order; return totals and the days it was delivered."""
    from msdw.ingest import load_feed

    totals: dict[str, Any] = {"files": 0, "rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0, "noop": 0,
                              "delivered": []}
    for d in dates:
        res = load_feed(landing, source, feed, d, airflow_dag_id=dag_id, airflow_run_id=run_id)
        if res is None:  # feed omitted from that day's manifest: zero rows
            continue
        totals["files"] += 1
        totals["rows_in"] += res.rows_in or 0
        totals["rows_loaded"] += res.rows_loaded or 0
        totals["rows_quarantined"] += res.rows_quarantined or 0
        totals["noop"] += 1 if res.status == "noop" else 0
        totals["delivered"].append(d.isoformat())
    log.info("%s %s..%s: %s", feed, dates[0], dates[-1], {k: v for k, v in totals.items() if k != "delivered"})
    return totals


def gate_days(feed_optional: bool, dates: list[date], loaded: dict[str, Any]) -> list[date]:
    """Business dates the raw gate validates.

    Every day for a feed delivered daily (a missing or tiny day is exactly what
    the row-count expectation must catch); only the days it was delivered for
    an optional feed (the opening snapshot arrives once).
    """
    if not feed_optional:
        return dates
    delivered = set(loaded.get("delivered", []))
    return [d for d in dates if d.isoformat() in delivered]


@permanent_errors_fail_fast
def gate(suite: str, run_id: str, airflow_run_id: str, business_date: date | None = None, month: date | None = None,
         date_from: date | None = None):
    from msdw.quality import run_gate

    result = run_gate(suite, run_id=run_id, airflow_run_id=airflow_run_id, business_date=business_date, month=month,
                      date_from=date_from)
    summary = getattr(result, "summary", None)
    log.info("gate %s: %s", suite, summary() if callable(summary) else result)
    return {"suite": suite, "success": bool(getattr(result, "success", True))}


@permanent_errors_fail_fast
def gate_source(source: str, dates: list[date], loaded: dict[str, dict[str, Any]], run_id: str,
                airflow_run_id: str) -> list[dict[str, Any]]:
    """The raw gate of every feed of ``source`` (contract order) for the run's days, in one process.

    Each feed's suite runs and is recorded whatever the others gave; a run
    covering several days (catch-up) validates them as one batch per feed.
    Fails (permanently: re-running the same data cannot pass) naming every
    feed whose gate failed.
    """
    from msdw.contracts import source_feeds
    from msdw.errors import PermanentError
    from msdw.quality import GateFailed

    results, failed = [], []
    for f in source_feeds(source):
        days = gate_days(f.optional, dates, loaded.get(f.name) or {})
        if not days:
            continue
        try:
            # the undecorated gate: a GateFailed is collected here, not turned into a task failure yet
            results.append(gate.__wrapped__(f"raw_{f.name}", run_id, airflow_run_id, business_date=days[-1],
                                            date_from=days[0] if len(days) > 1 else None))
        except GateFailed as exc:
            failed.append((f.name, exc))
    if failed:
        raise PermanentError("raw gate failed for " + ", ".join(n for n, _ in failed) + ": "
                             + " | ".join(f"GateFailed: {e}" for _, e in failed))
    return results


# --- transformation -------------------------------------------------------------


@permanent_errors_fail_fast
def dbt(args: list[str], run_id: str, layer: str) -> None:
    """One dbt invocation for a layer, under that layer's build lock (msdw.warehouse.BUILD_LOCKS).

    The transform and marts DAGs and the ingest DAGs may run at the same time
    on the scheduler: the lock makes a warehouse build wait for the loads in
    flight and keeps new loads out until it is done (dims and facts are built
    from one state of raw), and a marts build out of a half-rebuilt warehouse.
    Each DAG gets its own dbt target directory under ``$MSDW_HOME/dbt/<dag_id>``:
    dbt's ``target/`` (partial-parse state, run results) is not safe to share.
    """
    from msdw import warehouse
    from msdw.config import settings
    from msdw.dbt_runner import run_dbt, seed_if_changed

    s = settings()
    target = s.home / "dbt" / run_id.split("/", 1)[0]
    # the daily transform tests what it rewrote in the large per-key rebuilt models
    # (macros/incremental.sql); `msdw dbt build` and CI test every row
    scope = "changed" if layer in ("staging", "warehouse") else "all"
    with warehouse.build_lock(layer):
        if args == ["seed"]:
            seed_if_changed(run_id, target_path=target)  # only when the reference files changed
            return
        run_dbt(args, vars={"jurisdiction": s.jurisdiction, "msdw_run_id": run_id}, target_path=target,
                test_scope=scope)


@permanent_errors_fail_fast
def require_validated_warehouse() -> str:
    """The marts are built only from a warehouse whose latest build passed its gate.

    Never built (a new deployment whose month-close trigger fires before the
    first transform): nothing to publish, the run is skipped. Latest warehouse
    gate failed: the run fails, naming that run — publishing from an
    unvalidated warehouse is exactly what the gate exists to prevent.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    from msdw import warehouse
    from msdw.errors import PermanentError
    from msdw.quality.queries import query

    with warehouse.connect() as conn:
        row = None
        if conn.execute("select to_regclass('audit.quality_runs')").fetchone()[0] is not None:
            row = conn.execute(query("latest_warehouse_gate")).fetchone()
    if row is None:
        raise AirflowSkipException("the warehouse has not been built and validated yet: nothing to publish")
    run_id, success, finished = row
    if not success:
        raise PermanentError(f"the latest warehouse gate ({run_id}, {finished:%Y-%m-%d %H:%M}) failed: "
                             "the marts are not rebuilt from an unvalidated warehouse; fix and re-run transform_warehouse")
    return run_id


@permanent_errors_fail_fast
def publish(run_id: str, airflow_run_id: str) -> dict[str, Any]:
    from msdw.quality import publish_marts

    pub = publish_marts(run_id=run_id, as_of_date=None, airflow_run_id=airflow_run_id)
    return {"publication_id": getattr(pub, "publication_id", None), "run_id": run_id}


def report(month: date | None) -> str:
    """The auditors' quality report and the work report of ``month``.

    Default: the month of the newest published ``as_of_date`` (a catch-up of
    last year reports on last year, not on the calendar month it ran in).
    """
    from msdw.quality.report import build_quality_report, build_work_report

    month = month or published_month() or date.today().replace(day=1)
    paths = [build_quality_report(month)]
    try:
        paths.append(build_work_report(month))
    except Exception:  # noqa: BLE001 - the work report must not block the audit report
        log.exception("work report for %s failed", month)
    return ", ".join(str(p) for p in paths)


def published_month() -> date | None:
    from msdw import warehouse

    with warehouse.connect() as conn:
        if conn.execute("select to_regclass('audit.publications')").fetchone()[0] is None:
            return None
        d = conn.execute("select as_of_date from audit.publications order by publication_id desc limit 1").fetchone()
    return d[0].replace(day=1) if d and d[0] else None
