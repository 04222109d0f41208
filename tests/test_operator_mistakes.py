"""Operator mistakes (issue 8, items 1 and 7): a bad setting stops `redcat run` in seconds with
one line naming it, and no run, mistyped path or smaller warehouse replaces the analysts' file
with less than it holds unless the operator says so."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingestion.sources import SOURCES_BY_NAME
from orchestration.lib import lake
from orchestration.lib.loading import file_sha256, move_warehouse_tables_into_lake, stage_dumps
from orchestration.lib.publication import (
    PublicationRefused,
    publish,
    refuse_new_warehouse_over_published,
)
from orchestration.lib.settings import DEVELOPMENT_BUYER_KEY_SECRET, ConfigurationError, Settings
from orchestration.lib.warehouse import connect
from tests.conftest import EXAMPLE_END, EXAMPLE_START, REPOSITORY_ROOT, Workspace

REDCAT = Path(sys.executable).parent / "redcat"
# dagster-dbt gives each dbt command a target folder of its own, named after the run.
DBT_INVOCATIONS = REPOSITORY_ROOT / "target"
# What a run of the first example day alone lacks of the published examples.
LOST_DAY = ", ".join(
    f"{source} {EXAMPLE_END}"
    for source in (
        "jd_orders",
        "rednote_campaigns",
        "rednote_clicks",
        "rednote_note_metrics",
        "redstar_funnel",
        "tmall_orders",
    )
)


def _redcat_run(*arguments: str, **settings: str) -> subprocess.CompletedProcess:
    """`redcat run` over the first example day, as an operator starts it."""
    return subprocess.run(
        [str(REDCAT), "run", "--start", EXAMPLE_START, "--end", EXAMPLE_START, *arguments],
        env=dict(os.environ, **settings),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _warehouse_id(space: Workspace) -> str:
    return space.query("SELECT warehouse_id FROM audit.warehouse_identity")[0][0]


def _published_deliveries(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            """SELECT file_count FROM audit.published_snapshot
               ORDER BY published_at DESC LIMIT 1"""
        ).fetchone()[0]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "REDCAT_MAX_QUARANTINE_SHARE",
            "abc",
            "redcat: REDCAT_MAX_QUARANTINE_SHARE='abc' is not a share between 0 and 1 (e.g. 0.01)",
        ),
        ("REDCAT_ENV", "prod", "redcat: REDCAT_ENV='prod' is not one of development, production"),
        ("REDCAT_ENV", "production", "redcat: REDCAT_BUYER_KEY_SECRET is not set"),
        ("REDCAT_WAREHOSE", "data/warehouse/redcat.duckdb", "(did you mean REDCAT_WAREHOUSE?)"),
        ("REDCAT_INBOX", "{root}/no such inbox", "redcat: REDCAT_INBOX='{root}/no such inbox'"),
        ("REDCAT_DUCKDB_MEMORY_LIMIT", "lots", "is not a DuckDB memory size (e.g. 512MB or 2GB)"),
        ("REDCAT_DUCKDB_MEMORY_LIMIT", "1MB", "MEMORY_LIMIT='1MB' is less than 128MB"),
        ("REDCAT_DUCKDB_THREADS", "0", "REDCAT_DUCKDB_THREADS='0' is not a whole number of 1"),
        ("REDCAT_ALLOW_SMALLER_PUBLICATION", "maybe", "is not one of 1, true, yes, 0, false, no"),
        ("REDCAT_PUBLISHED", "{root}/warehouse/redcat.duckdb", "is REDCAT_WAREHOUSE"),
    ],
)
def test_a_bad_setting_stops_redcat_run_in_seconds_with_one_line(
    workspace, variable, value, expected
):
    workspace.copy_examples()
    started = time.monotonic()
    result = _redcat_run(**{variable: value.format(root=workspace.root)})

    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert expected.format(root=workspace.root) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not workspace.warehouse.exists()  # nothing was loaded


def test_a_mistyped_warehouse_beside_a_published_file_stops_before_any_work(
    workspace, examples_run, monkeypatch
):
    workspace.copy_state_from(examples_run)
    published = file_sha256(workspace.published)
    mistyped = workspace.warehouse.with_name("redact.duckdb")

    result = _redcat_run(REDCAT_WAREHOUSE=str(mistyped))

    assert result.returncode == 2
    assert result.stderr.startswith(f"redcat: REDCAT_WAREHOUSE='{mistyped}' does not exist, but")
    assert "REDCAT_ALLOW_SMALLER_PUBLICATION=1" in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not mistyped.exists()
    assert file_sha256(workspace.published) == published

    # Starting a new warehouse on purpose: the operator says so.
    monkeypatch.setenv("REDCAT_WAREHOUSE", str(mistyped))
    monkeypatch.setenv("REDCAT_ALLOW_SMALLER_PUBLICATION", "1")
    refuse_new_warehouse_over_published(Settings.from_env())


def test_a_mistyped_lake_beside_a_published_file_stops_before_any_work(workspace, examples_run):
    workspace.copy_state_from(examples_run)
    mistyped = workspace.root / "lak"

    result = _redcat_run(REDCAT_LAKE=str(mistyped))

    assert result.returncode == 2
    assert result.stderr.startswith(f"redcat: REDCAT_LAKE='{mistyped}' holds no delivery, but")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not mistyped.exists()


def test_a_snapshot_of_another_warehouse_does_not_replace_the_published_file(
    workspace, examples_run
):
    workspace.copy_state_from(examples_run)
    published = file_sha256(workspace.published)
    # The same deliveries, loaded into another warehouse: it does not descend from the file.
    with connect(workspace.warehouse) as warehouse:
        warehouse.execute("UPDATE audit.warehouse_identity SET warehouse_id = 'another'")

    with pytest.raises(PublicationRefused, match="comes from another warehouse"):
        publish(Settings.from_env())
    assert file_sha256(workspace.published) == published


@pytest.fixture
def odd_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace under a folder whose name has a space, an apostrophe and Chinese."""
    space = Workspace(tmp_path / "brand's 数据 仓库")
    for name, value in space.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDCAT_BUYER_KEY_SECRET", raising=False)
    monkeypatch.delenv("REDCAT_ENV", raising=False)
    return space


