# The platform's Airflow image: the official Airflow 3.3.2 image, extended
# (https://airflow.apache.org/docs/docker-stack/build.html, "extending the
# image") with exactly the pins the venv and CI use, plus the msdw package.
#
#   docker compose build            (or: docker build -t msdw-airflow:0.1.0 .)
#
# Airflow and Python here must equal requirements.lock and pyproject.toml;
# tests/unit/test_compose.py fails when they drift. No secret is baked in:
# every credential arrives at run time from the environment (.env).
FROM apache/airflow:3.3.2-python3.11

# pip installs as the airflow user into the image's virtualenv (never as root).
USER airflow
WORKDIR /opt/airflow

# 1. Dependencies: the uv-generated lock, pinned to the image's own Airflow
#    version so a lock/image mismatch fails the build instead of silently
#    up- or downgrading Airflow. Cached until the lock changes.
COPY --chown=airflow:0 requirements.lock /opt/airflow/requirements.lock
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.lock

# 2. The msdw package, editable from /opt/airflow/plugins: config.py finds the
#    repository root (dags/, dbt_project/, expectations/) two levels above the
#    package, i.e. /opt/airflow, the same layout as the checkout. --no-deps:
#    every dependency came from the lock above.
COPY --chown=airflow:0 pyproject.toml /opt/airflow/pyproject.toml
COPY --chown=airflow:0 plugins /opt/airflow/plugins
RUN pip install --no-cache-dir --no-deps -e /opt/airflow

# 3. Everything the DAGs read at run time, so the image runs without a checkout
#    (compose bind-mounts the same directories over these for development).
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 dbt_project /opt/airflow/dbt_project
COPY --chown=airflow:0 expectations /opt/airflow/expectations
COPY --chown=airflow:0 docker/airflow-init.sh /opt/airflow/docker/airflow-init.sh

# Runtime directories (named volumes copy this ownership on first use).
RUN mkdir -p /opt/airflow/msdw /opt/airflow/landing /opt/airflow/reports /opt/airflow/auth \
 && chmod -R g+rwX /opt/airflow/msdw /opt/airflow/landing /opt/airflow/reports /opt/airflow/auth

# Non-secret defaults of the platform; secrets come from the environment only.
ENV MSDW_HOME=/opt/airflow/msdw \
    MSDW_LANDING=/opt/airflow/landing \
    MSDW_REPORTS_DIR=/opt/airflow/reports \
    DBT_TARGET_PATH=/opt/airflow/msdw/dbt/target \
    DBT_LOG_PATH=/opt/airflow/logs/dbt \
    AIRFLOW__CORE__LOAD_EXAMPLES=false \
    AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai
