# The platform's Airflow image: the official Airflow 3.3.2 image, extended
# (https://airflow.apache.org/docs/docker-stack/build.html, "extending the
# image") with the runtime lock and the msdw package — nothing else: no test,
# lint, demo or benchmark package (those are in requirements-dev.lock;
# tests/unit/test_locks.py checks the runtime lock holds none).
#
#   docker compose build   (airflow-init builds it; AIRFLOW_BASE_DIGEST comes from .env)
#   docker build --build-arg AIRFLOW_BASE_DIGEST=sha256:… -t msdw-airflow:0.1.0 .
#
# The base image is pinned by digest, so a re-pushed tag cannot change what is
# built: resolve it once (docs/deployment.md, "The image") and keep it in .env.
# Airflow and Python here must equal requirements.lock and pyproject.toml;
# tests/unit/test_compose.py fails when they drift. No secret is baked in:
# every credential arrives at run time as a compose secret file.
ARG AIRFLOW_BASE_DIGEST
FROM apache/airflow:3.3.2-python3.11@${AIRFLOW_BASE_DIGEST}

# pip installs as the airflow user into the image's virtualenv (never as root).
USER airflow
WORKDIR /opt/airflow

# 1. Dependencies: the runtime lock, pinned to the image's own Airflow version so
#    a lock/image mismatch fails the build instead of silently up- or downgrading
#    Airflow. Cached until the lock changes.
COPY --chown=airflow:0 requirements.lock /opt/airflow/requirements.lock
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.lock

# 2. The msdw package, installed (not editable) from its sources, which are then
#    removed: the code that runs is the code that was built. --no-deps: every
#    dependency came from the lock above.
COPY --chown=airflow:0 pyproject.toml /tmp/msdw-src/pyproject.toml
COPY --chown=airflow:0 plugins /tmp/msdw-src/plugins
RUN pip install --no-cache-dir --no-deps /tmp/msdw-src && rm -rf /tmp/msdw-src

# 3. What the DAGs read at run time: the DAG file, the dbt project, the suites,
#    and the helper scripts docker-compose.yml runs (init, secret-url).
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 dbt_project /opt/airflow/dbt_project
COPY --chown=airflow:0 expectations /opt/airflow/expectations
COPY --chown=airflow:0 docker/airflow-init.sh docker/secret-url /opt/airflow/docker/

# Runtime directories (named volumes copy this ownership on first use).
RUN mkdir -p /opt/airflow/msdw /opt/airflow/landing /opt/airflow/reports /opt/airflow/auth \
 && chmod -R g+rwX /opt/airflow/msdw /opt/airflow/landing /opt/airflow/reports /opt/airflow/auth

# Non-secret defaults of the platform; MSDW_PROJECT_DIR tells the installed package
# where dags/, dbt_project/ and expectations/ are (plugins/msdw/config.py).
ENV MSDW_PROJECT_DIR=/opt/airflow \
    MSDW_HOME=/opt/airflow/msdw \
    MSDW_LANDING=/opt/airflow/landing \
    MSDW_REPORTS_DIR=/opt/airflow/reports \
    DBT_TARGET_PATH=/opt/airflow/msdw/dbt/target \
    DBT_LOG_PATH=/opt/airflow/logs/dbt \
    AIRFLOW__CORE__LOAD_EXAMPLES=false \
    AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai
