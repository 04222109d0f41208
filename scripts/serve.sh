#!/usr/bin/env bash
# Runs redcat as a service: the Dagster webserver (UI on 127.0.0.1:3000) and the daemon
# (schedule, sensor, run queue, backfills) on a persistent instance in $DAGSTER_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/data/dagster_home}
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
.venv/bin/dbt parse --profiles-dir profiles --target-path dbt_project/target --quiet
.venv/bin/dagster-daemon run &
daemon=$!
trap 'kill $daemon' EXIT
.venv/bin/dagster-webserver --host "${REDCAT_UI_HOST:-127.0.0.1}" --port "${REDCAT_UI_PORT:-3000}"
