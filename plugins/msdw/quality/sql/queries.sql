-- Static statements of the quality gate and the publisher (msdw.quality), one
-- per `-- name:` block, executed with psycopg parameters. Identifiers of marts
-- and store tables are composed with psycopg.sql.Identifier in publish.py.

-- name: row_count_baseline
-- Rows delivered for a feed on the same weekday in the trailing weeks: the
-- latest loaded/replaced file of each earlier business date (a re-delivery
-- replaces the day, so only its last load counts). Median and sample size.
with days as (
  select distinct on (business_date) business_date, rows_loaded
  from audit.load_files
  where feed = %(feed)s
    and status in ('loaded', 'replaced')
    and business_date < %(business_date)s::date
    and business_date >= %(business_date)s::date - 7 * %(weeks)s
    and extract(isodow from business_date) = extract(isodow from %(business_date)s::date)
  order by business_date, load_id desc
)
select count(*) as n_days,
       percentile_cont(0.5) within group (order by rows_loaded) as median_rows
from days;

-- name: batch_rows
-- Rows of a raw gate's batch (the current load of each day in the range).
with days as (
  select distinct on (business_date) business_date, rows_loaded
  from audit.load_files
  where feed = %(feed)s
    and status in ('loaded', 'replaced')
    and business_date between %(date_from)s::date and %(business_date)s::date
  order by business_date, load_id desc
)
select coalesce(sum(rows_loaded), 0) from days;

-- name: latest_business_date
-- The newest delivery day of a feed (a raw gate called without a date checks it).
select max(business_date) from audit.load_files
where feed = %(feed)s and status in ('loaded', 'replaced');

-- name: insert_quality_run
insert into audit.quality_runs (
  run_id, gate, suite, suite_version, relation, business_date, period_month, success,
  evaluated, passed, failed, parameters, started_at, airflow_run_id, date_from, date_to
) values (
  %(run_id)s, %(gate)s, %(suite)s, %(suite_version)s, %(relation)s, %(business_date)s, %(period_month)s,
  %(success)s, %(evaluated)s, %(passed)s, %(failed)s, %(parameters)s, %(started_at)s, %(airflow_run_id)s,
  %(date_from)s, %(date_to)s
) returning quality_run_id;

-- name: data_span
-- Business dates of the loads in effect (newest loaded/replaced load of each feed and day):
-- what a warehouse or marts gate validates.
select min(business_date), max(business_date)
from audit.load_files
where status in ('loaded', 'replaced');

-- name: insert_quality_result
insert into audit.quality_results (
  quality_run_id, seq, expectation_type, column_name, description, kwargs, success, observed_value,
  unexpected_count, unexpected_percent, unexpected_examples, exception_message
) values (
  %(quality_run_id)s, %(seq)s, %(expectation_type)s, %(column_name)s, %(description)s, %(kwargs)s,
  %(success)s, %(observed_value)s, %(unexpected_count)s, %(unexpected_percent)s,
  %(unexpected_examples)s, %(exception_message)s
);

-- name: lock_publication
-- Serialises publishes and restores (two DAG runs, a manual restore).
select pg_advisory_xact_lock(hashtext('msdw.quality:publish'));

-- name: current_publication
select publication_id, store_tables from audit.publications order by publication_id desc limit 1;

-- name: publication
select publication_id, action, run_id, as_of_date, relations, store_tables, row_counts
from audit.publications where publication_id = %(publication_id)s;

-- name: next_publication_id
select nextval(pg_get_serial_sequence('audit.publications', 'publication_id'));

-- name: insert_publication
-- actor/reason: the person and why, for a publication made by hand (NULL: the scheduled pipeline)
insert into audit.publications (
  publication_id, action, run_id, airflow_run_id, as_of_date, relations, store_tables, row_counts,
  replaces_publication_id, restored_from_publication_id, actor, reason
) overriding system value values (
  %(publication_id)s, %(action)s, %(run_id)s, %(airflow_run_id)s, %(as_of_date)s, %(relations)s,
  %(store_tables)s, %(row_counts)s, %(replaces_publication_id)s, %(restored_from_publication_id)s,
  %(actor)s, %(reason)s
) returning published_at;

-- name: column_comments
-- Column names (in order) and their comments (the Chinese names dbt persists) of one table.
select a.attname, col_description(a.attrelid, a.attnum)
from pg_attribute a
where a.attrelid = to_regclass(%(relation)s) and a.attnum > 0 and not a.attisdropped
order by a.attnum;

-- name: table_comment
select obj_description(to_regclass(%(relation)s), 'pg_class');

-- name: marts_gate_outcome
-- The marts gate of this pipeline run: relations validated and whether each passed
-- (the newest row per relation wins: a corrected re-run of the gate supersedes).
select distinct on (relation) relation, success
from audit.quality_runs
where gate = 'marts' and run_id = %(run_id)s
order by relation, quality_run_id desc;

-- name: relation_exists
select to_regclass(%(relation)s) is not null;

-- name: latest_warehouse_gate
-- The newest run of the warehouse gate: the marts are only built from a
-- warehouse whose latest build passed it.
select run_id, bool_and(success) as success, max(finished_at) as finished_at
from audit.quality_runs
where gate = 'warehouse'
  and run_id = (select run_id from audit.quality_runs where gate = 'warehouse' order by quality_run_id desc limit 1)
group by run_id;
