#!/usr/bin/env bash
# One command from a fresh clone: set up, generate a month of sample dumps, run the pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

start=${REDCAT_DEMO_START:-2026-05-01}
end=${REDCAT_DEMO_END:-2026-05-31}
inbox=${REDCAT_INBOX:-data/inbox}
echo "==> generating sample dumps $start .. $end into $inbox"
.venv/bin/redcat generate --out "$inbox" --start "$start" --end "$end" --scale "${REDCAT_DEMO_SCALE:-1}"
echo "==> running the pipeline"
REDCAT_INBOX="$inbox" .venv/bin/redcat run --start "$start" --end "$end"
