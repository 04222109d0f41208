"""A failed gate stops the marts: real pipeline runs over the examples' warehouse, then bad data.

Each test starts from a copy of the examples' green run (inbox, working warehouse, published
file), breaks one thing, runs the pipeline again and compares every mart, row for row.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingestion.assets import ingestion_assets
from orchestration.defs.ingestion.sources import SOURCES_BY_NAME
from orchestration.lib import lake
from orchestration.lib.publication import BUILD_STATE_TABLE
from orchestration.run import run_pipeline
from tests.conftest import EXAMPLES, marts_of
from tests.dumps import jsonl_gz_bytes

DAY_1, DAY_2 = date(2026, 5, 13), date(2026, 5, 14)
CLICKS = SOURCES_BY_NAME["rednote_clicks"]
TMALL = SOURCES_BY_NAME["tmall_orders"]


def _published_snapshots(workspace) -> list[tuple]:
    with duckdb.connect(str(workspace.published), read_only=True) as connection:
        return connection.execute("SELECT snapshot_id FROM audit.published_snapshot").fetchall()


@pytest.fixture
def built(examples_run, workspace):
    """The workspace holding a copy of the examples' green run."""
    shutil.copytree(examples_run.inbox, workspace.inbox, dirs_exist_ok=True)
    workspace.warehouse.parent.mkdir(parents=True, exist_ok=True)
    for name in (examples_run.warehouse, examples_run.published):
        shutil.copy(name, workspace.warehouse.parent / name.name)
    shutil.copytree(examples_run.lake, workspace.lake)
    workspace.marts_before = marts_of(workspace.warehouse)
    workspace.published_before = marts_of(workspace.published)
    workspace.snapshots_before = _published_snapshots(workspace)
    assert (
        workspace.marts_before["fct_clicks"]
        and workspace.marts_before == workspace.published_before
    )
    return workspace


def _assert_marts_unchanged(workspace) -> None:
    assert marts_of(workspace.warehouse) == workspace.marts_before
    assert marts_of(workspace.published) == workspace.published_before
    assert _published_snapshots(workspace) == workspace.snapshots_before


def _redeliver(path, content: bytes) -> None:
    path.unlink()  # the examples are copied read-only
    path.write_bytes(content)


def _check_evaluations(instance, run_id: str) -> list[dg.AssetCheckEvaluation]:
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    return [r.dagster_event.asset_check_evaluation_data for r in records]


def _failed(evaluations) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in evaluations if not e.passed
    }


def _failed_clicks_ledger_gate(instance, outcome) -> dict:
    """The metadata of the clicks' ledger gate, which failed the run alone."""
    assert not outcome.success
    failed = _failed(_check_evaluations(instance, outcome.run_id))
    assert set(failed) == {"raw/rednote_clicks:ledger_balances"}
    return failed["raw/rednote_clicks:ledger_balances"].metadata


def _clicks_with_late_click(click_time: str, bad_cids: int = 0) -> bytes:
    """The second day's clicks with the late click (cid 9) moved to another time, and the
    first `bad_cids` clicks' cids cut short."""
    example = EXAMPLES / "rednote_clicks" / CLICKS.file_name(DAY_2)
    records = [json.loads(line) for line in gzip.decompress(example.read_bytes()).splitlines()]
    for record in records:
        if record["cid"].endswith("9"):
            record["click_time"] = click_time
    for record in records[:bad_cids]:
        record["cid"] = record["cid"][:-1]
    return jsonl_gz_bytes(records)


def test_a_click_months_late_is_loaded_and_counted(built):
    clicks = CLICKS.path(built.inbox, DAY_2)
    _redeliver(clicks, _clicks_with_late_click("2026-03-01T22:10:00+08:00"))

    with built.instance() as instance:
        outcome = run_pipeline(DAY_2, DAY_2, instance)
    assert outcome.success, outcome.failures
    assert built.query("SELECT click_date FROM marts.fct_clicks WHERE cid LIKE '%9'") == [
        (date(2026, 3, 1),)
    ]


