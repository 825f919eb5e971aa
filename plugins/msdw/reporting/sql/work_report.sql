-- Statements of the work report. Run as msdw_bi: they read the published
-- views in schema marts only. Parameters: %(month_start)s (first day of the
-- report month), %(jurisdiction)s (the jurisdiction's own code = total rows).

-- name: marts_available
select to_regclass('marts.indicator_monthly') is not null;

-- name: publication_of_view
-- The store table behind marts.indicator_monthly (marts_store.indicator_monthly__p<publication id>),
-- read from the view definition: pg_views is visible to every role, audit.publications is not visible to BI.
select definition from pg_catalog.pg_views where schemaname = 'marts' and viewname = 'indicator_monthly';

-- name: month_totals
-- The jurisdiction's total row (breakdown 全部) of every indicator for the month.
select indicator_code, indicator_name_zh, indicator_name_en, unit, region_name,
       value, numerator, denominator, ytd_value, ytd_numerator, ytd_denominator,
       same_period_last_year, yoy_growth_pct, as_of_date, published_run_id
from marts.indicator_monthly
where period_month = %(month_start)s and region_code = %(jurisdiction)s
  and breakdown_type = '全部' and breakdown_value = '全部'
order by indicator_code;

-- name: trend
-- Monthly values of the given indicators, jurisdiction total, the 12 months ending with the report month.
select indicator_code, period_month, value
from marts.indicator_monthly
where indicator_code = any(%(codes)s) and region_code = %(jurisdiction)s
  and breakdown_type = '全部' and breakdown_value = '全部'
  and period_month > (%(month_start)s::date - interval '12 months') and period_month <= %(month_start)s
order by indicator_code, period_month;

-- name: by_county
-- Year-to-date values of the given indicators per county of the jurisdiction (rows other than the total row).
select indicator_code, region_code, region_name, ytd_value
from marts.indicator_monthly
where indicator_code = any(%(codes)s) and period_month = %(month_start)s
  and region_code <> %(jurisdiction)s and breakdown_type = '全部' and breakdown_value = '全部'
order by indicator_code, region_code;

-- name: by_breakdown
-- Year-to-date values of one indicator by one breakdown, jurisdiction total.
select breakdown_value, ytd_value
from marts.indicator_monthly
where indicator_code = %(code)s and breakdown_type = %(breakdown_type)s
  and period_month = %(month_start)s and region_code = %(jurisdiction)s
order by ytd_value desc nulls last, breakdown_value;
