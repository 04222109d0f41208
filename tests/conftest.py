"""Shared fixtures: real DuckDB files in a temporary folder, real dbt, real Dagster runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = Path(
    os.environ.get("REDCAT_CONTRACT_EXAMPLES", REPOSITORY_ROOT.parent / "shared/contract/examples")
)
EXAMPLE_START, EXAMPLE_END = "2026-05-13", "2026-05-14"


class Workspace:
    """An inbox, a warehouse and a Dagster instance home of a test's own."""

    def __init__(self, root: Path):
        self.root = root
        self.inbox = root / "inbox"
        self.warehouse = root / "warehouse" / "redcat.duckdb"
        self.published = root / "warehouse" / "analytics.duckdb"
        self.dagster_home = root / "dagster_home"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.dagster_home.mkdir(parents=True, exist_ok=True)

    def environment(self) -> dict[str, str]:
        return {
            "REDCAT_INBOX": str(self.inbox),
            "REDCAT_WAREHOUSE": str(self.warehouse),
            "REDCAT_PUBLISHED": str(self.published),
        }

    def copy_examples(self) -> None:
        shutil.copytree(EXAMPLES, self.inbox, dirs_exist_ok=True)

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.local_temp(str(self.dagster_home))

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        from orchestration.lib.warehouse import connect

        with connect(self.warehouse, read_only=True) as connection:
            return connection.execute(sql, parameters or []).fetchall()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    space = Workspace(tmp_path)
    for name, value in space.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDCAT_BUYER_KEY_SECRET", raising=False)
    monkeypatch.delenv("REDCAT_ENV", raising=False)
    return space


@pytest.fixture(scope="session")
def examples_run(tmp_path_factory: pytest.TempPathFactory):
    """The examples loaded and built once by one real pipeline run, shared read-only."""
    from orchestration.lib.run import run_pipeline

    space = Workspace(tmp_path_factory.mktemp("examples"))
    space.copy_examples()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in space.environment().items():
            patch.setenv(name, value)
        patch.delenv("REDCAT_BUYER_KEY_SECRET", raising=False)
        from datetime import date

        with space.instance() as instance:
            outcome = run_pipeline(
                date.fromisoformat(EXAMPLE_START), date.fromisoformat(EXAMPLE_END), instance
            )
        assert outcome.success, outcome.failures
        yield space