def test_a_failed_gate_keeps_the_marts_until_the_day_is_fixed(built, capfd):
    clicks = CLICKS.path(built.inbox, DAY_2)
    # Two of the day's three clicks have a cut cid: quarantined, far above the share allowed.
    _redeliver(clicks, _clicks_with_late_click("2026-05-13T22:10:00+08:00", bad_cids=2))

    with built.instance() as instance:
        outcome = run_pipeline(DAY_2, DAY_2, instance)
        assert not outcome.success
        # The operator reads why on the command line, not only in the UI: once, without the
        # step failure the check caused, and on a console free of stack traces.
        [failure] = outcome.failures
        assert failure.startswith("check raw/rednote_clicks:ledger_balances failed:")
        assert "quarantined as defects" in failure
        console = capfd.readouterr().err
        assert "quarantined as defects" in console
        assert "Stack Trace" not in console and "dagster._core" not in console
        downstream = [line for line in console.splitlines() if "Dependencies for step" in line]
        assert any("were not executed: ['redcat_dbt_models']." in line for line in downstream), (
            "\n".join(downstream) or console[-4000:]
        )
        metadata = _failed_clicks_ledger_gate(instance, outcome)
        # A gate new to this instance judges every staged day once, the run's and the lake's.
        assert metadata["dump_dates"].value == ["2026-05-13", "2026-05-14"]
        assert metadata["judged_again"].value == "2026-05-13"
        assert metadata["expectations_failed"].value == 1
        finding = metadata["failed_expectations"].value.records[0].data
        assert (finding["failing"], finding["where"]) == ("1 of 2 dump dates", "2026-05-14")
        _assert_marts_unchanged(built)

        # A later run for another day does not build over the bad day still staged.
        metadata = _failed_clicks_ledger_gate(instance, run_pipeline(DAY_1, DAY_1, instance))
        assert metadata["dump_dates"].value == ["2026-05-13", "2026-05-14"]
        assert metadata["judged_again"].value == "2026-05-14"
        _assert_marts_unchanged(built)

        # Redelivering the day's right file and re-running it clears the gate.
        _redeliver(clicks, (EXAMPLES / "rednote_clicks" / clicks.name).read_bytes())
        fixed = run_pipeline(DAY_2, DAY_2, instance)
        assert fixed.success, fixed.failures
        assert marts_of(built.warehouse) == built.marts_before

        # The bad file again, staged by a run that stopped before its gates (killed, or its
        # checks left out in the UI): the next run, for another day, judges it all the same.
        _redeliver(clicks, _clicks_with_late_click("2026-05-13T22:10:00+08:00", bad_cids=2))
        [ingest_clicks] = [a for a in ingestion_assets if a.key.path == ["raw", CLICKS.name]]
        staged = dg.materialize([ingest_clicks], partition_key=f"{DAY_2}", instance=instance)
        assert staged.success and not _check_evaluations(instance, staged.run_id)
        metadata = _failed_clicks_ledger_gate(instance, run_pipeline(DAY_1, DAY_1, instance))
        assert metadata["dump_dates"].value == ["2026-05-13", "2026-05-14"]
        assert metadata["judged_again"].value == "2026-05-14"
    assert marts_of(built.warehouse) == built.marts_before
    assert marts_of(built.published) == built.published_before
    assert len(_published_snapshots(built)) == len(built.snapshots_before) + 1


def test_a_file_with_too_many_quarantined_rows_fails_the_ledger_gate(built):
    tmall = TMALL.path(built.inbox, DAY_2)
    text = tmall.read_bytes().decode("gb18030")
    bad_row = text.splitlines()[1].replace("3901234567890123456", "3901234567890123499")
    bad_row = bad_row.replace(",299.00,299.00,", ",2x9.00,0.00,")
    _redeliver(tmall, (text + bad_row + "\n").encode("gb18030"))

    with built.instance() as instance:
        outcome = run_pipeline(DAY_2, DAY_2, instance)
        assert not outcome.success
        failed = _failed(_check_evaluations(instance, outcome.run_id))
    assert set(failed) == {"raw/tmall_orders:ledger_balances"}
    table = failed["raw/tmall_orders:ledger_balances"].metadata["failed_expectations"].value
    finding = table.records[0].data
    assert finding["rule"].startswith("at most 1.00% of the rows read are quarantined as defects")
    # A gate new to this instance judges every staged day: the day before passes.
    assert (finding["failing"], finding["where"]) == ("1 of 2 dump dates", "2026-05-14")
    # The share, and the row to fix, by file, line and column.
    assert finding["examples"].startswith(
        "0.2; tmall_orders_20260514.csv line 5: 买家实际支付金额: "
    )
    assert built.query(
        "SELECT rows_read, rows_staged, rows_quarantined FROM audit.file_ledger "
        "WHERE file_name = 'tmall_orders_20260514.csv' ORDER BY loaded_at DESC LIMIT 1"
    ) == [(5, 4, 1)]
    _assert_marts_unchanged(built)


def _judged(instance, outcome) -> dict[str, bool]:
    """Each gate the run evaluated: whether it judged (or gave its last verdict again)."""
    assert outcome.success, outcome.failures
    return {
        f"{e.asset_key.path[-1]}:{e.check_name}": "unchanged_since" not in e.metadata
        for e in _check_evaluations(instance, outcome.run_id)
        if e.asset_key.path[0] == "raw"
    }