def test_a_one_day_run_on_a_new_warehouse_never_replaces_the_published_file_with_less(
    odd_workspace, examples_run, monkeypatch
):
    odd_workspace.copy_examples()
    odd_workspace.published.parent.mkdir(parents=True)
    shutil.copy2(examples_run.published, odd_workspace.published)
    published = file_sha256(odd_workspace.published)
    # A new, empty warehouse and a lake with one delivery of the day: past the checks before
    # any work, as wrong paths that exist are.
    with connect(odd_workspace.warehouse):
        pass
    stage_dumps(
        SOURCES_BY_NAME["rednote_campaigns"],
        [date.fromisoformat(EXAMPLE_START)],
        Settings.from_env(),
    )

    result = _redcat_run(DAGSTER_HOME=str(odd_workspace.dagster_home))

    assert result.returncode == 1
    assert result.stdout.startswith(
        f"warehouse: {odd_workspace.warehouse}\ninbox:     {odd_workspace.inbox}\n"
        f"published: {odd_workspace.published}\n"
    )
    summary = result.stderr[result.stderr.index("redcat run FAILED") :].splitlines()
    assert summary[1:] == [
        "  - published__analytics_snapshot: publication refused: the new snapshot comes from "
        f"another warehouse ({odd_workspace.warehouse}) than the published file's "
        f"({examples_run.warehouse}) and would drop 6 of 12 deliveries the published file holds "
        f"({LOST_DAY}); set REDCAT_ALLOW_SMALLER_PUBLICATION=1 (or redcat run "
        "--allow-smaller-publication) to publish it anyway",
        f"the published file is as it was: {odd_workspace.published}",
    ]
    # Refused on purpose: the console shows the refusal, not Dagster's stack traces or class
    # names, and the run's failure line does not repeat it.
    assert "Stack Trace" not in result.stderr and "dagster._core" not in result.stderr
    assert result.stderr.count("publication refused") == 2  # the step's failure, the summary
    assert file_sha256(odd_workspace.published) == published

    # Two runs (this one and the shared examples run) leave no dbt artifacts behind.
    run_id = re.search(r"redcat run FAILED \(run ([0-9a-f-]+)\)", summary[0]).group(1)
    with examples_run.instance() as instance:
        run_ids = [run.run_id for run in instance.get_runs()] + [run_id]
    assert [path for r in run_ids for path in DBT_INVOCATIONS.glob(f"*-{r[:7]}-*")] == []

    # Of the same warehouse, a snapshot with fewer deliveries is refused all the same.
    with connect(odd_workspace.warehouse) as warehouse:
        warehouse.execute(
            "UPDATE audit.warehouse_identity SET warehouse_id = ?", [_warehouse_id(examples_run)]
        )
    with pytest.raises(PublicationRefused) as refused:
        publish(Settings.from_env())
    assert str(refused.value) == (
        "publication refused: the new snapshot would drop 6 of 12 deliveries the published "
        f"file holds ({LOST_DAY}); set REDCAT_ALLOW_SMALLER_PUBLICATION=1 (or redcat run "
        "--allow-smaller-publication) to publish it anyway"
    )
    assert file_sha256(odd_workspace.published) == published
    assert list(odd_workspace.published.parent.glob(".*.building*")) == []

    monkeypatch.setenv("REDCAT_ALLOW_SMALLER_PUBLICATION", "yes")
    assert publish(Settings.from_env()).file_count == 6
    assert _published_deliveries(odd_workspace.published) == 6


