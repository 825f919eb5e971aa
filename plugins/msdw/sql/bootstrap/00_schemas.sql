-- Layers of the warehouse. Idempotent: run by `msdw bootstrap` on every start.
create schema if not exists raw;          -- restricted: delivered rows, personal data included
create schema if not exists quarantine;   -- restricted: rejected rows with raw values and reasons
create schema if not exists staging;      -- dbt: typed, deduplicated, pseudonymised
create schema if not exists intermediate; -- dbt: helper models
create schema if not exists warehouse;    -- dbt: conformed dimensions and facts
create schema if not exists marts_candidate; -- dbt: marts built here, validated, then published
create schema if not exists marts_store;  -- published mart versions (one table per publication)
create schema if not exists marts;        -- what BI reads: views onto the current publication
create schema if not exists audit;        -- append-only record of loads, gates and publications
create schema if not exists seeds;        -- dbt seeds (reference data)
