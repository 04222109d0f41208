#!/usr/bin/env bash
# One command from a fresh clone: set up, check style, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The campaign report's test opens the page in headless Chromium (a Debian package); the CJK
# font draws the campaign and KOL names.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  echo "==> installing chromium for the report test"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
echo "==> pytest"
.venv/bin/pytest "$@"
