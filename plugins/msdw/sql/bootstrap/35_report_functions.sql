-- What the auditors' quality report may know of the restricted layers: the REASONS rows were refused
-- or flagged for, as 「规则:字段」 counts, never a value. msdw_auditor cannot read raw or quarantine
-- (personal data); this function, owned by the bootstrapping role, reads only the rule and field of
-- every reason and returns counts per feed, business date, rule and field. Idempotent.
--   R: quarantine.<feed>.reasons (one object per failing R rule: field, rule) — the rows of the
--      load in effect only, since a re-delivery replaces a day's quarantined rows;
--   W: raw.<feed>._warnings ('rule:field' flags) of the loads in effect.
create or replace function audit.reason_counts(p_from date, p_to date)
returns table (level text, feed text, business_date date, rule text, field text, rows bigint)
language plpgsql stable security definer
set search_path = pg_catalog
as $$
declare
  t record;
begin
  for t in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'quarantine' and c.relkind = 'r' order by 1 loop
    return query execute format(
      'select %L::text, %L::text, q._business_date, r->>''rule'', r->>''field'', count(*)
         from quarantine.%I q cross join lateral jsonb_array_elements(q.reasons) as r
        where q._business_date between $1 and $2
        group by 3, 4, 5', 'R', t.relname, t.relname) using p_from, p_to;
  end loop;
  for t in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attname = '_warnings'
           where n.nspname = 'raw' and c.relkind = 'r' order by 1 loop
    return query execute format(
      'select %L::text, %L::text, w._business_date, split_part(f, '':'', 1), split_part(f, '':'', 2), count(*)
         from raw.%I w cross join lateral unnest(w._warnings) as f
        where w._business_date between $1 and $2 and w._warnings <> ''{}''
        group by 3, 4, 5', 'W', t.relname, t.relname) using p_from, p_to;
  end loop;
end $$;
comment on function audit.reason_counts(date, date) is
  '隔离与警告原因统计（规则:字段）— rows refused (R) or flagged (W) per feed, business date, rule and field; counts only, no value';
revoke all on function audit.reason_counts(date, date) from public;
grant execute on function audit.reason_counts(date, date) to msdw_auditor;
