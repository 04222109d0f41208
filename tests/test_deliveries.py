"""Deliveries across files: the latest delivery decides a day, and a click delivered again in
another file with other values is quarantined as the later copy, whatever the order of
loading. Every file's ledger row balances with what the tables hold."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta

import duckdb
import pytest

from orchestration.defs.ingestion.sources import SOURCES_BY_NAME
from orchestration.lib import audit, lake, row_rules
from orchestration.lib.loading import load_dump, show_lake_in_warehouse, stage_dumps
from orchestration.lib.readers import FileRefused
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import connect
from tests.dumps import DAY, deliver, dump, rows

NEXT_DAY = DAY + timedelta(days=1)
CLICKS = SOURCES_BY_NAME["rednote_clicks"]
OTHER_NOTE = "6650a1f0c2000000001e0999"
IDENTICAL = "(identical copy; counted once)"


def _deliver(workspace, day: date, table: list) -> None:
    deliver(workspace.inbox, CLICKS.name, day, table)


def _clicks_of(day: date, count: int, **changes) -> list[dict]:
    table = rows("rednote_clicks", count, **changes)
    for row in table:
        row.setdefault("click_time", f"{day}T10:00:00+08:00")
        row["click_time"] = row["click_time"].replace(str(DAY), str(day))
    return table


def _ledger(workspace) -> list[tuple]:
    return workspace.query(
        """SELECT dump_date, rows_read, rows_staged, rows_quarantined
           FROM audit.current_delivery WHERE source = 'rednote_clicks' ORDER BY dump_date"""
    )


def _staged(workspace) -> list[tuple]:
    return workspace.query(
        "SELECT dump_date, source_line, cid, note_id FROM raw.rednote_clicks ORDER BY ALL"
    )


def _conflicts(workspace) -> list[tuple]:
    return workspace.query(
        """SELECT dump_date, line_number, column_name, reason, kind FROM audit.quarantine
           WHERE source = 'rednote_clicks' ORDER BY ALL"""
    )


def _balances(workspace) -> None:
    for day, read, staged, quarantined in _ledger(workspace):
        assert read == staged + quarantined
        assert workspace.query(
            "SELECT count(*) FROM raw.rednote_clicks WHERE dump_date = ?", [day]
        ) == [(staged,)]
        assert workspace.query(
            "SELECT count(*) FROM audit.quarantine WHERE source = 'rednote_clicks' "
            "AND dump_date = ?",
            [day],
        ) == [(quarantined,)]


# The same cid 1 in the next day's file, with another note: the later copy conflicts.
CONFLICT = (
    NEXT_DAY,
    2,
    "cid",
    "repeats the key of rednote_clicks_20260513.jsonl.gz line 1 with another note_id "
    "(conflicting copy)",
    "conflicting_copy",
)


@pytest.mark.parametrize("order", ["in order", "later file first"])
def test_a_later_conflicting_copy_in_another_file_is_quarantined(workspace, order):
    first_day = _clicks_of(DAY, 2)
    later_day = [
        *_clicks_of(NEXT_DAY, 1, line_1={"cid": "ff" * 16}),
        rows("rednote_clicks", 1, line_1={"note_id": OTHER_NOTE})[0],
        # An identical late copy of cid 2 counts once, in dbt: it stays staged.
        first_day[1],
    ]
    deliveries = [(DAY, first_day), (NEXT_DAY, later_day)]
    for day, table in deliveries if order == "in order" else deliveries[::-1]:
        _deliver(workspace, day, table)

    assert _conflicts(workspace) == [CONFLICT]
    assert _ledger(workspace) == [(DAY, 2, 2, 0), (NEXT_DAY, 3, 2, 1)]
    assert [(d, line, note) for d, line, _, note in _staged(workspace)] == [
        (DAY, 1, rows("rednote_clicks", 1)[0]["note_id"]),
        (DAY, 2, rows("rednote_clicks", 1)[0]["note_id"]),
        (NEXT_DAY, 1, rows("rednote_clicks", 1)[0]["note_id"]),
        (NEXT_DAY, 3, rows("rednote_clicks", 1)[0]["note_id"]),
    ]
    _balances(workspace)
    # The keys each delivery handed on to be settled are gone, their day's folder too.
    assert [p.name for p in (workspace.lake / ".touched" / "rednote_clicks").iterdir()] == []


class Killed(Exception):
    """The process killed at that point (kill -9), in a test that runs in-process."""


def _killed(*args, **kwargs):
    raise Killed


def test_a_delivery_killed_before_its_ledger_row_does_not_stay_in_the_lake(workspace, monkeypatch):
    """A redelivery killed after its rows replaced the day's in the lake, before its ledger
    row was written: the original file put back is staged again, not taken for the delivery
    the ledger still names, unchanged."""
    original = _clicks_of(DAY, 2)
    _deliver(workspace, DAY, original)
    original_bytes = CLICKS.path(workspace.inbox, DAY).read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(audit, "record_delivery", _killed)
        with pytest.raises(Killed):
            _deliver(workspace, DAY, _clicks_of(DAY, 2, line_2={"note_id": OTHER_NOTE}))

    CLICKS.path(workspace.inbox, DAY).write_bytes(original_bytes)
    result = load_dump(CLICKS, DAY, Settings.from_env())

    assert result.status == "loaded"

    assert [note for *_, note in _staged(workspace)] == [row["note_id"] for row in original]
    assert _ledger(workspace) == [(DAY, 2, 2, 0)]
    _balances(workspace)


def test_conflicts_a_killed_run_left_unsettled_are_settled_by_the_next(workspace, monkeypatch):
    """A run killed after the later file's ledger row, before it settled the conflicts across
    files: the next run, finding the file unchanged, settles them all the same."""
    _deliver(workspace, DAY, _clicks_of(DAY, 2))
    later_day = [
        *_clicks_of(NEXT_DAY, 1, line_1={"cid": "ff" * 16}),
        rows("rednote_clicks", 1, line_1={"note_id": OTHER_NOTE})[0],
    ]
    with monkeypatch.context() as patch:
        patch.setattr(row_rules, "settle_conflicts_across_files", _killed)
        with pytest.raises(Killed):
            _deliver(workspace, NEXT_DAY, later_day)

    result = load_dump(CLICKS, NEXT_DAY, Settings.from_env())

    assert result.status == "unchanged"
    assert _conflicts(workspace) == [CONFLICT]
    assert _ledger(workspace) == [(DAY, 2, 2, 0), (NEXT_DAY, 2, 1, 1)]
    _balances(workspace)


def test_a_redelivery_without_the_first_copy_restores_the_later_one(workspace):
    _deliver(workspace, DAY, _clicks_of(DAY, 2))
    later = _clicks_of(NEXT_DAY, 1, line_1={"note_id": OTHER_NOTE})
    _deliver(workspace, NEXT_DAY, later)
    assert _ledger(workspace) == [(DAY, 2, 2, 0), (NEXT_DAY, 1, 0, 1)]

    # Day 1 redelivered without cid 1: the next day's copy is now the first delivery.
    _deliver(workspace, DAY, _clicks_of(DAY, 2)[1:])

    assert _conflicts(workspace) == []
    assert _ledger(workspace) == [(DAY, 1, 1, 0), (NEXT_DAY, 1, 1, 0)]
    assert (NEXT_DAY, 1, "0" * 31 + "1", OTHER_NOTE) in _staged(workspace)
    _balances(workspace)


def test_upper_case_cids_are_stored_in_lower_case_and_meet_their_copies(workspace):
    _deliver(workspace, DAY, _clicks_of(DAY, 1))
    _deliver(
        workspace,
        NEXT_DAY,
        _clicks_of(DAY, 1, line_1={"cid": "0" * 31 + "1", "note_id": OTHER_NOTE})
        + _clicks_of(NEXT_DAY, 1, line_1={"cid": "ABCDEF" + "0" * 26}),
    )
    _deliver(workspace, NEXT_DAY, _clicks_of(DAY, 1, line_1={"cid": "0" * 31 + "1".upper()}))

    assert [cid for _, _, cid, _ in _staged(workspace)] == ["0" * 31 + "1", "0" * 31 + "1"]


def test_the_latest_delivery_decides_even_when_it_restores_earlier_bytes(workspace):
    """Day D loaded, a broken redelivery refused, the original put back: it loads again."""
    spec = SOURCES_BY_NAME["redstar_funnel"]
    original = dump("redstar_funnel", rows("redstar_funnel", 2))
    path = spec.path(workspace.inbox, DAY)
    path.parent.mkdir(parents=True)
    path.write_bytes(original)
    load_dump(spec, DAY, Settings.from_env())
    path.write_bytes(b"")
    with pytest.raises(FileRefused):
        load_dump(spec, DAY, Settings.from_env())

    path.write_bytes(original)
    result = load_dump(spec, DAY, Settings.from_env())

    assert (result.status, result.rows_staged) == ("loaded", 2)
    assert workspace.query(
        "SELECT status, rows_staged FROM audit.file_ledger ORDER BY loaded_at"
    ) == [("loaded", 2), ("refused", 0), ("loaded", 2)]
    assert workspace.query(
        "SELECT status FROM audit.current_delivery WHERE source = 'redstar_funnel'"
    ) == [("loaded",)]
    # Loaded and current: the same bytes once more are a no-op.
    assert load_dump(spec, DAY, Settings.from_env()).status == "unchanged"


def test_a_warehouse_made_before_the_lake_keeps_everything_it_loaded(workspace):
    """Its raw and audit tables move into the lake before the next load: no row is lost, and
    its quarantine rows get a kind from their reason."""
    _deliver(workspace, DAY, _clicks_of(DAY, 2) + _clicks_of(DAY, 1))
    with connect(workspace.warehouse) as connection:
        for view in ("raw.rednote_clicks", "audit.file_ledger", "audit.quarantine"):
            connection.execute(f"CREATE TABLE {view}_old AS SELECT * FROM {view}")
        connection.execute("ALTER TABLE audit.quarantine_old DROP COLUMN kind")
        for view in ("raw.rednote_clicks", "audit.file_ledger", "audit.quarantine"):
            connection.execute(f"DROP VIEW {view}")
            connection.execute(f"ALTER TABLE {view}_old RENAME TO {view.split('.')[1]}")
        connection.execute(f"DROP TABLE {lake.LAKE_OF_WAREHOUSE}")  # recorded since the lake
    shutil.rmtree(workspace.lake)

    _deliver(workspace, NEXT_DAY, _clicks_of(NEXT_DAY, 1, line_1={"cid": "ee" * 16}))

    assert _ledger(workspace) == [(DAY, 3, 2, 1), (NEXT_DAY, 1, 1, 0)]
    assert len(_staged(workspace)) == 3
    assert _conflicts(workspace) == [
        (
            DAY,
            3,
            "cid",
            "repeats the key of line 1 (identical copy; counted once)",
            "identical_copy",
        )
    ]
    _balances(workspace)


def test_days_staged_side_by_side_equal_days_staged_one_by_one(workspace):
    """Worker processes (spawned, each with its own DuckDB) stage what one process does."""
    workspace.copy_examples()
    settings = Settings.from_env()
    days = [DAY, NEXT_DAY]
    lakes = {}
    for workers in (1, 2):
        lakes[workers] = workspace.root / f"lake_{workers}"
        staged = replace(settings, lake=lakes[workers], ingest_workers=workers)
        for spec in (CLICKS, SOURCES_BY_NAME["jd_orders"]):
            results, failures = stage_dumps(spec, days, staged, parallel_from_bytes=0)
            assert not failures and len(results) == 2

    def contents(root):
        with connect(workspace.root / f"{root.name}.duckdb") as connection:
            return {
                str(path.relative_to(root)): connection.execute(
                    f"SELECT * EXCLUDE (loaded_at) FROM {lake.read_sql([path], ())} ORDER BY ALL"
                ).fetchall()
                for path in sorted((root / "raw").rglob("*.parquet"))
            }

    assert contents(lakes[2]) == contents(lakes[1])
    assert len(contents(lakes[1])) == 4


def test_the_ledger_reads_an_index_in_the_lake_and_a_delivery_leaves_the_warehouse_unwritten(
    workspace,
):
    """A warehouse that kept the ledger's rows in a table of its own drops it, losing no row;
    from then on a delivery of a new day writes nothing to the warehouse (every write costs a
    checkpoint of the whole file), and the ledger's view shows it at once."""
    _deliver(workspace, DAY, _clicks_of(DAY, 2))
    with connect(workspace.warehouse) as connection:
        connection.execute(
            f"""CREATE TABLE {lake.LEDGER_TABLE_BEFORE_THE_INDEX} AS
                SELECT *, 'a file' AS ledger_file, 'a version' AS ledger_file_version
                FROM audit.file_ledger;
                CREATE OR REPLACE VIEW audit.file_ledger AS
                SELECT * EXCLUDE (ledger_file, ledger_file_version)
                FROM {lake.LEDGER_TABLE_BEFORE_THE_INDEX}"""
        )
    shutil.rmtree(workspace.lake / lake.LEDGER_INDEX)

    _deliver(workspace, NEXT_DAY, _clicks_of(NEXT_DAY, 1, line_1={"cid": "ee" * 16}))

    assert _ledger(workspace) == [(DAY, 2, 2, 0), (NEXT_DAY, 1, 1, 0)]
    assert workspace.query(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || table_name = ?",
        [lake.LEDGER_TABLE_BEFORE_THE_INDEX],
    ) == [(0,)]
    # Stray files by hand beside the ledger's folders are not ledger files.
    (workspace.lake / "audit" / "file_ledger" / ".DS_Store").write_text("")
    (workspace.lake / "audit" / "file_ledger" / "source=rednote_clicks" / "notes.txt").write_text(
        ""
    )
    written = workspace.warehouse.stat()
    third_day = NEXT_DAY + timedelta(days=1)
    _deliver(workspace, third_day, _clicks_of(third_day, 1, line_1={"cid": "ff" * 16}))

    after = workspace.warehouse.stat()
    assert (after.st_size, after.st_mtime_ns) == (written.st_size, written.st_mtime_ns)
    assert _ledger(workspace)[-1] == (third_day, 1, 1, 0)
    _balances(workspace)

    # An index made before the ledger's columns changed is written anew from the files.
    ledger = workspace.query("SELECT * FROM audit.file_ledger ORDER BY ALL")
    index = workspace.lake / lake.LEDGER_INDEX / "source=rednote_clicks" / lake.DATA_FILE
    with duckdb.connect() as connection:
        connection.execute(
            f"CREATE TABLE older AS SELECT * EXCLUDE (dropped_columns) "
            f"FROM {lake.read_sql(index, ())}"
        )
        lake.write_file(connection, "older", index)
    show_lake_in_warehouse(Settings.from_env(), [CLICKS])
    assert workspace.query("SELECT * FROM audit.file_ledger ORDER BY ALL") == ledger
