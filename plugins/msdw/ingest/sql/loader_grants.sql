-- Grants the loader needs beyond 10_roles.sql / 20_audit.sql. Rendered by
-- msdw.ingest.ddl after every bootstrap file has run (audit.load_files exists).
-- The loader takes its load id from the identity sequence before it inserts the
-- (append-only, complete) audit row with OVERRIDING SYSTEM VALUE.
do $$
begin
  execute format('grant usage on sequence %s to msdw_loader', pg_get_serial_sequence('audit.load_files', 'load_id'));
end $$;
