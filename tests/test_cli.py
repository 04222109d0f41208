"""`redcat --help` and `redcat status` as an operator runs them, on real built workspaces."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.ingestion.sources import SOURCES
from orchestration.lib.settings import PIPELINE_VARIABLES
from orchestration.run import run_pipeline
from tests.conftest import OPERATIONS_END, OPERATIONS_START, Workspace, generate_operations_days

REDCAT = Path(sys.executable).parent / "redcat"
SOURCE_NAMES = sorted(spec.name for spec in SOURCES)


def redcat(*arguments: str, environment: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [str(REDCAT), *arguments],
        env=dict(os.environ, **(environment or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return completed.stdout


@pytest.mark.parametrize("command", [[], ["run"], ["generate"], ["status"], ["report"]])
def test_help_gives_the_date_format_the_inclusive_range_and_every_setting(command):
    text = " ".join(redcat(*command, "--help").split())  # argparse wraps at the terminal width

    # The dates' format where there are dates: not for status and report, which take none.
    dates = "Dates are YYYY-MM-DD; --start and --end are both included."
    assert (dates in text) == (command in ([], ["run"], ["generate"]))
    assert "DAGSTER_HOME" in text
    for variable in PIPELINE_VARIABLES:
        assert variable in text
    if command in (["run"], ["generate"]):
        assert "--start YYYY-MM-DD first" in text
        assert "--end YYYY-MM-DD last" in text


def test_status_says_what_is_loaded_what_is_mature_and_the_last_publication(examples_run):
    printed = redcat("status", environment=examples_run.environment()).splitlines()

    with duckdb.connect(str(examples_run.published), read_only=True) as published:
        snapshot_id, file_count = published.execute(
            "SELECT snapshot_id, file_count FROM audit.published_snapshot"
        ).fetchone()
    assert printed[0] == f"warehouse: {examples_run.warehouse}"
    loaded = [
        f"    {source:<21} 2026-05-13..2026-05-14  2 dump dates loaded" for source in SOURCE_NAMES
    ]
    assert printed[2:8] == loaded
    assert printed[8] == "  gaps: none"
    # Orders loaded through 05-14: only the T+1 window of 05-13's clicks is complete.
    assert printed[11:13] == [
        f"    {platform:<8} 2026-05-13..2026-05-14  2026-05-13 {' '.join(['-' * 10] * 3)}"
        for platform in ("jd", "tmall")
    ]
    assert printed[13] == f"published: {examples_run.published}"
    assert f"snapshot {snapshot_id}, {file_count} dump files" in printed[14]


def test_status_names_the_days_missing_between_the_first_and_the_last(workspace):
    generate_operations_days(workspace)
    missing = OPERATIONS_START + timedelta(days=2)
    (workspace.inbox / "tmall_orders" / f"tmall_orders_{missing:%Y%m%d}.csv").unlink()
    with workspace.instance() as instance:
        outcome = run_pipeline(OPERATIONS_START, OPERATIONS_END, instance)
    assert not outcome.success  # the missing dump fails its day; the others load

    printed = redcat("status", environment=workspace.environment()).splitlines()

    assert (
        printed[7]
        == f"    tmall_orders          {OPERATIONS_START}..{OPERATIONS_END}  4 dump dates loaded"
    )
    assert printed[8] == f"  gaps: tmall_orders {missing}"
    assert printed[9] == "  mature windows: not known until a run has built the models"
    assert (
        printed[10]
        == f"published: none at {workspace.published} yet (every gate of a run must pass first)"
    )


def test_status_without_a_warehouse_or_published_file_says_so_in_one_line_each(
    tmp_path: Path,
):
    space = Workspace(tmp_path)

    assert redcat("status", environment=space.environment()).splitlines() == [
        f"warehouse: none at {space.warehouse} yet (`redcat run` makes it)",
        f"published: none at {space.published} yet (every gate of a run must pass first)",
    ]


@pytest.mark.parametrize("command", [["status"], ["--help"], ["run", "--help"]])
def test_a_reader_gone_costs_the_output_not_the_command(tmp_path: Path, command):
    """`redcat … | head -c0`: the reader closes before redcat writes; the rest of the output is
    dropped, and the command exits as it would have, with no traceback."""
    space = Workspace(tmp_path)
    process = subprocess.Popen(
        [str(REDCAT), *command],
        env=dict(os.environ, **space.environment()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()
    errors = process.stderr.read()
    assert process.wait(timeout=120) == 0, errors
    assert errors == ""


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["run", "--start", "2026-5-1", "--end", "2026-05-04"], "'2026-5-1' is not a date"),
        (["run", "--end", "2026-05-04"], "the following arguments are required: --start"),
        (["bogus"], "invalid choice: 'bogus'"),
    ],
)
def test_a_mistyped_argument_is_told_in_one_line(tmp_path: Path, arguments, expected):
    completed = subprocess.run(
        [str(REDCAT), *arguments],
        env=dict(os.environ, **Workspace(tmp_path).environment()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    [line] = completed.stderr.splitlines()
    assert expected in line and line.endswith("--help)")
