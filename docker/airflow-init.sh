#!/usr/bin/env bash
# airflow-init: everything that must happen once before the Airflow services
# start, in order, failing loudly. Runs as root (user "0:0" in
# docker-compose.yml) only so it can hand the runtime directories to
# AIRFLOW_UID; every step is idempotent, so `docker compose up` may run it on
# every start.
#
#   1. refuse placeholder or missing secrets
#   2. create and chown the runtime directories (logs, landing, reports, state)
#   3. airflow db migrate                     (metadata database)
#   4. pools                                  (the "warehouse" pool the tasks use)
#   5. UI users for the configured auth manager
#   6. msdw bootstrap                         (warehouse schemas, roles, audit, raw tables)
set -euo pipefail

log() { printf 'airflow-init: %s\n' "$*"; }
die() { printf 'airflow-init: ERROR: %s\n' "$*" >&2; exit 1; }

AIRFLOW_UID="${AIRFLOW_UID:-50000}"

# --- 1. secrets ---------------------------------------------------------------
# .env.example ships "change-me" placeholders; starting with one is a mistake.
for var in AIRFLOW__CORE__FERNET_KEY AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY \
           MSDW_PII_HMAC_KEY MSDW_WAREHOUSE_DSN AIRFLOW__DATABASE__SQL_ALCHEMY_CONN \
           AIRFLOW__CELERY__BROKER_URL _AIRFLOW_WWW_USER_PASSWORD; do
  value="${!var:-}"
  [[ -n "${value}" ]] || die "${var} is empty: set it in .env (see .env.example)"
  [[ "${value}" != *change-me* ]] || die "${var} still contains the .env.example placeholder 'change-me'"
done
(( ${#MSDW_PII_HMAC_KEY} >= 32 )) || die "MSDW_PII_HMAC_KEY is shorter than 32 characters (use: openssl rand -hex 32)"

# --- 2. runtime directories -----------------------------------------------------
# Derived from the same variables the services read, so the script and the
# compose file cannot disagree on a path.
AIRFLOW_HOME="${AIRFLOW_HOME:-/opt/airflow}"
runtime_dirs=("${AIRFLOW_HOME}/logs" "${MSDW_HOME:?}" "${MSDW_REPORTS_DIR:?}")
# a local landing zone is a directory to own; object storage (s3://...) is not
[[ "${MSDW_LANDING:?}" == *://* && "${MSDW_LANDING}" != file://* ]] || runtime_dirs+=("${MSDW_LANDING#file://}")
if [[ -n "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-}" ]]; then
  runtime_dirs+=("$(dirname "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}")")
fi
mkdir -p "${runtime_dirs[@]}"

# --- 3. metadata database -------------------------------------------------------
log "Airflow $(airflow version)"
log "migrating the metadata database"
airflow db migrate

# --- 4. pools -------------------------------------------------------------------
# Every warehouse task runs in this pool: it caps concurrent warehouse
# connections whatever the number of workers (docs/deployment.md, "Pools").
airflow pools set warehouse "${MSDW_WAREHOUSE_POOL_SLOTS:-4}" \
  "Concurrent warehouse connections of msdw tasks" >/dev/null
log "pool warehouse = ${MSDW_WAREHOUSE_POOL_SLOTS:-4} slots"

# --- 5. UI users ----------------------------------------------------------------
auth_manager="$(airflow config get-value core auth_manager)"
username="${_AIRFLOW_WWW_USER_USERNAME:-admin}"
case "${auth_manager}" in
  *SimpleAuthManager)
    # The simple auth manager reads passwords from a JSON file; write it from
    # .env so no random password is printed to the logs, readable by AIRFLOW_UID only.
    passwords_file="$(airflow config get-value core simple_auth_manager_passwords_file)"
    mkdir -p "$(dirname "${passwords_file}")"
    umask 077
    python - "${passwords_file}" "${username}" <<'PY'
import json, os, sys
path, user = sys.argv[1], sys.argv[2]
with open(path, "w", encoding="utf-8") as fh:
    json.dump({user: os.environ["_AIRFLOW_WWW_USER_PASSWORD"]}, fh)
    fh.write("\n")
PY
    umask 022
    chown "${AIRFLOW_UID}:0" "${passwords_file}"
    log "simple auth manager: user '${username}' (role from AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS)"
    ;;
  *FabAuthManager)
    # Only when the fab provider is installed and selected (docs/deployment.md).
    if airflow users list -o plain 2>/dev/null | awk '{print $2}' | grep -qx "${username}"; then
      log "FAB user '${username}' exists"
    else
      airflow users create --role Admin --username "${username}" --password "${_AIRFLOW_WWW_USER_PASSWORD}" \
        --firstname Admin --lastname MSDW --email "${_AIRFLOW_WWW_USER_EMAIL:-admin@example.invalid}"
    fi
    ;;
  *)
    log "auth manager ${auth_manager}: users are managed by it, none created here"
    ;;
esac

# --- 6. warehouse ---------------------------------------------------------------
log "bootstrapping the warehouse"
msdw bootstrap

chown -R "${AIRFLOW_UID}:0" "${runtime_dirs[@]}"
log "done"
