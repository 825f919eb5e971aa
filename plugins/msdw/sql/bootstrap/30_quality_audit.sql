-- Quality gate and publication audit (owned by msdw.quality). Idempotent.
-- Append-only like audit.load_files: audit.refuse_change() (20_audit.sql)
-- refuses UPDATE and DELETE, so a gate result or a publication can never be
-- rewritten after the fact. Rows are inserted once, complete.

-- One row per gate run of one suite on one relation (a gate over several
-- relations, e.g. `warehouse`, writes one row per relation, same run_id).
create table if not exists audit.quality_runs (
  quality_run_id     bigint generated always as identity primary key,
  run_id             text not null,          -- pipeline run label (<dag_id>/<run_id>, or CLI/test label)
  gate               text not null,          -- raw_<feed> | warehouse | marts
  suite              text not null,          -- expectation suite name (= expectations/<...>.json "name")
  suite_version      text,                   -- meta.msdw.version of the suite file
  relation           text not null,          -- schema.table validated
  business_date      date,                   -- raw gates: the delivery day validated
  period_month       date,                   -- marts gates: the month checked (first day)
  success            boolean not null,
  evaluated          integer not null,
  passed             integer not null,
  failed             integer not null,
  parameters         jsonb not null default '{}',  -- thresholds and computed bounds used
  started_at         timestamptz not null,
  finished_at        timestamptz not null default clock_timestamp(),
  airflow_run_id     text,
  constraint quality_runs_counts check (evaluated = passed + failed)
);
create index if not exists quality_runs_run on audit.quality_runs (run_id, gate);
create index if not exists quality_runs_started on audit.quality_runs (started_at);
comment on table audit.quality_runs is '质量闸门运行记录 — one row per suite validated (gate run × relation); append-only';

-- One row per expectation evaluated.
create table if not exists audit.quality_results (
  quality_run_id     bigint not null references audit.quality_runs (quality_run_id),
  seq                integer not null,       -- position of the expectation in its suite
  expectation_type   text not null,
  column_name        text,
  description        text,                   -- why the expectation exists (from the suite)
  kwargs             jsonb not null,         -- resolved arguments (thresholds as used)
  success            boolean not null,
  observed_value     text,
  unexpected_count   bigint,
  unexpected_percent numeric,
  unexpected_examples jsonb,                 -- a few values, personal data masked
  exception_message  text,                   -- the check itself could not run
  primary key (quality_run_id, seq)
);
comment on table audit.quality_results is '质量闸门逐条期望结果 — one row per expectation; examples are masked; append-only';

-- One row per publication of the marts (publish or restore).
create table if not exists audit.publications (
  publication_id          bigint generated always as identity primary key,
  action                  text not null check (action in ('publish', 'restore')),
  run_id                  text not null,
  airflow_run_id          text,
  as_of_date              date,
  relations               text[] not null,   -- marts.<m> views re-pointed
  store_tables            jsonb not null,    -- {"<mart>": "marts_store.<mart>__p<id>"}
  row_counts              jsonb not null,    -- {"<mart>": rows}
  replaces_publication_id bigint references audit.publications (publication_id),
  restored_from_publication_id bigint references audit.publications (publication_id),
  published_at            timestamptz not null default clock_timestamp()
);
comment on table audit.publications is '集市发布记录 — one row per publication (publish or restore) of marts.*; the newest row is what BI reads; append-only';

drop trigger if exists quality_runs_append_only on audit.quality_runs;
create trigger quality_runs_append_only before update or delete on audit.quality_runs
  for each row execute function audit.refuse_change();
drop trigger if exists quality_results_append_only on audit.quality_results;
create trigger quality_results_append_only before update or delete on audit.quality_results
  for each row execute function audit.refuse_change();
drop trigger if exists publications_append_only on audit.publications;
create trigger publications_append_only before update or delete on audit.publications
  for each row execute function audit.refuse_change();

-- the transformer runs the gates and publishes; auditors read everything
grant select, insert on audit.quality_runs, audit.quality_results, audit.publications to msdw_transformer;
grant select on audit.quality_runs, audit.quality_results, audit.publications to msdw_auditor;
-- the views in marts are owned by the transformer; BI and auditors get select on each view at publish
grant select on all tables in schema marts to msdw_bi, msdw_auditor;
-- publish_marts reserves the publication id first (it names the store tables)
grant usage on sequence audit.publications_publication_id_seq to msdw_transformer;

-- One row per load of the reference data (dbt seeds: code lists, calendar,
-- indicator catalogue): which version of every file the warehouse was built
-- with. transform_warehouse seeds only when the fingerprint of the files
-- differs from the newest row (msdw.dbt_runner.seed_if_changed).
create table if not exists audit.seed_loads (
  seed_load_id   bigint generated always as identity primary key,
  fingerprint    text not null,               -- sha256 over the files below, in name order
  files          jsonb not null,              -- {"<seed>.csv": "<sha256>", ...}
  run_id         text not null,
  loaded_at      timestamptz not null default clock_timestamp()
);
comment on table audit.seed_loads is '参考数据装载记录 — one row per dbt seed of the reference data, with the sha256 of every file; append-only';
drop trigger if exists seed_loads_append_only on audit.seed_loads;
create trigger seed_loads_append_only before update or delete on audit.seed_loads
  for each row execute function audit.refuse_change();
grant select, insert on audit.seed_loads to msdw_transformer;
grant select on audit.seed_loads to msdw_auditor;

-- What a gate run covered, in business dates (docs/architecture.md, "Trust"):
-- raw gates the day or the range of days judged; warehouse and marts gates
-- the span of business dates of the loads in effect. Reports file a gate run
-- under every month this span touches, not under the month it ran in.
alter table audit.quality_runs add column if not exists date_from date;
alter table audit.quality_runs add column if not exists date_to date;
comment on column audit.quality_runs.date_from is '闸门覆盖的首个业务日期 — first business date whose data the run validated';
comment on column audit.quality_runs.date_to is '闸门覆盖的末个业务日期 — last business date whose data the run validated';

-- Who did what: a person's name (msdw --by NAME, default the OS user) and
-- why, on every publication made by hand (restore, manual publish); NULL for
-- the scheduled pipeline, whose run_id says which run published.
alter table audit.publications add column if not exists actor text;
alter table audit.publications add column if not exists reason text;
comment on column audit.publications.actor is '操作人 — the person who restored or published by hand (NULL: the scheduled pipeline)';
comment on column audit.publications.reason is '操作原因 — why a person restored or published by hand';
