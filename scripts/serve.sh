#!/usr/bin/env bash
# Runs redcat as a service: the Dagster webserver (UI on 127.0.0.1:3000) and the daemon
# (schedule, sensor, run queue, backfills) on the persistent instance in $DAGSTER_HOME, the
# one `redcat run` and scripts/demo.sh use (default data/dagster_home; set up on first use).
# It ends when either of them ends, stopping the other, so a supervisor restarts both.
set -euo pipefail
cd "$(dirname "$0")/.."
DAGSTER_HOME=$(.venv/bin/python -m orchestration.dagster_home)
export DAGSTER_HOME
.venv/bin/dbt parse --profiles-dir profiles --target-path dbt_project/target --quiet
.venv/bin/dagster-daemon run &
daemon=$!
.venv/bin/dagster-webserver --host "${REDCAT_UI_HOST:-127.0.0.1}" --port "${REDCAT_UI_PORT:-3000}" &
webserver=$!
trap 'kill $daemon $webserver 2>/dev/null || true' EXIT INT TERM
wait -n
