"""Shared fixtures: real DuckDB files in a temporary folder, real dbt, real Dagster runs."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.instance import instance_at

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
        self.lake = root / "lake"
        self.dagster_home = root / "dagster_home"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.dagster_home.mkdir(parents=True, exist_ok=True)

    def environment(self) -> dict[str, str]:
        return {
            "REDCAT_INBOX": str(self.inbox),
            "REDCAT_WAREHOUSE": str(self.warehouse),
            "REDCAT_PUBLISHED": str(self.published),
            "REDCAT_LAKE": str(self.lake),
        }

    def copy_examples(self) -> None:
        shutil.copytree(EXAMPLES, self.inbox, dirs_exist_ok=True)

    def instance(self) -> dg.DagsterInstance:
        return instance_at(self.dagster_home)

    def copy_state_from(self, other: Workspace) -> None:
        """Start from another workspace's inbox, warehouse and published file (not its
        Dagster instance)."""
        shutil.copytree(other.inbox, self.inbox, dirs_exist_ok=True)
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(other.warehouse, self.warehouse)
        shutil.copy2(other.published, self.published)
        shutil.copytree(other.lake, self.lake)

    def service_environment(self) -> dict[str, str]:
        """The environment of a process run as the service runs it: a persistent instance in
        this workspace's DAGSTER_HOME with deploy/dagster.yaml."""
        shutil.copy(REPOSITORY_ROOT / "deploy" / "dagster.yaml", self.dagster_home)
        environment = dict(os.environ, **self.environment(), DAGSTER_HOME=str(self.dagster_home))
        for name in ("REDCAT_BUYER_KEY_SECRET", "REDCAT_ENV"):
            environment.pop(name, None)
        return environment

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
def shared_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder all of this session's pytest-xdist workers see (the session's own without
    xdist): a shared run is built once, not once a worker."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def built_once(root: Path, name: str, build: Callable[[Workspace], object]) -> Workspace:
    """The workspace `root/name` built by `build` in whichever worker asks first, while the
    others wait on its lock; shared read-only. A build that failed is tried again."""
    folder = root / name
    finished = root / f"{name}.built"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not finished.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(Workspace(folder))
            finished.touch()
    return Workspace(folder)


def _examples_built(space: Workspace) -> None:
    space.copy_examples()
    built(space, date.fromisoformat(EXAMPLE_START), date.fromisoformat(EXAMPLE_END))


@pytest.fixture(scope="session")
def examples_run(shared_root: Path) -> Workspace:
    """The examples loaded and built once by one real pipeline run, shared read-only."""
    return built_once(shared_root, "examples", _examples_built)


# 40 dump dates of a small brand: click days up to 2026-04-10 have complete T+30 windows,
# later ones do not.
GENERATED_START, GENERATED_END = date(2026, 4, 1), date(2026, 5, 10)


def _generated_built(space: Workspace) -> None:
    from orchestration.generator import generate

    generate(space.inbox, GENERATED_START, GENERATED_END, scale=0.3, seed=7)
    built(space, GENERATED_START, GENERATED_END)


@pytest.fixture(scope="session")
def generated_run(shared_root: Path) -> Workspace:
    """40 days of generated dumps loaded, built and published by one real run: what the
    campaign report shows and Spark builds again. Shared read-only."""
    return built_once(shared_root, "generated", _generated_built)


def marts_of(path: Path) -> dict[str, list[tuple]]:
    """Every table of schema `marts` in a DuckDB file, rows sorted, without the build stamps
    (derived_at: when a build derived the row, which differs between two histories of the same
    data); opened read-only."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as connection:
        columns = connection.execute(
            "SELECT table_name, list(column_name ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE table_schema = 'marts' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        return {
            name: sorted(
                connection.execute(
                    f"SELECT {', '.join(c for c in names if c != 'derived_at')} FROM marts.{name}"
                ).fetchall()
            )
            for name, names in columns
        }


# The operations tests (tests/test_operations_*.py) compare every way of running the pipeline
# against one run over generated dumps of these days; a run costs ~40 s, so two are shared.
OPERATIONS_START, OPERATIONS_END = date(2026, 5, 1), date(2026, 5, 5)


def generate_operations_days(space: Workspace) -> None:
    from orchestration.generator import generate

    generate(space.inbox, OPERATIONS_START, OPERATIONS_END, seed=5, truth_dir=space.root / "truth")


def built(space: Workspace, start: date, end: date) -> Workspace:
    """The workspace's dumps of these days loaded, built and published by one real run."""
    from orchestration.run import run_pipeline

    with pytest.MonkeyPatch.context() as patch:
        for name, value in space.environment().items():
            patch.setenv(name, value)
        patch.delenv("REDCAT_BUYER_KEY_SECRET", raising=False)
        patch.delenv("REDCAT_ENV", raising=False)
        with space.instance() as instance:
            outcome = run_pipeline(start, end, instance)
    assert outcome.success, outcome.failures
    return space


def _generated_and_run(last_loaded: date) -> Callable[[Workspace], object]:
    def build(space: Workspace) -> Workspace:
        generate_operations_days(space)
        return built(space, OPERATIONS_START, last_loaded)

    return build


@pytest.fixture(scope="session")
def batch_run(shared_root: Path) -> Workspace:
    """Every operations day loaded and built by one run: what a backfill, a nightly run after
    the others, or a run finishing after crashes must equal. Shared read-only."""
    return built_once(shared_root, "batch", _generated_and_run(OPERATIONS_END))


@pytest.fixture(scope="session")
def before_last_day(shared_root: Path) -> Workspace:
    """The state before a nightly run: all days but the last loaded and published, the last
    day's dumps waiting in the inbox. Shared read-only: copy it with `copy_state_from`."""
    last_loaded = OPERATIONS_END - timedelta(days=1)
    return built_once(shared_root, "before_last_day", _generated_and_run(last_loaded))