def test_the_published_file_carries_the_benchmark_seeds_and_its_warehouse(examples_run):
    with duckdb.connect(str(examples_run.published), read_only=True) as published:
        benchmarks = published.execute(
            "SELECT * FROM reference.benchmark_industry_roi ORDER BY ALL"
        ).fetchall()
        origin = published.execute(
            "SELECT warehouse_id, warehouse_path FROM audit.published_snapshot"
        ).fetchall()
    assert benchmarks == examples_run.query(
        "SELECT * FROM reference.benchmark_industry_roi ORDER BY ALL"
    )
    assert origin == examples_run.query(
        "SELECT warehouse_id, ? FROM audit.warehouse_identity", [str(examples_run.warehouse)]
    )


def test_production_refuses_the_documented_development_key(workspace, monkeypatch):
    monkeypatch.setenv("REDCAT_ENV", "Production")
    monkeypatch.setenv("REDCAT_BUYER_KEY_SECRET", DEVELOPMENT_BUYER_KEY_SECRET)
    with pytest.raises(ConfigurationError, match="REDCAT_BUYER_KEY_SECRET is the documented"):
        Settings.from_env()


@pytest.mark.parametrize(
    ("memory_limit", "dbt_share"),
    [("1GB", "750MB"), ("2GiB", "1610MB"), ("512mb", "384MB"), ("1.5 GB", "1125MB")],
)
def test_dbt_takes_three_quarters_of_the_memory_limit(memory_limit, dbt_share):
    # dbt's process runs beside the run's own: the two must stay within the limit and the run's.
    from orchestration.lib.settings import DuckDBLimits

    assert DuckDBLimits(memory_limit).dbt_memory_limit == dbt_share


def _files_under(folder: Path) -> list[tuple[str, int, int]]:
    return sorted(
        (os.path.relpath(os.path.join(parent, name), folder), status.st_size, status.st_mtime_ns)
        for parent, _, names in os.walk(folder)
        for name in names
        for status in [os.stat(os.path.join(parent, name))]
    )


def test_another_lake_is_refused_before_anything_is_staged_into_or_built_from_it(
    workspace, examples_run, monkeypatch
):
    from orchestration.definitions import defs
    from orchestration.defs.pipeline.jobs import pipeline_job
    from orchestration.run import run_pipeline

    workspace.copy_state_from(examples_run)
    published = file_sha256(workspace.published)
    # Another warehouse's lake, loaded from the same dumps: a lake of its own all the same.
    other = workspace.root / "another warehouse's lake"
    shutil.copytree(examples_run.lake, other)
    (other / lake.LAKE_ID_FILE).write_text(f"{uuid.uuid4()}\n")
    other_files = _files_under(other)
    shown = (
        f"but REDCAT_WAREHOUSE={str(workspace.warehouse)!r} shows lake "
        f"{lake.lake_id(workspace.lake)}, last at {str(examples_run.lake)!r}: check both"
    )

    # As an operator starts it: one line, before Dagster loads.
    result = _redcat_run(REDCAT_LAKE=str(other))
    assert result.returncode == 2
    refused = f"REDCAT_LAKE={str(other)!r} is lake {lake.lake_id(other)}, {shown}"
    assert result.stderr.startswith(f"redcat: {refused}"), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr

    # As the schedule or the UI runs it: each file's step refuses it before staging a row.
    monkeypatch.setenv("REDCAT_LAKE", str(other))
    day = date.fromisoformat(EXAMPLE_START)
    with workspace.instance() as instance:
        outcome = run_pipeline(day, day, instance)
        assert not outcome.success
        assert len([f for f in outcome.failures if refused in f]) == len(SOURCES_BY_NAME), (
            outcome.failures
        )
        # The models alone (the UI's selection): their build refuses it too.
        models = defs.resolve_job_def(pipeline_job.name).get_subset(
            asset_selection={dg.AssetKey(["marts", "fct_orders"])}
        )
        result = models.execute_in_process(instance=instance, raise_on_error=False)
    [failure] = [event.step_failure_data for event in result.all_events if event.is_step_failure]
    assert failure.user_failure_data.description.startswith(refused)
    assert _files_under(other) == other_files
    assert file_sha256(workspace.published) == published

    # The warehouse's own lake, moved: it is the same lake, and the warehouse follows it.
    moved = workspace.root / "moved lake"
    workspace.lake.rename(moved)
    monkeypatch.setenv("REDCAT_LAKE", str(moved))
    with workspace.instance() as instance:
        assert run_pipeline(day, day, instance).success
    assert workspace.query(f"SELECT lake_path FROM {lake.LAKE_OF_WAREHOUSE}") == [(str(moved),)]


