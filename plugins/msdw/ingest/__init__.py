"""Ingestion engine: a delivery in the landing zone → raw.<feed> / quarantine.<feed> / audit.load_files.

Public API (called by the Airflow DAG factory and the CLI)::

    manifest_ready(landing, source, business_date) -> bool
    verify_delivery(landing, source, business_date) -> Manifest
    load_feed(landing, source, feed, business_date, *, conninfo=None, airflow_dag_id=None, airflow_run_id=None) -> LoadResult | None
    load_day(landing, source, business_date, **kw) -> list[LoadResult]

See docs/ingestion.md for the design (COPY into a temp table, one set-based
validation statement per file rendered from the contract, audit).
"""

from msdw.ingest.delivery import Manifest, ManifestFile, manifest_ready
from msdw.ingest.loader import LoadResult, load_day, load_feed, verify_delivery

__all__ = ["LoadResult", "Manifest", "ManifestFile", "load_day", "load_feed", "manifest_ready", "verify_delivery"]
