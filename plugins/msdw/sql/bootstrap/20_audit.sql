-- Audit trail: append-only. Rows are inserted once, complete; a trigger
-- refuses UPDATE and DELETE so history cannot be rewritten by the platform.
create or replace function audit.refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'audit.% is append-only', tg_table_name;
end $$;

create table if not exists audit.load_files (
  load_id            bigint generated always as identity primary key,
  source             text not null,
  feed               text not null,
  business_date      date not null,
  file_name          text not null,
  file_uri           text,
  sha256             text,
  encoding           text,
  file_format        text,
  rows_in            bigint,
  rows_loaded        bigint,
  rows_quarantined   bigint,
  rows_warned        bigint,
  quarantine_by_rule jsonb not null default '{}',
  warnings_by_rule   jsonb not null default '{}',
  extra_columns      text[] not null default '{}',
  status             text not null check (status in ('loaded', 'replaced', 'noop', 'refused', 'failed')),
  message            text,
  replaces_load_id   bigint,
  started_at         timestamptz not null,
  finished_at        timestamptz not null default clock_timestamp(),
  airflow_dag_id     text,
  airflow_run_id     text,
  constraint load_files_reconcile check (
    status not in ('loaded', 'replaced') or rows_in = rows_loaded + rows_quarantined
  )
);
create index if not exists load_files_feed_day on audit.load_files (feed, business_date, load_id);
comment on table audit.load_files is '每个文件的装载记录 — one row per file load attempt (loaded, replaced, noop, refused, failed); rows_in = rows_loaded + rows_quarantined for every loaded file';

drop trigger if exists load_files_append_only on audit.load_files;
create trigger load_files_append_only before update or delete on audit.load_files
  for each row execute function audit.refuse_change();

grant usage on schema audit to msdw_loader;
grant select, insert on audit.load_files to msdw_loader;
grant select on audit.load_files to msdw_transformer, msdw_auditor;
