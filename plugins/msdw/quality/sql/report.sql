-- Queries of the monthly reports (msdw.quality.report), one per `-- name:` block.
-- Run as msdw_auditor (quality report) or msdw_bi (work report). %(month_start)s
-- is the first day of the month, %(month_end)s the first day of the next.

-- name: loads_by_day
-- Rows received, loaded and quarantined per source, feed and business day.
-- The latest attempt of a day counts (a re-delivery replaces the day); every
-- attempt is still listed in `attempts` and refused/failed attempts are counted.
with attempts as (
  select *, row_number() over (partition by feed, business_date order by load_id desc) as rn
  from audit.load_files
  where business_date >= %(month_start)s and business_date < %(month_end)s
)
select source, feed, business_date,
       max(status) filter (where rn = 1) as status,
       max(rows_in) filter (where rn = 1) as rows_in,
       max(rows_loaded) filter (where rn = 1) as rows_loaded,
       max(rows_quarantined) filter (where rn = 1) as rows_quarantined,
       max(rows_warned) filter (where rn = 1) as rows_warned,
       count(*) as attempts,
       count(*) filter (where status in ('refused', 'failed')) as refused,
       string_agg(message, '; ' order by load_id) filter (where status in ('refused', 'failed')) as messages
from attempts
group by source, feed, business_date
order by source, feed, business_date;

-- name: quarantine_by_reason
-- Quarantined rows per feed and reason (rule:field) over the month, latest load of each day.
with latest as (
  select distinct on (feed, business_date) source, feed, quarantine_by_rule
  from audit.load_files
  where business_date >= %(month_start)s and business_date < %(month_end)s and status in ('loaded', 'replaced')
  order by feed, business_date, load_id desc
)
select source, feed, q.key as reason, sum(q.value::bigint) as rows
from latest, jsonb_each_text(quarantine_by_rule) as q
group by source, feed, q.key
order by source, feed, rows desc, reason;

-- name: warnings_by_rule
with latest as (
  select distinct on (feed, business_date) source, feed, warnings_by_rule
  from audit.load_files
  where business_date >= %(month_start)s and business_date < %(month_end)s and status in ('loaded', 'replaced')
  order by feed, business_date, load_id desc
)
select source, feed, w.key as rule, sum(w.value::bigint) as rows
from latest, jsonb_each_text(warnings_by_rule) as w
group by source, feed, w.key
order by source, feed, rows desc, rule;

-- name: gate_runs
-- Gate runs about the month: raw gates by business date, the others by when they ran (Asia/Shanghai).
select quality_run_id, run_id, gate, relation, business_date, period_month, success, evaluated, passed, failed,
       started_at at time zone 'Asia/Shanghai' as started_local, airflow_run_id
from audit.quality_runs
where (business_date >= %(month_start)s and business_date < %(month_end)s)
   or (business_date is null
       and (started_at at time zone 'Asia/Shanghai')::date >= %(month_start)s
       and (started_at at time zone 'Asia/Shanghai')::date < %(month_end)s)
order by quality_run_id;

-- name: failed_results
select q.quality_run_id, q.seq, q.expectation_type, q.column_name, q.description, q.kwargs, q.observed_value,
       q.unexpected_count, q.unexpected_percent, q.unexpected_examples, q.exception_message
from audit.quality_results q
where q.quality_run_id = any(%(run_ids)s) and not q.success
order by q.quality_run_id, q.seq;

-- name: publications
select publication_id, action, run_id, airflow_run_id, as_of_date, relations, row_counts,
       replaces_publication_id, restored_from_publication_id, published_at at time zone 'Asia/Shanghai' as published_local
from audit.publications
where ((published_at at time zone 'Asia/Shanghai')::date >= %(month_start)s
       and (published_at at time zone 'Asia/Shanghai')::date < %(month_end)s)
   or (as_of_date >= %(month_start)s and as_of_date < %(month_end)s)
order by publication_id;

-- name: held_back
-- Marts gate runs that failed and were never published: what BI did not get.
select r.run_id, min(r.started_at at time zone 'Asia/Shanghai') as started_local,
       string_agg(distinct r.relation, ', ') filter (where not r.success) as failed_relations,
       sum(r.failed) as failed_expectations
from audit.quality_runs r
where r.gate = 'marts'
  and (r.started_at at time zone 'Asia/Shanghai')::date >= %(month_start)s
  and (r.started_at at time zone 'Asia/Shanghai')::date < %(month_end)s
  and not exists (select 1 from audit.publications p where p.run_id = r.run_id)
group by r.run_id
having bool_or(not r.success)
order by 2;

-- name: work_indicators
-- The jurisdiction's headline figures of the month (total rows, breakdown 全部).
select indicator_code, indicator_name_zh, unit, value, numerator, denominator, ytd_value, yoy_growth_pct, as_of_date
from marts.indicator_monthly
where period_month = %(month_start)s and region_code = %(jurisdiction)s
  and breakdown_type = '全部' and breakdown_value = '全部'
order by indicator_code;

-- name: delivery_days
-- Per source and business day of the month: verified deliveries, waivers, or nothing.
-- Only days from the source's first delivery on (before it, nothing was expected yet),
-- up to its last delivery (later days are still to come, or late: see the sensor alerts).
with span as (
  select source, greatest(min(business_date), %(month_start)s::date) as d0,
         least(max(business_date), %(month_end)s::date - 1) as d1
  from audit.deliveries group by source
), days as (
  select s.source, d::date as business_date
  from span s cross join lateral generate_series(s.d0, s.d1, interval '1 day') as d
  where s.d0 <= s.d1
)
select d.source, d.business_date,
       (select count(*) from audit.deliveries x where x.source = d.source and x.business_date = d.business_date)
         as deliveries,
       (select string_agg(w.reason || '（' || w.waived_by || '，' || to_char(w.waived_at, 'YYYY-MM-DD') || '）', '；'
                          order by w.waiver_id)
          from audit.delivery_waivers w where w.source = d.source and w.business_date = d.business_date) as waiver
from days d
order by d.source, d.business_date;
