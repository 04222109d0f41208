"""The same marts on Spark (README: Scale out): dbt's spark target on a local Spark session
reads the lake the pipeline wrote and must give DuckDB's marts, column by column.

Two datasets, one Spark dbt build each (a Spark session starts in ~15 s, and Spark takes
~0.3 s a query however small): the contract examples, run again through the real pipeline
with REDCAT_ENGINE=spark (ingestion finds its files loaded, the gates pass, dbt builds every
model and runs every data test on Spark, publication is skipped), and 40 generated days (the
campaign report's), run on DuckDB by the pipeline and built from their lake by `dbt build
--target spark`, with the unit tests. Spark's marts are read back from their Parquet folders
<warehouse>/marts.db/<model>/ with DuckDB, as any engine would read them, and compared with
DuckDB's.

Marked `spark` (deselect locally with `-m "not spark"`); CI runs it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import EXAMPLE_END, EXAMPLE_START, REPOSITORY_ROOT, Workspace

CONTRACT_MARTS = {
    "fct_clicks",
    "fct_orders",
    "fct_note_daily",
    "mart_campaign_roi",
    "mart_note_windows",
    "mart_kol_performance",
    "mart_conversion_lag",
}
RATIO_TOLERANCE = 1e-9


def spark_build(lake: Path, spark_warehouse: Path, scratch: Path, *arguments: str) -> None:
    """`dbt build --target spark` over a lake, as an analyst would run it."""
    environment = dict(
        os.environ,
        REDCAT_LAKE=str(lake),
        REDCAT_SPARK_WAREHOUSE=str(spark_warehouse),
    )
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--target", "spark"]
        + ["--profiles-dir", "profiles", "--target-path", str(scratch / "target")]
        + ["--log-path", str(scratch / "logs"), *arguments],
        cwd=REPOSITORY_ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    summary = [line for line in completed.stdout.splitlines() if "WARN SparkSession" not in line]
    assert completed.returncode == 0, "\n".join(summary[-60:])


def compare_marts(duckdb_file: Path, marts_db: Path) -> list[str]:
    """Every mart of the DuckDB file against the Parquet table Spark wrote: the same tables,
    columns (names, order, types as DuckDB reads them) and rows; money and counts exactly,
    ratios to 1e-9. Returns the marts compared."""
    with duckdb.connect() as connection:
        connection.execute(f"ATTACH '{duckdb_file}' AS wh (READ_ONLY)")
        names = sorted(
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE database_name = 'wh' AND schema_name = 'marts'"
            ).fetchall()
        )
        spark_tables = sorted(p.name for p in marts_db.iterdir() if p.is_dir())
        assert names == spark_tables
        assert set(names) >= CONTRACT_MARTS
        for name in names:
            duck = connection.sql(f"SELECT * FROM wh.marts.{name}")
            spark = connection.sql(f"SELECT * FROM read_parquet('{marts_db / name}/*.parquet')")
            duck_types = [(c, str(t)) for c, t in zip(duck.columns, duck.types, strict=True)]
            spark_types = [(c, str(t)) for c, t in zip(spark.columns, spark.types, strict=True)]
            assert spark_types == duck_types, name
            # Each build stamps what it derives (derived_at): the two builds' stamps differ.
            data = [(c, t) for c, t in duck_types if c != "derived_at"]
            listed = ", ".join(f'"{c}"' for c, _ in data)
            duck_rows = connection.sql(f"SELECT {listed} FROM wh.marts.{name}").fetchall()
            spark_rows = connection.sql(
                f"SELECT {listed} FROM read_parquet('{marts_db / name}/*.parquet')"
            ).fetchall()
            _assert_same_rows(name, data, duck_rows, spark_rows)
    return names


def _assert_same_rows(name, columns, duck_rows, spark_rows) -> None:
    assert len(spark_rows) == len(duck_rows), name
    ratios = [i for i, (_, sql_type) in enumerate(columns) if sql_type == "DOUBLE"]

    def key(row):  # the grain is in the exact columns; NULLs first
        return tuple((row[i] is not None, row[i]) for i in range(len(row)) if i not in ratios)

    for duck_row, spark_row in zip(
        sorted(duck_rows, key=key), sorted(spark_rows, key=key), strict=True
    ):
        for (column, _), duck_value, spark_value in zip(columns, duck_row, spark_row, strict=True):
            where = f"{name}.{column} in {duck_row}"
            if isinstance(duck_value, float) and spark_value is not None:
                assert math.isclose(
                    spark_value, duck_value, rel_tol=RATIO_TOLERANCE, abs_tol=RATIO_TOLERANCE
                ), where
            else:  # money (Decimal), counts, ids, dates, instants, flags: exactly
                assert spark_value == duck_value, where
                assert type(spark_value) is type(duck_value), where


@pytest.fixture(scope="module")
def examples_on_spark(examples_run: Workspace, tmp_path_factory) -> Workspace:
    """A copy of the examples' run (the shared one stays untouched) run again through the
    pipeline with REDCAT_ENGINE=spark: its files are loaded, the gates pass again, dbt builds
    every model and runs every data test on Spark, and the publication is skipped."""
    from orchestration.run import run_pipeline

    space = Workspace(tmp_path_factory.mktemp("examples_spark"))
    space.copy_state_from(examples_run)
    published = space.published.stat().st_mtime_ns
    with pytest.MonkeyPatch.context() as patch:
        for name, value in space.environment().items():
            patch.setenv(name, value)
        for name in ("REDCAT_BUYER_KEY_SECRET", "REDCAT_ENV"):
            patch.delenv(name, raising=False)
        patch.setenv("REDCAT_ENGINE", "spark")
        patch.setenv("REDCAT_SPARK_WAREHOUSE", str(space.root / "spark-warehouse"))
        with space.instance() as instance:
            outcome = run_pipeline(
                date.fromisoformat(EXAMPLE_START), date.fromisoformat(EXAMPLE_END), instance
            )
    assert outcome.success, outcome.failures
    # The DuckDB file is for DuckDB users: a Spark run leaves it as it was.
    assert space.published.stat().st_mtime_ns == published
    return space


@pytest.fixture(scope="module")
def generated_on_spark(generated_run: Workspace, tmp_path_factory) -> Path:
    """The lake of 40 generated days (a small brand, which the pipeline built on DuckDB) built
    by `dbt build --target spark` with its models, seeds and unit tests (which the pipeline
    leaves to CI); its marts' folder. Not its data tests: they ran on Spark with the examples,
    and the comparison with DuckDB's marts, which passed them on these days, checks every row
    (Spark takes ~0.3 s a query, so the 110 data tests would double the build)."""
    scratch = tmp_path_factory.mktemp("generated_spark")
    spark_build(
        generated_run.lake,
        scratch / "spark-warehouse",
        scratch,
        "--exclude-resource-type",
        "test",
        # The incremental unit tests (int_orders_latest, int_click_totals): Spark builds
        # those models as tables.
        "--exclude",
        "tag:duckdb_incremental",
    )
    return scratch / "spark-warehouse" / "marts.db"


@pytest.mark.spark
def test_examples_marts_equal_on_spark(examples_run, examples_on_spark):
    marts = examples_on_spark.root / "spark-warehouse" / "marts.db"
    compared = compare_marts(examples_run.warehouse, marts)
    assert len(compared) >= len(CONTRACT_MARTS)


@pytest.mark.spark
def test_examples_spark_figures(examples_on_spark):
    """A few of EXPECTED.md's figures read straight from Spark's Parquet."""
    marts = examples_on_spark.root / "spark-warehouse" / "marts.db"
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"""SELECT campaign_id, total_cost, gmv_t7
                FROM read_parquet('{marts}/mart_campaign_roi/*.parquet') ORDER BY 1"""
        ).fetchall()
    assert rows == [
        ("cmp_0001", Decimal("11320.50"), Decimal("897.00")),
        ("cmp_0002", Decimal("2340.00"), Decimal("899.00")),
    ]


@pytest.mark.spark
def test_generated_days_marts_equal_on_spark(generated_run, generated_on_spark):
    compare_marts(generated_run.warehouse, generated_on_spark)
    with duckdb.connect() as connection:
        (orders,) = connection.execute(
            f"SELECT count(*) FROM read_parquet('{generated_on_spark}/fct_orders/*.parquet')"
        ).fetchone()
    assert orders > 100  # 40 days of a small brand, not an empty table


def test_raw_source_types_are_the_lakes():
    """The dbt sources declare the lake's columns and types (Spark reads the lake with them):
    those ingestion writes (orchestration/lib/source_spec.py, orchestration/lib/lake.py)."""
    from orchestration.defs.ingestion.sources import SOURCES
    from orchestration.lib import lake
    from orchestration.lib.source_spec import RAW_META_COLUMNS

    spark_name = {
        "VARCHAR": "string",
        "BIGINT": "bigint",
        "DATE": "date",
        "TIMESTAMPTZ": "timestamp",
    }

    def portable(columns) -> dict[str, str]:
        return {name: spark_name.get(sql_type, sql_type.lower()) for name, sql_type in columns}

    declared = yaml.safe_load(
        (REPOSITORY_ROOT / "dbt_project/models/staging/_raw__sources.yml").read_text("utf-8")
    )
    tables = {
        (source["name"], table["name"]): {c["name"]: c["data_type"] for c in table["columns"]}
        for source in declared["sources"]
        for table in source["tables"]
    }
    for spec in SOURCES:
        expected = portable((*RAW_META_COLUMNS, *spec.stored_columns))
        assert tables["raw", spec.name] == expected, spec.name
    assert tables["audit", "file_ledger"] == portable(lake.LEDGER_COLUMNS)
    assert tables["audit", "quarantine"] == portable(lake.QUARANTINE_COLUMNS)


def test_engine_setting(monkeypatch: pytest.MonkeyPatch):
    from orchestration.lib.settings import ConfigurationError, Settings

    monkeypatch.delenv("REDCAT_ENGINE", raising=False)
    monkeypatch.delenv("REDCAT_SPARK_WAREHOUSE", raising=False)
    assert Settings.from_env().engine == "duckdb"
    assert Settings.from_env().spark_warehouse == Path("data/spark-warehouse").resolve()
    monkeypatch.setenv("REDCAT_ENGINE", "Spark")
    assert Settings.from_env().engine == "spark"
    monkeypatch.setenv("REDCAT_ENGINE", "sprak")
    with pytest.raises(ConfigurationError, match="REDCAT_ENGINE='sprak' is not one of duckdb"):
        Settings.from_env()
