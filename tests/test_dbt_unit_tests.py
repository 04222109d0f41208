"""The dbt unit tests (one yml per model, beside it): the rules' SQL on fixed inputs. The
pipeline's builds leave them out, as they test the code and not the data; CI runs them here,
on DuckDB (tests/test_spark.py runs them on Spark)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPOSITORY_ROOT


def test_every_dbt_unit_test_passes(examples_run, tmp_path: Path):
    # dbt reads the column types of a unit test's inputs from the warehouse: a built copy.
    warehouse = tmp_path / "redcat.duckdb"
    shutil.copy2(examples_run.warehouse, warehouse)
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "test", "--select", "resource_type:unit_test"]
        + ["--profiles-dir", "profiles", "--target-path", str(tmp_path / "target")]
        + ["--log-path", str(tmp_path / "logs")],
        cwd=REPOSITORY_ROOT,
        env=dict(os.environ, REDCAT_WAREHOUSE=str(warehouse), REDCAT_LAKE=str(examples_run.lake)),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert len(manifest["unit_tests"]) >= 11
    assert sorted(ran) == sorted(manifest["unit_tests"])
    assert set(ran.values()) == {"pass"}
