"""Quality gates (Great Expectations, in the database), write–audit–publish of the marts, reports.

Public API used by the DAG factory and the CLI::

    run_gate(suite, *, run_id, airflow_run_id=None, business_date=None, month=None) -> GateResult
    publish_marts(*, run_id, as_of_date, airflow_run_id=None) -> Publication
    restore_publication(publication_id) -> Publication
    GateFailed

Imports are lazy so that importing ``msdw.quality`` (e.g. for ``GateFailed``
in the task wrapper) never pulls in Great Expectations at DAG parse time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from msdw.quality.gate import GateResult
    from msdw.quality.publish import Publication

__all__ = ["GateFailed", "GateResult", "Publication", "publish_marts", "restore_publication", "run_gate"]


def __getattr__(name: str) -> Any:
    if name in ("GateFailed", "GateResult", "run_gate"):
        from msdw.quality import gate

        return getattr(gate, name)
    if name in ("Publication", "publish_marts", "restore_publication", "PublishError"):
        from msdw.quality import publish

        return getattr(publish, name)
    raise AttributeError(f"module 'msdw.quality' has no attribute {name!r}")

