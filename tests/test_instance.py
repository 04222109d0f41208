"""The Dagster instance of `redcat run` and the service: its event log keeps its connections
open, stores every event where Dagster's own storage keeps them, and lets the UI follow a run
as it goes; a home's settings are brought up to date unless edited by hand."""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage

from orchestration.dagster_home import (
    EARLIER_INSTANCE_SETTINGS,
    INSTANCE_SETTINGS,
    prepare_dagster_home,
)
from orchestration.defs.instance import SqliteEventLogKeptOpen, instance_at


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster home's 主目录"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@dg.asset
def counted() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset(deps=[counted])
def summed() -> None:
    dg.get_dagster_logger().info("summed")


def test_a_run_stores_its_events_where_dagsters_own_storage_reads_them(home):
    prepare_dagster_home()
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, SqliteEventLogKeptOpen)
        result = dg.materialize([counted, summed], instance=instance)
        assert result.success
        stored = storage.get_records_for_run(result.run_id).records

    # Dagster's default storage of the same home (another process, an older redcat) reads
    # every event of the run, and the materializations in the index across runs.
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    assert [r.storage_id for r in plain.get_records_for_run(result.run_id).records] == [
        r.storage_id for r in stored
    ]
    assert len(stored) > 10
    materialized = plain.fetch_materializations(dg.AssetKey("counted"), limit=5).records
    assert [r.asset_materialization.metadata["rows"].value for r in materialized] == [3]
    with instance_at(home) as again:
        assert again.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS


def _event(run_id: str, number: int) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level=20,
        user_message=f"event {number}",
        run_id=run_id,
        timestamp=time.time(),
        step_key=None,
        job_name="job",
        dagster_event=DagsterEvent(
            DagsterEventType.ENGINE_EVENT.value, "job", event_specific_data=EngineEventData()
        ),
    )


def test_the_ui_sees_each_event_of_a_run_as_it_is_stored(tmp_path):
    """The UI follows a live run by watching its database file: each event stored must
    change it, though the connection stays open (its log in WAL mode)."""
    folder = str(tmp_path / "runs")
    writer = SqliteEventLogKeptOpen(folder)
    reader = SqliteEventLogKeptOpen(folder)  # the webserver's, in its own process
    run_id = str(uuid.uuid4())
    writer.store_event(_event(run_id, 0))
    seen: list[str] = []
    arrived = threading.Condition()

    def follow(entry: EventLogEntry, cursor: str) -> None:
        with arrived:
            seen.append(entry.user_message)
            arrived.notify()

    reader.watch(run_id, None, follow)
    try:
        for number in range(1, 4):
            writer.store_event(_event(run_id, number))
            with arrived:
                # The first change reads from the start: the event stored before the watch too.
                assert arrived.wait_for(lambda n=number: len(seen) > n, timeout=10), seen
        assert seen == ["event 0", "event 1", "event 2", "event 3"]
    finally:
        reader.end_watch(run_id, follow)
        reader.dispose()
        writer.dispose()


def _as_shipped_before(settings: str) -> str:
    """deploy/dagster.yaml before its event log storage was named."""
    return re.sub(
        r"# Dagster's SQLite event log.*?class: SqliteEventLogKeptOpen\n\n",
        "",
        settings,
        flags=re.S,
    )


def test_a_home_gets_the_current_settings_unless_they_were_edited_by_hand(home):
    earlier = _as_shipped_before(INSTANCE_SETTINGS.read_text())
    assert hashlib.sha256(earlier.encode()).hexdigest() in EARLIER_INSTANCE_SETTINGS
    home.mkdir()
    settings = home / "dagster.yaml"
    settings.write_text(earlier)
    assert prepare_dagster_home() == home
    assert settings.read_bytes() == INSTANCE_SETTINGS.read_bytes()

    edited = earlier + "\nrun_queue:\n  max_concurrent_runs: 2\n"
    settings.write_text(edited)
    prepare_dagster_home()
    assert settings.read_text() == edited
    assert sorted(p.name for p in home.iterdir()) == ["dagster.yaml"]
