"""A backfill launched through the GraphQL API of a real Dagster instance (webserver and
daemon on loopback): one run for all the days' files, the build and one publication after
it, and the same published marts as a single run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import (
    OPERATIONS_END,
    OPERATIONS_START,
    REPOSITORY_ROOT,
    generate_operations_days,
    marts_of,
)

# A real webserver and daemon: minutes. CI runs it; -m "not slow" skips it locally.
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SOURCES = (
    "rednote_campaigns",
    "rednote_note_metrics",
    "rednote_clicks",
    "redstar_funnel",
    "tmall_orders",
    "jd_orders",
)
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ASSETS = "{ assetNodes { assetKey { path } isMaterializable } }"
LAUNCH = """mutation ($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
    ... on InvalidSubsetError { message } ... on UnauthorizedError { message } } }"""
BACKFILL = """query ($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status runs(limit: 10) { runId status
    tags { key value } stepStats { stepKey status } } } } }"""


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Instance:
    """The webserver and the daemon of one DAGSTER_HOME, each in its own process group."""

    def __init__(self, environment: dict[str, str], logs: Path):
        self.environment, self.logs = environment, logs
        self.port = _free_loopback_port()
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str]) -> None:
        with (self.logs / f"{name}.log").open("w") as log:
            # No code location flags: the webserver must find pyproject's [tool.dagster] itself.
            self.processes[name] = subprocess.Popen(
                command,
                cwd=REPOSITORY_ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {name}\n" + (self.logs / f"{name}.log").read_text()[-3000:]
            for name in self.processes
        )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_for_webserver(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.processes["webserver"].poll() is None, self.log_tails()
            assert time.monotonic() < deadline, f"webserver not up in {timeout}s"
            try:
                self.graphql("{ version }")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_a_backfill_from_the_api_loads_the_days_in_one_run_and_publishes_what_a_single_run_does(
    workspace, batch_run
):
    generate_operations_days(workspace)
    days = [
        (OPERATIONS_START + timedelta(days=n)).isoformat()
        for n in range((OPERATIONS_END - OPERATIONS_START).days + 1)
    ]
    instance = Instance(workspace.service_environment(), workspace.root)
    try:
        instance.start(
            "webserver",
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1"] + ["-p", str(instance.port)],
        )
        instance.wait_for_webserver(timeout=90)
        locations = instance.graphql(LOCATIONS)["workspaceOrError"]["locationEntries"]
        assert [(e["name"], e["loadStatus"]) for e in locations] == [("redcat", "LOADED")]
        assert locations[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation"

        # What the asset graph's "Materialize all" with a partition range sends: every
        # materializable asset (audit/file_ledger is a dbt source nobody materializes).
        assets = instance.graphql(ASSETS)["assetNodes"]
        keys = [node["assetKey"] for node in assets if node["isMaterializable"]]
        paths = {tuple(key["path"]) for key in keys}
        assert {("raw", s) for s in SOURCES} | {("published", "analytics_snapshot")} <= paths
        launched = instance.graphql(
            LAUNCH, {"params": {"assetSelection": keys, "partitionNames": days}}
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched

        # Started after the launch, the daemon's first backfill iteration (they are 30 s
        # apart) already finds it.
        instance.start("daemon", [str(BIN / "dagster-daemon"), "run"])
        deadline = time.monotonic() + 170
        while True:
            backfill = instance.graphql(BACKFILL, {"id": launched["backfillId"]})
            backfill = backfill["partitionBackfillOrError"]
            if backfill["status"] in FINISHED:
                break
            assert instance.processes["daemon"].poll() is None, instance.log_tails()
            assert time.monotonic() < deadline, f"backfill {backfill}\n{instance.log_tails()}"
            time.sleep(2)
    finally:
        instance.stop()

    assert backfill["status"] == "COMPLETED_SUCCESS", instance.log_tails()
    # The files' assets have the single-run backfill policy: all days in one run. The models
    # and the publication are built from every loaded dump, not per day: after it, in as many
    # runs as the daemon finds parents done (the reference seeds read no file, so they may go
    # first), and the publication once.
    by_steps = [
        (frozenset(step["stepKey"] for step in r["stepStats"]), r) for r in backfill["runs"]
    ]
    files_steps = {f"raw__{s}" for s in SOURCES} | {f"raw__{s}_gates" for s in SOURCES}
    [files_run] = [r for steps, r in by_steps if files_steps <= steps]
    [run] = [r for steps, r in by_steps if "published__analytics_snapshot" in steps]
    others = [steps for steps, r in by_steps if r not in (files_run, run)]
    assert all(steps == {"redcat_dbt_models"} for steps in others), others
    tags = {tag["key"]: tag["value"] for tag in files_run["tags"]}
    assert tags["dagster/asset_partition_range_start"] == days[0]
    assert tags["dagster/asset_partition_range_end"] == days[-1]
    statuses = {step["status"] for r in backfill["runs"] for step in r["stepStats"]}
    assert statuses == {"SUCCESS"}, instance.log_tails()
    assert {r["status"] for r in backfill["runs"]} == {"SUCCESS"}

    assert marts_of(workspace.published) == marts_of(batch_run.published)
    assert workspace.query("SELECT count(*) FROM audit.file_ledger") == [(6 * len(days),)]
    with duckdb.connect(str(workspace.published), read_only=True) as connection:
        provenance = connection.execute(
            "SELECT dagster_run_id, file_count FROM audit.published_snapshot"
        ).fetchall()
    assert provenance == [(run["runId"], 6 * len(days))]


def test_the_reference_seeds_build_before_any_file_is_loaded(workspace):
    # A backfill's daemon may launch the seeds' build before the files' run has made the
    # warehouse's folder; dbt then waited on the missing folder as on a locked file.
    import dagster as dg

    from orchestration.defs.dbt.assets import dbt_resource, redcat_dbt_models

    seeds = [key for key in redcat_dbt_models.keys if key.path[0] == "reference"]
    assert not workspace.warehouse.parent.exists()
    with workspace.instance() as instance:
        result = dg.materialize(
            [redcat_dbt_models], selection=seeds, instance=instance, resources={"dbt": dbt_resource}
        )
    assert result.success
    assert workspace.query("SELECT count(*) > 0 FROM reference.order_status_map") == [(True,)]
