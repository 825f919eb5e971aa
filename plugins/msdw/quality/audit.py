"""Writing gate outcomes to ``audit.quality_runs`` / ``audit.quality_results`` (append-only)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from msdw import warehouse
from msdw.quality.masking import mask_value
from msdw.quality.queries import query

if TYPE_CHECKING:
    from msdw.quality.gate import GateResult


def plain(v: Any) -> Any:
    """JSON-able copy of GX values (dates, decimals, numpy scalars)."""
    return json.loads(json.dumps(v, default=_default, ensure_ascii=False))


def _default(o: Any) -> Any:
    if isinstance(o, (date, datetime)):
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    if hasattr(o, "item"):  # numpy scalar
        return o.item()
    return str(o)


def _observed(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(plain(v), ensure_ascii=False)


def record_gate(result: GateResult, *, started: datetime, airflow_run_id: str | None, versions: dict[str, str]) -> None:
    """One quality_runs row per relation and one quality_results row per expectation, in one transaction.

    ``date_from``/``date_to``: the business dates the run covered — a raw gate
    its day (or range), a warehouse or marts gate the span of the loads in effect.
    """
    with warehouse.connect(role=warehouse.ROLE_TRANSFORMER) as conn:
        if result.gate.startswith("raw_"):
            span = (result.date_from or result.business_date, result.business_date)
        else:
            span = conn.execute(query("data_span")).fetchone()
        for rel in result.relations:
            qid = conn.execute(query("insert_quality_run"), {
                "run_id": result.run_id,
                "gate": result.gate,
                "suite": rel.suite,
                "suite_version": versions.get(rel.suite),
                "relation": rel.relation,
                "business_date": result.business_date,
                "period_month": result.month,
                "success": rel.success,
                "evaluated": len(rel.outcomes),
                "passed": sum(o.success for o in rel.outcomes),
                "failed": len(rel.failed),
                "parameters": Jsonb(plain(rel.parameters)),
                "started_at": started,
                "airflow_run_id": airflow_run_id,
                "date_from": span[0],
                "date_to": span[1],
            }).fetchone()[0]
            rel.quality_run_id = qid
            for o in rel.outcomes:
                conn.execute(query("insert_quality_result"), {
                    "quality_run_id": qid,
                    "seq": o.seq,
                    "expectation_type": o.expectation_type,
                    "column_name": o.column,
                    "description": o.description,
                    "kwargs": Jsonb(plain(o.kwargs)),
                    "success": o.success,
                    "observed_value": _observed(mask_value(plain(o.observed_value), o.column)),
                    "unexpected_count": o.unexpected_count,
                    "unexpected_percent": o.unexpected_percent,
                    "unexpected_examples": Jsonb(mask_value(plain(o.examples), o.column)) if o.examples else None,
                    "exception_message": o.exception_message,
                })
        conn.commit()