def test_a_lake_without_its_id_or_an_empty_one_is_refused_and_starting_anew_is_not_undone(
    workspace, examples_run, monkeypatch
):
    workspace.copy_state_from(examples_run)
    recorded = lake.lake_id(workspace.lake)
    id_file = workspace.lake / lake.LAKE_ID_FILE

    # A lake without its id (copied from before lakes had ids): its warehouse's id written
    # back makes it the warehouse's lake again.
    id_file.unlink()
    with pytest.raises(ConfigurationError, match="is a lake without a lake_id file, but"):
        lake.refuse_another_lake_of_warehouse(Settings.from_env())
    id_file.write_text(f"{recorded}\n")
    lake.refuse_another_lake_of_warehouse(Settings.from_env())

    # An id file emptied (by hand, or a crash): which lake it is cannot be told.
    id_file.write_text("")
    with pytest.raises(ConfigurationError, match=rf"^'{re.escape(str(id_file))}' holds no lake"):
        lake.refuse_another_lake_of_warehouse(Settings.from_env())
    id_file.write_text(f"{recorded}\n")

    # A mistyped, empty lake: refused, unless the operator starts anew. Then the warehouse
    # shows the new lake before a row is staged, so a run killed while staging into it is
    # not refused when run again, and the old lake is refused from then on.
    new_lake = workspace.root / "new lake"
    monkeypatch.setenv("REDCAT_LAKE", str(new_lake))
    with pytest.raises(ConfigurationError, match="holds no lake, but"):
        lake.refuse_another_lake_of_warehouse(Settings.from_env())
    monkeypatch.setenv("REDCAT_ALLOW_SMALLER_PUBLICATION", "1")
    move_warehouse_tables_into_lake(Settings.from_env(), list(SOURCES_BY_NAME.values()))
    monkeypatch.delenv("REDCAT_ALLOW_SMALLER_PUBLICATION")
    assert workspace.query(f"SELECT * FROM {lake.LAKE_OF_WAREHOUSE}") == [
        (lake.lake_id(new_lake), str(new_lake))
    ]
    lake.refuse_another_lake_of_warehouse(Settings.from_env())
    monkeypatch.setenv("REDCAT_LAKE", str(workspace.lake))
    with pytest.raises(ConfigurationError, match=f"is lake {recorded}, but"):
        lake.refuse_another_lake_of_warehouse(Settings.from_env())


def test_a_step_opening_the_warehouse_waits_for_a_readers_look(workspace, examples_run):
    """`redcat status` or `redcat run`'s checks hold DuckDB's lock for a moment: a step that
    opens the warehouse to write then waits for it instead of failing."""
    workspace.copy_state_from(examples_run)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_HOLDING_THE_WAREHOUSE, str(workspace.warehouse)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline() == "open\n"
        started = time.monotonic()
        with connect(workspace.warehouse) as warehouse:
            waited = time.monotonic() - started
            assert warehouse.execute("SELECT count(*) FROM marts.fct_orders").fetchone()[0] > 0
    finally:
        reader.wait(timeout=30)
    assert reader.returncode == 0
    assert waited > 0.5


READER_HOLDING_THE_WAREHOUSE = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
time.sleep(1.5)
connection.close()
"""
