#!/usr/bin/env bash
# One PostgreSQL server, two databases with their own owners:
#
#   ${AIRFLOW_DB_NAME:-airflow}  Airflow metadata (and the Celery result backend), owned by ${AIRFLOW_DB_USER:-airflow}
#   ${MSDW_DB_NAME:-msdw}        the warehouse, owned by ${MSDW_DB_USER:-msdw}
#
# The postgres image runs this once, on the first start of an empty data
# directory (/docker-entrypoint-initdb.d). It is idempotent, so an operator can
# also run it by hand against any server (e.g. a managed PostgreSQL, see
# docs/deployment.md) with the standard PG* variables pointing at an admin:
#
#   PGHOST=db.example PGUSER=admin POSTGRES_USER=admin AIRFLOW_DB_PASSWORD=... MSDW_DB_PASSWORD=... \
#     bash docker/postgres-init/10-create-databases.sh
#
# Why the warehouse owner gets CREATEROLE: `msdw bootstrap` creates the five
# NOLOGIN group roles (msdw_loader, msdw_transformer, msdw_bi, msdw_auditor,
# msdw_pii_reader) and the jobs `SET ROLE` to them. On PostgreSQL 16+ a
# CREATEROLE user only gets SET/INHERIT on roles it creates when
# createrole_self_grant says so; we set that for the owner alone. The owner is
# not a superuser and cannot touch the Airflow database.
#
# Each password comes from its variable or, as compose passes them, from the file
# named by <VARIABLE>_FILE (a compose secret; the image reads POSTGRES_PASSWORD_FILE
# the same way). Passwords reach psql as variables and are quoted by format(%L):
# no password is ever spliced into SQL text by the shell.
#
# TEMPORARY: PUBLIC loses every database privilege below, TEMPORARY included. The
# warehouse's job roles that create temporary tables (the loader, dbt) get it back
# from `msdw bootstrap`, which creates those roles (plugins/msdw/sql/bootstrap/
# 11_temporary.sql) and then creates a temp table as each of them.
set -euo pipefail

file_env() {  # file_env VAR: VAR from ${VAR_FILE}'s content when VAR itself is unset
  local var="$1" file_var="${1}_FILE"
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    echo "postgres-init: both ${var} and ${file_var} are set; set one" >&2
    exit 1
  fi
  if [[ -n "${!file_var:-}" ]]; then
    [[ -r "${!file_var}" ]] || { echo "postgres-init: ${file_var}=${!file_var} is not readable" >&2; exit 1; }
    printf -v "${var}" '%s' "$(< "${!file_var}")"
  fi
}
file_env AIRFLOW_DB_PASSWORD
file_env MSDW_DB_PASSWORD

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD (or AIRFLOW_DB_PASSWORD_FILE) must be set (see .env.example)}"
: "${MSDW_DB_PASSWORD:?MSDW_DB_PASSWORD (or MSDW_DB_PASSWORD_FILE) must be set (see .env.example)}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
  --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_MAINTENANCE_DB:-postgres}" \
  -v airflow_user="${AIRFLOW_DB_USER:-airflow}" \
  -v airflow_password="${AIRFLOW_DB_PASSWORD}" \
  -v airflow_db="${AIRFLOW_DB_NAME:-airflow}" \
  -v msdw_user="${MSDW_DB_USER:-msdw}" \
  -v msdw_password="${MSDW_DB_PASSWORD}" \
  -v msdw_db="${MSDW_DB_NAME:-msdw}" <<'SQL'
-- login roles (created once; a later run never resets a rotated password)
select format('create role %I login password %L', :'airflow_user', :'airflow_password')
 where not exists (select 1 from pg_roles where rolname = :'airflow_user') \gexec
select format('create role %I login createrole password %L', :'msdw_user', :'msdw_password')
 where not exists (select 1 from pg_roles where rolname = :'msdw_user') \gexec

select current_setting('server_version_num')::int >= 160000 as pg16 \gset
\if :pg16
select format('alter role %I set createrole_self_grant = %L', :'msdw_user', 'set, inherit') \gexec
\endif

-- databases, each owned by its login role
select format('create database %I owner %I encoding %L template template0', :'airflow_db', :'airflow_user', 'UTF8')
 where not exists (select 1 from pg_database where datname = :'airflow_db') \gexec
-- the warehouse collates text by byte (code-point) order: same ORDER BY results as C.UTF-8,
-- sorts and text indexes ~2x faster (docs/performance.md §9; msdw.warehouse.create_database)
select format('create database %I owner %I encoding %L lc_collate %L template template0', :'msdw_db', :'msdw_user', 'UTF8', 'C')
 where not exists (select 1 from pg_database where datname = :'msdw_db') \gexec

-- nobody else may connect: BI and auditor logins get CONNECT explicitly (docs/runbook.md)
select format('revoke all on database %I from public', :'airflow_db') \gexec
select format('revoke all on database %I from public', :'msdw_db') \gexec
select format('grant all on database %I to %I', :'airflow_db', :'airflow_user') \gexec
select format('grant all on database %I to %I', :'msdw_db', :'msdw_user') \gexec
SQL

echo "postgres-init: databases '${AIRFLOW_DB_NAME:-airflow}' (owner ${AIRFLOW_DB_USER:-airflow}) and '${MSDW_DB_NAME:-msdw}' (owner ${MSDW_DB_USER:-msdw}) ready"
