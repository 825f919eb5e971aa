#!/usr/bin/env bash
# airflow-init: everything that must happen once before the Airflow services
# start, in order, failing loudly with what to fix. It runs as the same user as
# every service (AIRFLOW_UID, group 0) and changes no file it does not create:
# it checks the host directories, it never chowns them. Every step is
# idempotent, so `docker compose up` may run it on every start.
#
#   1. host directories: writable (logs, reports, state) or readable (landing) by this user
#   2. secrets: present, not a placeholder, well-formed (read as the services read them)
#   3. airflow db migrate                     (metadata database)
#   4. pools                                  (the "warehouse" pool the tasks use)
#   5. UI users for the configured auth manager
#   6. msdw bootstrap                         (warehouse schemas, roles, grants, audit and raw
#                                              tables; checks SET ROLE and TEMPORARY for the jobs)
set -euo pipefail

log() { printf 'airflow-init: %s\n' "$*"; }
die() { printf 'airflow-init: ERROR: %s\n' "$*" >&2; exit 1; }

uid="$(id -u)"
gid="$(id -g)"

# --- 1. host directories: checked, never chowned ----------------------------------------
# Derived from the variables the services read, so the script and the compose
# file cannot disagree on a path. A chown here would fail on a root-squashed NFS
# landing zone and would take the source systems' files from their owner; the
# operator fixes ownership once, on the host, with the command printed below.
AIRFLOW_HOME="${AIRFLOW_HOME:-/opt/airflow}"
writable=("${AIRFLOW_HOME}/logs" "${MSDW_HOME:?}" "${MSDW_REPORTS_DIR:?}")
if [[ -n "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-}" ]]; then
  writable+=("$(dirname "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}")")
fi
readable=()
# a local landing zone is a directory to read; object storage (s3://...) is not
[[ "${MSDW_LANDING:?}" == *://* && "${MSDW_LANDING}" != file://* ]] || readable+=("${MSDW_LANDING#file://}")

problems=()
describe() { stat -c 'owner %u:%g, mode %a' "$1" 2>/dev/null || echo "missing"; }
for d in "${writable[@]}"; do
  probe="${d}/.airflow-init-write-probe.$$"
  if [[ -d "${d}" ]] && ( : > "${probe}" ) 2>/dev/null; then
    rm -f "${probe}"
  else
    problems+=("${d} ($(describe "${d}")) is not writable by uid ${uid} gid ${gid}: on the host, chown its directory to ${uid}:0 (sudo chown -R ${uid}:0 <host dir>) or set AIRFLOW_UID in .env to its owner")
  fi
done
for d in "${readable[@]}"; do
  if ! { [[ -d "${d}" ]] && ls "${d}" >/dev/null 2>&1; }; then
    problems+=("${d} ($(describe "${d}")) is not readable by uid ${uid} gid ${gid}: the landing zone must be readable (and listable) by the workers; grant read access to ${uid} or group 0 on the host — its files keep their owner")
  fi
done
if ((${#problems[@]})); then
  for p in "${problems[@]}"; do printf 'airflow-init: ERROR: %s\n' "${p}" >&2; done
  exit 1
fi
log "directories: ${writable[*]} writable, ${readable[*]:-no local landing zone} readable by ${uid}:${gid}"

# --- 2. secrets -----------------------------------------------------------------------
# The secrets this service mounts, read the way the services read them: the
# variable itself, else its *_CMD (Airflow: the command's output) or *_FILE (the
# platform: the file's content). A missing, empty or placeholder ("change-me")
# value stops here with its name; a service that lacks a secret it mounts fails
# at start naming the file (docker/secret-url, `cat`).
python - <<'PY'
import os, shlex, subprocess, sys

def value(var):
    if os.environ.get(var):
        return os.environ[var], var
    cmd = os.environ.get(f"{var}_CMD")
    if cmd:
        res = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
        if res.returncode:
            sys.exit(f"airflow-init: ERROR: {var}_CMD failed: {res.stderr.strip() or res.returncode}")
        return res.stdout.rstrip("\n"), f"{var}_CMD"
    path = os.environ.get(f"{var}_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read().rstrip(), f"{var}_FILE ({path})"
        except OSError as exc:
            sys.exit(f"airflow-init: ERROR: {var}_FILE={path}: {exc.strerror}")
    return "", var

required = ["AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "MSDW_WAREHOUSE_DSN", "MSDW_PII_HMAC_KEY", "_AIRFLOW_WWW_USER_PASSWORD"]
optional = ["MSDW_WAREHOUSE_PASSWORD"]
for var in required + optional:
    v, source = value(var)
    if not v and var in required:
        sys.exit(f"airflow-init: ERROR: {var} is not set (nor {var}_CMD / {var}_FILE): see .env.example and docker/make-secrets.sh")
    if "change-me" in v:
        sys.exit(f"airflow-init: ERROR: {source} still contains the .env.example placeholder 'change-me'")
    if var == "MSDW_PII_HMAC_KEY" and len(v) < 32:
        sys.exit(f"airflow-init: ERROR: {source} is shorter than 32 characters (docker/make-secrets.sh makes one)")
    if var == "AIRFLOW__CORE__FERNET_KEY":
        from cryptography.fernet import Fernet
        try:
            Fernet(v)
        except Exception:
            sys.exit(f"airflow-init: ERROR: {source} is not a Fernet key (32 url-safe base64-encoded bytes)")
PY

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
    # The simple auth manager reads passwords from a JSON file; write it from the
    # secret so no random password is printed to the logs, readable by this user only.
    passwords_file="$(airflow config get-value core simple_auth_manager_passwords_file)"
    mkdir -p "$(dirname "${passwords_file}")"
    (
      umask 077
      python - "${passwords_file}" "${username}" <<'PY'
import json, os, shlex, subprocess, sys
path, user = sys.argv[1], sys.argv[2]
value = os.environ.get("_AIRFLOW_WWW_USER_PASSWORD") or subprocess.run(
    shlex.split(os.environ["_AIRFLOW_WWW_USER_PASSWORD_CMD"]), capture_output=True, text=True, check=True
).stdout.rstrip("\n")
tmp = f"{path}.tmp"
with open(tmp, "w", encoding="utf-8") as fh:
    json.dump({user: value}, fh)
    fh.write("\n")
os.replace(tmp, path)
PY
    )
    log "simple auth manager: user '${username}' (role from AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS)"
    ;;
  *FabAuthManager)
    # Only when the fab provider is installed and selected (docs/deployment.md).
    if airflow users list -o plain 2>/dev/null | awk '{print $2}' | grep -qx "${username}"; then
      log "FAB user '${username}' exists"
    else
      password="${_AIRFLOW_WWW_USER_PASSWORD:-$(eval "${_AIRFLOW_WWW_USER_PASSWORD_CMD}")}"
      airflow users create --role Admin --username "${username}" --password "${password}" \
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

log "done"
