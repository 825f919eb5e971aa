-- Static statements of the loader (msdw.ingest.loader), one per `-- name:` block.
-- Executed with psycopg parameters; identifiers of feed tables are composed with
-- psycopg.sql.Identifier, never by string formatting.

-- name: lock_feed_day
-- Serialises loads of the same feed and business date (two DAG runs, a manual re-run),
-- and waits while a warehouse build reads raw (msdw.warehouse.BUILD_LOCKS: namespace
-- 'msdw' = 1836278903, lock RAW = 1, held shared by every load).
select pg_advisory_xact_lock_shared(1836278903, 1),
       pg_advisory_xact_lock(hashtext('msdw.ingest:' || %(feed)s), (%(business_date)s::date - date '2000-01-01'));

-- name: current_load
-- The load whose rows are in raw/quarantine for this feed and day (noops change nothing).
select load_id, sha256
from audit.load_files
where feed = %(feed)s and business_date = %(business_date)s and status in ('loaded', 'replaced')
order by load_id desc
limit 1;

-- name: next_load_id
select nextval(pg_get_serial_sequence('audit.load_files', 'load_id'));

-- name: insert_load
-- Append-only audit row, inserted once and complete (counts already known).
insert into audit.load_files (
  load_id, source, feed, business_date, file_name, file_uri, sha256, encoding, file_format,
  rows_in, rows_loaded, rows_quarantined, rows_warned, quarantine_by_rule, warnings_by_rule,
  extra_columns, status, message, replaces_load_id, started_at, airflow_dag_id, airflow_run_id
) overriding system value values (
  coalesce(%(load_id)s, nextval(pg_get_serial_sequence('audit.load_files', 'load_id'))),
  %(source)s, %(feed)s, %(business_date)s, %(file_name)s, %(file_uri)s, %(sha256)s, %(encoding)s, %(file_format)s,
  %(rows_in)s, %(rows_loaded)s, %(rows_quarantined)s, %(rows_warned)s,
  coalesce(%(quarantine_by_rule)s::jsonb, '{}'), coalesce(%(warnings_by_rule)s::jsonb, '{}'),
  coalesce(%(extra_columns)s::text[], '{}'), %(status)s, %(message)s, %(replaces_load_id)s, %(started_at)s,
  %(airflow_dag_id)s, %(airflow_run_id)s
)
returning load_id;

-- name: ric_regions_table
create temp table _ric_loc (code text not null, y0 integer not null, y1 integer not null) on commit drop;

-- name: ric_regions_index
create index on pg_temp._ric_loc (code);

-- name: insert_delivery
-- A day's delivery of a source passed verification (manifest structure, every file's rows and sha256).
insert into audit.deliveries (source, business_date, manifest_uri, manifest_sha256, files, rows_declared,
                              airflow_dag_id, airflow_run_id)
values (%(source)s, %(business_date)s, %(manifest_uri)s, %(manifest_sha256)s, %(files)s, %(rows_declared)s,
        %(airflow_dag_id)s, %(airflow_run_id)s);

-- name: insert_waiver
-- A person accepts that a source's business date will never be delivered (msdw waive --by NAME).
insert into audit.delivery_waivers (source, business_date, reason, waived_by)
values (%(source)s, %(business_date)s, %(reason)s, %(waived_by)s)
returning waiver_id, waived_by;
