-- Least-privilege group roles (NOLOGIN). Login users are granted one of these
-- by the operator (see docs/runbook.md); the platform itself connects as an
-- administrator and `SET ROLE`s to the role of each job, so the same
-- privileges hold on the embedded demo and in production.
do $$
declare r text;
begin
  foreach r in array array['msdw_loader', 'msdw_transformer', 'msdw_bi', 'msdw_auditor', 'msdw_pii_reader'] loop
    if not exists (select 1 from pg_roles where rolname = r) then
      execute format('create role %I nologin', r);
    end if;
  end loop;
end $$;

-- nobody but the owner and the grants below may use the schemas
revoke all on schema raw, quarantine, staging, intermediate, warehouse, marts_candidate, marts_store, marts, audit, seeds from public;
revoke create on schema public from public;

-- loader: writes raw and quarantine, appends to the load audit; cannot read marts, cannot drop schemas
grant usage on schema raw, quarantine, audit, seeds to msdw_loader;
grant select, insert, delete on all tables in schema raw, quarantine to msdw_loader;
alter default privileges in schema raw grant select, insert, delete on tables to msdw_loader;
alter default privileges in schema quarantine grant select, insert, delete on tables to msdw_loader;

-- transformer: dbt and the quality gate. Reads raw without its personal-data
-- columns (column grants are issued per raw table by the bootstrap, from the
-- contracts), owns everything it builds.
grant usage on schema raw, audit to msdw_transformer;
grant usage, create on schema staging, intermediate, warehouse, marts_candidate, marts_store, marts, seeds to msdw_transformer;

-- restricted handlers (the 12315 team): full raw and quarantine, nothing else
grant usage on schema raw, quarantine to msdw_pii_reader;
grant select on all tables in schema raw, quarantine to msdw_pii_reader;
alter default privileges in schema raw grant select on tables to msdw_pii_reader;
alter default privileges in schema quarantine grant select on tables to msdw_pii_reader;

-- BI: the published marts only
grant usage on schema marts to msdw_bi;

-- auditors: the audit trail and the published marts
grant usage on schema audit, marts to msdw_auditor;
grant select on all tables in schema audit to msdw_auditor;
alter default privileges in schema audit grant select on tables to msdw_auditor;
