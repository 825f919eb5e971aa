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

-- One row per verified delivery (a source's manifest for one business date,
-- every file matching its rows and sha256), appended by the loader's
-- verify step before anything of the day is loaded. A day whose manifest
-- lists no file (no events anywhere) is still a delivery: this table, not
-- load_files, is what the completeness check of the marts gate reads.
create table if not exists audit.deliveries (
  delivery_id        bigint generated always as identity primary key,
  source             text not null,
  business_date      date not null,
  manifest_uri       text not null,
  manifest_sha256    text not null,
  files              integer not null,
  rows_declared      bigint not null,
  verified_at        timestamptz not null default clock_timestamp(),
  airflow_dag_id     text,
  airflow_run_id     text
);
create index if not exists deliveries_source_day on audit.deliveries (source, business_date);
comment on table audit.deliveries is '到货记录 — one row per verified daily delivery (manifest + files) of a source; append-only';

-- An operator's statement that a business date of a source will never be
-- delivered (a source-system outage, a day the bureau did not work): the
-- completeness check accepts the day, and the quality report lists the
-- waiver with its reason. Written with `msdw waive`, never by the pipeline.
create table if not exists audit.delivery_waivers (
  waiver_id          bigint generated always as identity primary key,
  source             text not null,
  business_date      date not null,
  reason             text not null check (length(btrim(reason)) > 0),
  waived_by          text not null default current_user,
  waived_at          timestamptz not null default clock_timestamp()
);
comment on table audit.delivery_waivers is '缺失到货豁免 — a business date of a source accepted as never delivered, with the reason; append-only';

drop trigger if exists deliveries_append_only on audit.deliveries;
create trigger deliveries_append_only before update or delete on audit.deliveries
  for each row execute function audit.refuse_change();
drop trigger if exists delivery_waivers_append_only on audit.delivery_waivers;
create trigger delivery_waivers_append_only before update or delete on audit.delivery_waivers
  for each row execute function audit.refuse_change();

-- the loader appends (it never needs to read the table back)
grant insert on audit.deliveries to msdw_loader;
grant select on audit.deliveries, audit.delivery_waivers to msdw_transformer, msdw_auditor;
