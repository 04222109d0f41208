#!/usr/bin/env bash
# One command from a fresh clone: set up, generate 75 days of sample dumps (long enough for
# mature T+30 windows), run the pipeline on the instance the UI shows, write the report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

start=${REDCAT_DEMO_START:-2026-03-01}
end=${REDCAT_DEMO_END:-2026-05-14}
inbox=${REDCAT_INBOX:-data/inbox}
# The partitions start at the sample's first day (scripts/serve.sh needs the same value).
export REDCAT_FIRST_DUMP_DATE=${REDCAT_FIRST_DUMP_DATE:-$start}
echo "==> generating sample dumps $start .. $end into $inbox"
.venv/bin/redcat generate --out "$inbox" --start "$start" --end "$end" --scale "${REDCAT_DEMO_SCALE:-1}"
echo "==> running the pipeline"
REDCAT_INBOX="$inbox" .venv/bin/redcat run --start "$start" --end "$end"
echo "==> the campaign report"
.venv/bin/redcat report
echo "==> the runs, partitions and checks in the Dagster UI: scripts/serve.sh, then http://127.0.0.1:3000"
