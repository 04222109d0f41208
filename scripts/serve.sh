#!/usr/bin/env bash
# Runs redcat as a service: the Dagster webserver (UI on 127.0.0.1:3000) and the daemon
# (schedule, sensor, run queue, backfills) on a persistent instance in $DAGSTER_HOME.
# It ends when either of them ends, stopping the other, so a supervisor restarts both.
set -euo pipefail
cd "$(dirname "$0")/.."
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/data/dagster_home}
mkdir -p "$DAGSTER_HOME"
if [ ! -f "$DAGSTER_HOME/dagster.yaml" ]; then
    cp deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
elif ! cmp -s deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml"; then
    # Kept: it may hold local settings (Postgres storage); merge new ones from deploy/ by hand.
    echo "note: $DAGSTER_HOME/dagster.yaml differs from deploy/dagster.yaml" >&2
fi
.venv/bin/dbt parse --profiles-dir profiles --target-path dbt_project/target --quiet
.venv/bin/dagster-daemon run &
daemon=$!
.venv/bin/dagster-webserver --host "${REDCAT_UI_HOST:-127.0.0.1}" --port "${REDCAT_UI_PORT:-3000}" &
webserver=$!
trap 'kill $daemon $webserver 2>/dev/null || true' EXIT INT TERM
wait -n
