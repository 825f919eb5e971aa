-- Queries of the auditors' monthly quality report (msdw.quality.report), one per `-- name:` block.
-- Run as msdw_auditor with the session time zone Asia/Shanghai (timestamps come back as Beijing time).
-- %(month_start)s is the first day of the month, %(month_end)s the first day of the next,
-- %(cutoff)s the last as-of date whose whole-table gates and publications are filed under the month
-- (NULL: the month is still open, no upper bound; see msdw.quality.report.filing_window).

-- name: load_attempts
-- Every load attempt of the month's business dates. `in_effect`: the newest loaded/replaced load of
-- its feed and day (the load whose rows are in raw, docs/architecture.md "load in effect"); every
-- other attempt — noop, refused, failed, a load replaced later — is an event of that day.
select source, feed, business_date, load_id, status, file_name, sha256, rows_in, rows_loaded,
       rows_quarantined, rows_warned, message, replaces_load_id, finished_at,
       load_id = max(load_id) filter (where status in ('loaded', 'replaced'))
                 over (partition by feed, business_date) as in_effect
from audit.load_files
where business_date >= %(month_start)s and business_date < %(month_end)s
order by source, feed, business_date, load_id;

-- name: reason_counts
-- Rows quarantined (level R) and flagged (level W) per feed, rule and field over the month, loads in
-- effect only: counts from audit.reason_counts (35_report_functions.sql), never a value.
select level, feed, rule, field, sum(rows)::bigint as rows
from audit.reason_counts(%(month_start)s, %(month_end)s::date - 1)
group by level, feed, rule, field
order by level, feed, rows desc, rule, field;

