"""`kill -9` a run during ingestion, dbt and publication: the published marts stay as they
were, the working warehouse opens, and the next run finishes the job."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.instance import instance_at
from orchestration.lib.loading import file_sha256
from tests.conftest import OPERATIONS_END, REPOSITORY_ROOT, Workspace, marts_of

# Runs killed mid-way, one after another: minutes. CI runs it; -m "not slow" skips it locally.
pytestmark = pytest.mark.slow

REDCAT = Path(sys.executable).parent / "redcat"
DAY = OPERATIONS_END.isoformat()
LOADED_A_FILE = re.compile(rf"_{OPERATIONS_END:%Y%m%d}\.[\w.]+: loaded")


class CliRun:
    """`redcat run` of the last day in its own process group: dbt runs as a grandchild, and a
    dbt left alive would hold the warehouse's lock. Verbose: it prints each step's progress."""

    def __init__(self, environment: dict[str, str]):
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(REDCAT), "run", "--start", DAY, "--end", DAY, "--verbose"],
            cwd=REPOSITORY_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._collector = threading.Thread(target=self._collect, daemon=True)
        self._collector.start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def printed(self, text: str | re.Pattern) -> Callable[[], bool]:
        if isinstance(text, str):
            return lambda: any(text in line for line in self.lines)
        return lambda: any(text.search(line) for line in self.lines)

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 150) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"run ended before {what}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {what} in {timeout}s:\n{self.output()}"
            time.sleep(0.005)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._collector.join(timeout=30)

    def finish(self, timeout: float = 240) -> int:
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.kill()
        self._collector.join(timeout=30)
        return self.process.returncode

    def output(self) -> str:
        return "".join(self.lines[-40:])


def _day_files_in_ledger(space: Workspace) -> int:
    """The sources whose delivery of the day the ledger records: its files in the lake, which
    the warehouse's ledger table follows from the next ingestion step on. Opening the working
    warehouse is the recovery check: DuckDB replays its WAL."""
    with duckdb.connect(str(space.warehouse), read_only=True):
        pass
    day = f"dump_date={OPERATIONS_END:%Y-%m-%d}"
    return len({path.parts[-3] for path in space.lake.glob(f"audit/file_ledger/*/{day}/*")})


def _day_files_in_the_warehouse_ledger(space: Workspace) -> int:
    with duckdb.connect(str(space.warehouse), read_only=True) as connection:
        return connection.execute(
            "SELECT count(DISTINCT source) FROM audit.file_ledger WHERE dump_date = ?",
            [OPERATIONS_END],
        ).fetchone()[0]


def _building_files(space: Workspace) -> list[Path]:
    return list(space.published.parent.glob(f".{space.published.name}.*.building*"))


def test_runs_killed_at_any_step_leave_the_published_marts_and_the_next_run_finishes(
    workspace, batch_run, before_last_day
):
    workspace.copy_state_from(before_last_day)
    # The service's persistent instance: a killed run must not keep the warehouse pool's slot.
    environment = workspace.service_environment()
    published = file_sha256(workspace.published)
    wal = workspace.warehouse.with_name(workspace.warehouse.name + ".wal")

    # 1. During ingestion: the first of the day's six files is loaded, the others are not.
    run = CliRun(environment)
    run.wait_until(run.printed(LOADED_A_FILE), "file loaded")
    run.kill()
    assert file_sha256(workspace.published) == published
    assert 1 <= _day_files_in_ledger(workspace) < 6

    # 2. During dbt, while it has uncommitted writes in the warehouse's WAL, and another run
    # (a backfill, say) waits for the warehouse's slot: the dead run's slot is freed while it
    # waits, and it finishes the job.
    run = CliRun(environment)
    run.wait_until(run.printed("Running dbt command"), "dbt start")
    waiting = CliRun(environment)
    run.wait_until(wal.exists, "dbt writing")
    run.kill()
    assert file_sha256(workspace.published) == published
    assert _day_files_in_ledger(workspace) == 6
    assert waiting.finish(timeout=120) == 0, waiting.output()
    assert marts_of(workspace.published) == marts_of(batch_run.published)
    published = file_sha256(workspace.published)

    # 3. During publication, while the new file is being built beside the published one: a
    # redelivery of the day (a line end more) is loaded and built again.
    dump = next(workspace.inbox.glob(f"tmall_orders/*{OPERATIONS_END:%Y%m%d}*"))
    dump.write_bytes(dump.read_bytes() + b"\r\n")
    run = CliRun(environment)
    run.wait_until(lambda: bool(_building_files(workspace)), "publication", timeout=240)
    run.kill()
    assert file_sha256(workspace.published) == published
    assert _building_files(workspace), "the kill came after the publication"
    assert _day_files_in_ledger(workspace) == 6

    # The next run finishes the job: the marts of all days loaded at once, nothing left over.
    run = CliRun(environment)
    assert run.finish() == 0, run.output()
    assert _day_files_in_the_warehouse_ledger(workspace) == 6
    assert marts_of(workspace.published) == marts_of(batch_run.published)
    assert _building_files(workspace) == []
    with instance_at(workspace.dagster_home) as instance:
        statuses = [r.status for r in reversed(instance.get_runs())]
    failed, success = dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS
    assert statuses == [failed, failed, success, failed, success]