def test_a_gate_that_passed_on_the_same_inputs_passes_again_without_judging(built, monkeypatch):
    def run() -> dict[str, bool]:
        return _judged(instance, run_pipeline(DAY_2, DAY_2, instance))

    def latest_tmall_quality_gate() -> dg.AssetCheckEvaluation:
        [evaluation] = [
            e
            for e in _check_evaluations(instance, instance.get_runs(limit=1)[0].run_id)
            if e.check_name == "quality_gate" and e.asset_key.path == ["raw", TMALL.name]
        ]
        return evaluation

    with built.instance() as instance:
        # New to this instance, every gate judges every day; then the run's day alone; the
        # same night again, none does.
        assert set(run().values()) == {True}
        assert set(run().values()) == {True}
        judged = run()
        assert len(judged) == 12 and set(judged.values()) == {False}
        passed_again = latest_tmall_quality_gate()
        # Given again as often as nothing changes, with the time it was judged.
        assert set(run().values()) == {False}
        given_again = latest_tmall_quality_gate()
        assert given_again.description == passed_again.description
        assert given_again.description.count("Unchanged since judged at") == 1
        assert given_again.metadata["dump_dates"].value == [f"{DAY_2}"]

        # Other thresholds: every gate judges, once.
        monkeypatch.setenv("REDCAT_MAX_QUARANTINE_SHARE", "0.02")
        assert set(run().values()) == {True}
        assert set(run().values()) == {False}

        # The day's Tmall rows rewritten in the lake (by hand: no ledger says so): its gates
        # judge, the others give their verdicts again.
        tmall_day = lake.partition(built.lake, TMALL.table, DAY_2) / lake.DATA_FILE
        with duckdb.connect() as connection:
            connection.execute(
                f"CREATE TABLE same AS SELECT * FROM {lake.read_sql([tmall_day], ())}"
            )
            lake.write_file(connection, "same", tmall_day)
        judged = run()
        assert {gate for gate, judging in judged.items() if judging} == {
            "tmall_orders:quality_gate",
            "tmall_orders:ledger_balances",
        }

        # The day's clicks put back from a copy that keeps the files' times (a restore): judged.
        clicks_day = lake.partition(built.lake, CLICKS.table, DAY_2)
        kept = built.lake.with_name("kept clicks")
        shutil.copytree(clicks_day, kept)
        shutil.rmtree(clicks_day)
        shutil.copytree(kept, clicks_day)
        judged = run()
        assert {gate for gate, judging in judged.items() if judging} == {
            "rednote_clicks:quality_gate",
            "rednote_clicks:ledger_balances",
        }

        # The same files in another lake (REDCAT_LAKE pointed elsewhere): every gate judges.
        moved = built.lake.with_name("another lake")
        shutil.copytree(built.lake, moved)
        monkeypatch.setenv("REDCAT_LAKE", str(moved))
        assert set(run().values()) == {True}
    # The same rows, built and published again.
    assert marts_of(built.published) == built.published_before


def test_a_failing_dbt_test_stops_the_marts_downstream(built):
    # No file passing the raw gates trips a model test (the gates hold every staging rule),
    # so the lake is broken by hand: a day the gates have judged holds a click twice. A night
    # leaves the staging views and their tests to full builds, so the models are made to have
    # changed since the last build (an upgrade), as a full build after it checks every row.
    with built.instance() as instance:
        assert run_pipeline(DAY_2, DAY_2, instance).nothing_changed  # the gates judge the lake
    day_1 = lake.partition(built.lake, CLICKS.table, DAY_1) / lake.DATA_FILE
    with duckdb.connect() as connection:
        connection.execute(
            f"""CREATE TABLE doubled AS
                WITH redelivered AS (
                    SELECT * REPLACE (now() AS loaded_at) FROM {lake.read_sql([day_1], ())}
                )
                SELECT * FROM redelivered
                UNION ALL SELECT * FROM redelivered WHERE cid LIKE '%1'"""
        )
        lake.write_file(connection, "doubled", day_1)
    with duckdb.connect(str(built.warehouse)) as connection:
        connection.execute(f"UPDATE {BUILD_STATE_TABLE} SET models_fingerprint = 'older code'")

    with built.instance() as instance:
        outcome = run_pipeline(DAY_2, DAY_2, instance)
        assert not outcome.success
        evaluations = _check_evaluations(instance, outcome.run_id)
    failed = _failed(evaluations)
    assert set(failed) == {
        "staging/stg_rednote__clicks:"
        "unique_combination_of_columns_stg_rednote__clicks_dump_date__cid"
    }
    assert any("redcat_dbt_models" in f for f in outcome.failures), outcome.failures
    _assert_marts_unchanged(built)


def test_a_gate_run_without_dump_dates_says_what_it_needs(workspace):
    # The gates are not partitioned, so the UI lets one run without a day: it fails saying so.
    from orchestration.definitions import defs
    from orchestration.defs.pipeline.jobs import pipeline_job

    gate = dg.AssetCheckKey(dg.AssetKey(["raw", CLICKS.name]), "quality_gate")
    job = defs.resolve_job_def(pipeline_job.name).get_subset(
        asset_check_selection={gate}, asset_selection=set()
    )
    with workspace.instance() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    [failure] = [event.step_failure_data for event in result.all_events if event.is_step_failure]
    assert failure.user_failure_data.description == (
        "no dump date chosen: run it for a day or a range of days (partitions)"
    )
    assert not _check_evaluations(instance, result.run_id)