-- name: first_publication_after
-- The first publication whose data reach a date (the month's 统计截止日): it closes the filing window.
select min(as_of_date) from audit.publications where as_of_date >= %(close_date)s;

-- name: gate_runs
-- Gate runs filed under the month by the business dates they covered (date_from..date_to):
-- a raw gate when its day or range touches the month; a warehouse or marts gate (it validates
-- every loaded day up to date_to) when it covers the month and date_to lies in the filing window.
-- Rows recorded before date_from/date_to existed fall back to their day, or the day they ran.
with runs as (
  select r.*,
         coalesce(r.date_from, r.business_date, (r.started_at at time zone 'Asia/Shanghai')::date) as d_from,
         coalesce(r.date_to, r.business_date, (r.started_at at time zone 'Asia/Shanghai')::date) as d_to
  from audit.quality_runs r
)
select quality_run_id, run_id, gate, suite, suite_version, relation, business_date, period_month, success, evaluated,
       passed, failed, parameters, started_at, finished_at, airflow_run_id, d_from as date_from, d_to as date_to
from runs
where d_from < %(month_end)s
  and d_to >= %(month_start)s
  and (gate like 'raw\_%%' or %(cutoff)s::date is null or d_to <= %(cutoff)s::date)
order by started_at, quality_run_id;

-- name: failed_results
select q.quality_run_id, r.suite, q.seq, q.expectation_type, q.column_name, q.description, q.kwargs,
       q.observed_value, q.unexpected_count, q.unexpected_percent, q.unexpected_examples, q.exception_message
from audit.quality_results q
join audit.quality_runs r using (quality_run_id)
where q.quality_run_id = any(%(run_ids)s) and not q.success
order by q.quality_run_id, q.seq;

-- name: publications
-- Publications filed under the month: their data reach into it (as_of_date from the first day of the
-- month) and they were made before the month was closed (as_of_date up to the filing window's end).
-- The marts gate of the same run_id is the gate that authorised it (publish_marts refuses without it).
select p.publication_id, p.action, p.run_id, p.airflow_run_id, p.as_of_date, p.relations, p.row_counts,
       p.replaces_publication_id, p.restored_from_publication_id, p.published_at, p.actor, p.reason,
       g.runs as gate_runs, g.relations as gate_relations, g.passed as gate_passed,
       g.date_from as gate_date_from, g.date_to as gate_date_to
from audit.publications p
left join lateral (
  select array_agg(r.quality_run_id order by r.quality_run_id) as runs, count(*) as relations,
         bool_and(r.success) as passed, min(r.date_from) as date_from, max(r.date_to) as date_to
  from audit.quality_runs r where r.gate = 'marts' and r.run_id = p.run_id
) g on p.action = 'publish'
where coalesce(p.as_of_date, (p.published_at at time zone 'Asia/Shanghai')::date) >= %(month_start)s
  and (%(cutoff)s::date is null
       or coalesce(p.as_of_date, (p.published_at at time zone 'Asia/Shanghai')::date) <= %(cutoff)s::date)
order by p.publication_id;

-- name: held_back
-- Marts gate runs filed under the month that failed and were never published: what BI did not get.
select r.run_id, min(r.started_at) as started_at, min(r.date_from) as date_from, max(r.date_to) as date_to,
       array_agg(r.relation order by r.relation) filter (where not r.success) as failed_relations,
       sum(r.failed) as failed_expectations
from audit.quality_runs r
where r.gate = 'marts'
  and coalesce(r.date_from, (r.started_at at time zone 'Asia/Shanghai')::date) < %(month_end)s
  and coalesce(r.date_to, (r.started_at at time zone 'Asia/Shanghai')::date) >= %(month_start)s
  and (%(cutoff)s::date is null
       or coalesce(r.date_to, (r.started_at at time zone 'Asia/Shanghai')::date) <= %(cutoff)s::date)
  and not exists (select 1 from audit.publications p where p.run_id = r.run_id)
group by r.run_id
having bool_or(not r.success)
order by 2;

-- name: delivery_days
-- Per source and business day of the month that was due: verified deliveries, waivers, refused
-- attempts. A day is due from the source's first delivery on (before it nothing was expected) up to
-- the month's last day, but never after %(due_until)s (yesterday in Beijing time: today's delivery
-- may still come). So days missing at the end of a month are reported, not hidden.
with span as (
  select source, greatest(min(business_date), %(month_start)s::date) as d0,
         least(%(month_end)s::date - 1, %(due_until)s::date) as d1
  from audit.deliveries group by source
), days as (
  select s.source, d::date as business_date
  from span s cross join lateral generate_series(s.d0, s.d1, interval '1 day') as d
  where s.d0 <= s.d1
)
select d.source, d.business_date,
       (select count(*) from audit.deliveries x where x.source = d.source and x.business_date = d.business_date)
         as deliveries,
       (select count(*) from audit.load_files l
         where l.source = d.source and l.business_date = d.business_date and l.status in ('refused', 'failed'))
         as refused_attempts,
       (select jsonb_agg(jsonb_build_object('waiver_id', w.waiver_id, 'reason', w.reason, 'waived_by', w.waived_by,
                                            'waived_at', w.waived_at) order by w.waiver_id)
          from audit.delivery_waivers w where w.source = d.source and w.business_date = d.business_date) as waivers
from days d
order by d.source, d.business_date;

-- name: waivers
-- Human decisions of the month: every waiver of one of its business dates, with who and why.
select waiver_id, source, business_date, reason, waived_by, waived_at
from audit.delivery_waivers
where business_date >= %(month_start)s and business_date < %(month_end)s
order by waived_at, waiver_id;

-- name: optional_actions
-- Rows of an action table other parts of the platform add (accepts, restatements), as JSON, when
-- the table exists (the caller checks to_regclass first). %(table)s is composed as an identifier.
select to_jsonb(a.*) as row from {table} a;

-- name: gate_months
-- Every month some gate run covered (its business dates date_from..date_to): the gate pages' index.
select distinct m::date as month
from audit.quality_runs r,
     generate_series(date_trunc('month', coalesce(r.date_from, r.business_date, (r.started_at at time zone 'Asia/Shanghai')::date)),
                     coalesce(r.date_to, r.business_date, (r.started_at at time zone 'Asia/Shanghai')::date),
                     interval '1 month') as m
order by 1;

-- name: gate_run_results
-- Every expectation of the given runs, passed or not (the gate pages show both).
select q.quality_run_id, r.suite, q.seq, q.expectation_type, q.column_name, q.description, q.kwargs, q.success,
       q.observed_value, q.unexpected_count, q.unexpected_percent, q.unexpected_examples, q.exception_message
from audit.quality_results q
join audit.quality_runs r using (quality_run_id)
where q.quality_run_id = any(%(run_ids)s)
order by q.quality_run_id, q.seq;
