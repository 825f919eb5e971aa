-- Temporary tables: the loader COPYs each chunk into a temp table before it is
-- validated and inserted; dbt (as msdw_transformer) builds incremental models
-- through `__dbt_tmp` temp relations. A warehouse whose database privileges were
-- revoked from PUBLIC (docker/postgres-init/10-create-databases.sh does) grants
-- TEMPORARY to exactly these two job roles, nothing else on the database.
-- `msdw bootstrap` then creates a temp table as each of them (msdw.bootstrap.check_job_roles).
do $$
begin
  execute format('grant temporary on database %I to msdw_loader, msdw_transformer', current_database());
end $$;
