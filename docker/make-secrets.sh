#!/usr/bin/env bash
# Create the secret files docker-compose.yml mounts (compose `secrets:`), once.
#
#   bash docker/make-secrets.sh            # → ./secrets/<name>, one value per file
#   bash docker/make-secrets.sh DIR        # elsewhere (MSDW_SECRETS_DIR in .env must then name DIR)
#
# Only missing files are created, so re-running never changes a secret in use
# (rotating one: docs/runbook.md, "Rotate a secret"). The directory is private to
# the operator (0700); the files are 0644 because each container reads its secrets
# as its own user (postgres as uid 999, Airflow as AIRFLOW_UID) and compose mounts
# a file secret with its host mode. Nothing is printed but the file names.
set -euo pipefail

dir="${1:-./secrets}"
umask 077
mkdir -p "${dir}"
chmod 0700 "${dir}"

hex() { printf '%s' "$(openssl rand -hex 32)"; }
# a Fernet key: 32 random bytes, url-safe base64
fernet() { printf '%s' "$(openssl rand -base64 32 | tr '+/' '-_')"; }

made=()
put() {  # put NAME GENERATOR: create ${dir}/NAME from GENERATOR's output unless it exists
  local name="$1" generator="$2" file="${dir}/$1"
  [[ -e "${file}" ]] && return 0
  "${generator}" > "${file}.tmp"
  chmod 0644 "${file}.tmp"
  mv "${file}.tmp" "${file}"
  made+=("${name}")
}
empty() { :; }

put postgres_password hex          # superuser of the postgres container (DBAs only)
put airflow_db_password hex        # owner of the Airflow metadata database
put msdw_db_password hex           # owner of the warehouse database
put redis_password hex             # Celery broker
put airflow_fernet_key fernet      # encrypts connections and variables: losing it loses them
put airflow_jwt_secret hex         # signs task tokens of the Execution API
put airflow_api_secret_key hex     # signs log-server requests and UI sessions
put airflow_admin_password hex     # UI administrator (_AIRFLOW_WWW_USER_USERNAME)
put pii_hmac_key hex               # pseudonyms of personal data: changing it breaks continuity
put alert_webhook_url empty        # optional: the alert robot's URL (it carries a key); empty = none

if ((${#made[@]})); then
  echo "make-secrets: created ${made[*]} in ${dir}"
else
  echo "make-secrets: every secret already exists in ${dir}; nothing changed"
fi
echo "make-secrets: set the alert webhook (optional) with: printf '%s' 'https://…' > ${dir}/alert_webhook_url"
