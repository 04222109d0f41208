"""Publication: the analysts' file holds the last good marts and says what built them."""

from __future__ import annotations

import json
from datetime import date

import duckdb

from orchestration.defs.dbt.assets import redcat_dbt_project
from orchestration.lib.loading import file_sha256
from orchestration.lib.publication import publish, stamped_keys_of
from orchestration.lib.settings import Settings
from orchestration.run import run_pipeline

DAY_1, DAY_2, DAY_3 = date(2026, 5, 13), date(2026, 5, 14), date(2026, 5, 15)


def _published(workspace, sql: str) -> list[tuple]:
    with duckdb.connect(str(workspace.published), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _marts(path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = [
            n
            for (n,) in connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        return {n: sorted(connection.execute(f"SELECT * FROM marts.{n}").fetchall()) for n in names}


def test_a_run_publishes_the_marts_with_their_provenance(examples_run):
    workspace = examples_run
    with workspace.instance() as instance:
        [run] = instance.get_runs()

    published = _marts(workspace.published)
    assert {"fct_orders", "fct_clicks", "mart_campaign_roi"} <= set(published)
    assert published == _marts(workspace.warehouse)

    snapshots = _published(
        workspace,
        "SELECT snapshot_id, code_version, dagster_run_id, files FROM audit.published_snapshot",
    )
    assert len(snapshots) == 1
    snapshot_id, code_version, run_id, files = snapshots[0]
    assert code_version.startswith("redcat ")
    assert run_id == run.run_id
    files = json.loads(files)
    assert len(files) == 12  # six sources, two days
    tmall = next(f for f in files if f["file_name"] == "tmall_orders_20260513.csv")
    assert tmall["sha256"] == file_sha256(workspace.inbox / "tmall_orders" / tmall["file_name"])
    assert _published(
        workspace,
        f"SELECT count(*) FROM audit.published_snapshot_file WHERE snapshot_id = '{snapshot_id}'",
    ) == [(12,)]
    assert _published(workspace, "SELECT count(*) FROM audit.file_ledger") == [(12,)]


def test_a_failed_run_leaves_the_published_file_as_it_was(workspace, examples_run):
    workspace.copy_state_from(examples_run)
    before = file_sha256(workspace.published)
    with workspace.instance() as instance:
        # Day 3 has no dumps at all: its ingestion fails, so nothing downstream runs.
        outcome = run_pipeline(DAY_1, DAY_3, instance)

    assert not outcome.success
    assert any("no tmall_orders dump for 2026-05-15" in f for f in outcome.failures)
    assert file_sha256(workspace.published) == before


def test_each_publication_adds_to_the_snapshot_history(workspace):
    workspace.copy_examples()
    with workspace.instance() as instance:
        assert run_pipeline(DAY_1, DAY_1, instance).success
        first_orders = _published(workspace, "SELECT count(*) FROM marts.fct_orders")
        assert run_pipeline(DAY_2, DAY_2, instance).success

    history = _published(
        workspace, "SELECT file_count FROM audit.published_snapshot ORDER BY published_at"
    )
    assert history == [(6,), (12,)]
    assert first_orders == [(5,)]
    assert _published(workspace, "SELECT count(*) FROM marts.fct_orders") == [(8,)]
    leftovers = list(workspace.published.parent.glob(".*.building"))
    assert leftovers == []


def test_a_publication_from_the_same_warehouse_takes_what_changed_since_the_last(
    workspace, examples_run
):
    workspace.copy_state_from(examples_run)
    with duckdb.connect(str(workspace.warehouse)) as warehouse:
        # What a nightly build may do: delete a key, derive a row again, rebuild a mart whole.
        warehouse.execute(
            "DELETE FROM marts.fct_clicks WHERE cid = (SELECT min(cid) FROM marts.fct_clicks)"
        )
        warehouse.execute(
            "UPDATE marts.fct_orders SET status = 'refunded', derived_at = now() "
            "WHERE order_id = (SELECT min(order_id) FROM marts.fct_orders)"
        )
        warehouse.execute("UPDATE marts.mart_campaign_roi SET clicks = clicks + 1")
        warehouse.execute("CREATE TABLE marts.fct_new AS SELECT 1 AS id")
    stamped = stamped_keys_of(redcat_dbt_project.manifest_path)
    assert stamped["marts.fct_orders"] == ["platform", "order_id"]

    # A reader beside the copy (the report's charts) reads the warehouse, not the new file.
    snapshot = publish(
        Settings.from_env(),
        stamped_keys=stamped,
        read_beside_the_copy=lambda warehouse: warehouse.execute(
            "SELECT warehouse_id FROM audit.warehouse_identity"
        ).fetchall(),
    )
    assert not snapshot.built_anew
    assert _marts(workspace.published) == _marts(workspace.warehouse)
    with duckdb.connect(str(workspace.warehouse), read_only=True) as warehouse:
        assert (
            snapshot.read_beside
            == warehouse.execute("SELECT warehouse_id FROM audit.warehouse_identity").fetchall()
        )
    # Beside the file, its stamped marts' checksums, for the next publication to carry on:
    # this one's, which started from a copy, and a file's built anew.
    stamped_marts = sorted(table for table in stamped if table.startswith("marts."))
    assert _recorded_checksums(workspace) == _checksums(workspace.published, stamped_marts)
    assert _recorded_checksums(examples_run) == _checksums(examples_run.published, stamped_marts)

    # The next publication carries them through the rows it swaps (a key derived again, one
    # deleted): each table then matches the warehouse's, and the new record the new file.
    with duckdb.connect(str(workspace.warehouse)) as warehouse:
        warehouse.execute(
            "UPDATE marts.fct_orders SET item_count = item_count + 1, derived_at = now() "
            "WHERE order_id = (SELECT max(order_id) FROM marts.fct_orders)"
        )
        warehouse.execute(
            "DELETE FROM marts.fct_clicks WHERE cid = (SELECT max(cid) FROM marts.fct_clicks)"
        )
    publish(Settings.from_env(), stamped_keys=stamped)
    assert _marts(workspace.published) == _marts(workspace.warehouse)
    assert _recorded_checksums(workspace) == _checksums(workspace.published, stamped_marts)

    # A row changed under its old stamp (a clock set back): the carried checksum tells, and
    # the table is copied whole.
    with duckdb.connect(str(workspace.warehouse)) as warehouse:
        warehouse.execute(
            "UPDATE marts.fct_orders SET item_count = item_count + 1 "
            "WHERE order_id = (SELECT min(order_id) FROM marts.fct_orders)"
        )
    publish(Settings.from_env(), stamped_keys=stamped)
    assert _marts(workspace.published) == _marts(workspace.warehouse)
    assert _recorded_checksums(workspace) == _checksums(workspace.published, stamped_marts)

    with duckdb.connect(str(workspace.warehouse)) as warehouse:
        warehouse.execute("DROP TABLE marts.fct_new")
        warehouse.execute("DELETE FROM marts.fct_orders WHERE status = 'refunded'")
    # An analyst's read-write session changed a published row: the copy's checksum tells.
    with duckdb.connect(str(workspace.published)) as analyst:
        analyst.execute(
            "UPDATE marts.fct_clicks SET placement = 'mine' "
            "WHERE cid = (SELECT max(cid) FROM marts.fct_clicks)"
        )
    # A reader that fails is not the publication's failure: the caller does without.
    assert (
        publish(Settings.from_env(), stamped_keys=stamped, read_beside_the_copy=_fails).read_beside
        is None
    )
    assert _marts(workspace.published) == _marts(workspace.warehouse)

    # An analyst's own table in the published file: the next file is built anew, without it.
    with duckdb.connect(str(workspace.published)) as analyst:
        analyst.execute("CREATE TABLE main.my_notes AS SELECT 1 AS note")
    publish(Settings.from_env(), stamped_keys=stamped)
    assert _marts(workspace.published) == _marts(workspace.warehouse)
    assert _published(
        workspace, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main'"
    ) == [(0,)]
    built_anew = "SELECT built_anew FROM audit.published_snapshot ORDER BY published_at"
    assert _published(workspace, built_anew) == [
        (True,),
        (False,),
        (False,),
        (False,),
        (False,),
        (True,),
    ]

    # A file published by earlier code, whose history lacks a column, is built anew too.
    with duckdb.connect(str(workspace.published)) as analyst:
        analyst.execute("ALTER TABLE audit.published_snapshot DROP COLUMN built_anew")
    publish(Settings.from_env(), stamped_keys=stamped)
    assert _marts(workspace.published) == _marts(workspace.warehouse)
    assert _published(workspace, built_anew)[-1] == (True,)
    assert len(_published(workspace, built_anew)) == 7


def _recorded_checksums(workspace) -> dict[str, list]:
    beside = workspace.published.with_name(f".{workspace.published.name}.checksums.json")
    return json.loads(beside.read_text())["tables"]


def _checksums(path, tables) -> dict[str, list]:
    """Each table's row count and sum of row hashes, read from the file itself."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: [count, str(hashes)]
            for table in tables
            for count, hashes in [
                connection.execute(
                    f"SELECT count(*), sum(hash(*COLUMNS(*))) FROM {table}"
                ).fetchone()
            ]
        }


def _fails(_warehouse) -> None:
    raise RuntimeError("a reader that fails")
