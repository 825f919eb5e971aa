# Airflow DAG file (the scheduler only parses files mentioning "airflow" and "dag").
"""All DAGs of the Market Supervision Data Warehouse, built by one factory.

Thin on purpose: the factory (plugins/msdw/orchestration/factory.py) reads the
feed contracts and builds ingest_<source> ×4, transform_warehouse and
refresh_monthly_marts. Nothing here touches the database or the landing zone.
"""

from msdw.orchestration.factory import build_all

for _dag in build_all():
    globals()[_dag.dag_id] = _dag
