#!/usr/bin/env bash
# Sets up redcat from a fresh clone: the locked environment in .venv and the dbt manifest.
set -euo pipefail
cd "$(dirname "$0")/.."

python=$(command -v python3.11 || command -v python3)
if ! "$python" -m uv --version >/dev/null 2>&1; then
  echo "==> installing uv (the lock-file tool)"
  "$python" -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
echo "==> installing the locked environment into .venv"
# --all-extras: the dev tools and the `spark` group (dbt-spark, pyspark: README, Scale out).
# --compile-bytecode: Python reads compiled modules even where PYTHONDONTWRITEBYTECODE forbids
# writing them (as on these machines); without them every process, each `redcat run` and dbt
# build included, compiles Dagster, dbt, pandas and GX from source: ~3 s more per start.
UV_PYTHON_DOWNLOADS=never "$python" -m uv sync --frozen --all-extras --compile-bytecode \
  --python "$python" --quiet
if ! command -v java >/dev/null; then
  echo "note: no java on PATH: the spark target (REDCAT_ENGINE=spark, pytest -m spark) needs Java 17"
fi
# Dagster reads the dbt manifest when it loads; build it here, not only under `dagster dev`.
echo "==> parsing the dbt project"
.venv/bin/dbt parse --profiles-dir profiles --target-path dbt_project/target --quiet
