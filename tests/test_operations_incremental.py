"""Day after day equals all at once, and a redelivered dump changes exactly what it should."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.lib import lake
from orchestration.lib.publication import default_report_path
from orchestration.run import run_pipeline
from tests import dumps
from tests.conftest import OPERATIONS_END, OPERATIONS_START, REPOSITORY_ROOT, marts_of

TMALL_ENCODING = "gb18030"
# The models built incrementally on DuckDB (macros/incremental_keys.sql).
INCREMENTAL_MODELS = (
    "int_orders_latest",
    "int_clicks_deliveries",
    "int_clicks_deduplicated",
    "int_funnel_events_deduplicated",
    "int_orders_attributed",
    "int_click_totals",
    "fct_orders",
    "fct_clicks",
)
REFUND_COLUMN, PAID_COLUMN, STATUS_COLUMN = "退款金额", "买家实际支付金额", "订单状态"


def _changed_keys(before: list[tuple], after: list[tuple], key_width: int) -> set[tuple]:
    """Keys (the first `key_width` columns) whose row was added, removed or changed."""
    old = {row[:key_width]: row for row in before}
    new = {row[:key_width]: row for row in after}
    assert len(old) == len(before) and len(new) == len(after), "key is not unique"
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def _rows_but_stamps(warehouse: Path, model: str) -> list[tuple]:
    """An incremental model's rows, sorted, without the build stamp (derived_at)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (schema,) = connection.execute(
            "SELECT schema_name FROM duckdb_tables() WHERE table_name = ?", [model]
        ).fetchone()
        return connection.execute(
            f"SELECT * EXCLUDE (derived_at) FROM {schema}.{model} ORDER BY ALL"
        ).fetchall()


def _dbt(arguments: list[str], warehouse: Path, lake: Path, tmp_path: Path):
    """dbt run by hand on a warehouse, as a developer would (its data tests, not unit tests)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *arguments]
        + ["--exclude-resource-type", "unit_test", "--profiles-dir", "profiles"]
        + ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPOSITORY_ROOT,
        env=dict(os.environ, REDCAT_WAREHOUSE=str(warehouse), REDCAT_LAKE=str(lake)),
        capture_output=True,
        text=True,
    )


def _redeliver_with_full_refund(path, order_id: str) -> None:
    """Rewrite a Tmall dump as the shop would re-export it after refunding one order in full."""
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode(TMALL_ENCODING))))
    order = next(row for row in rows if row["订单编号"] == order_id)
    order[REFUND_COLUMN] = order[PAID_COLUMN]
    order[STATUS_COLUMN] = "交易关闭"
    path.write_bytes(dumps.dump("tmall_orders", rows))


def _redeliver_without(path, order_ids: set[str]) -> None:
    """Rewrite a Tmall dump as the shop would re-export it without some orders."""
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode(TMALL_ENCODING))))
    kept = [row for row in rows if row["订单编号"] not in order_ids]
    assert len(kept) == len(rows) - len(order_ids)
    path.write_bytes(dumps.dump("tmall_orders", kept))


def test_the_last_day_after_the_others_equals_all_days_at_once(
    workspace, batch_run, before_last_day
):
    workspace.copy_state_from(before_last_day)
    with workspace.instance() as instance:
        outcome = run_pipeline(OPERATIONS_END, OPERATIONS_END, instance)
        materialized = {
            record.asset_key.path[0]
            for record in instance.get_records_for_run(
                outcome.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
        }
        checked = {
            record.event_log_entry.dagster_event.asset_check_evaluation_data.check_name
            for record in instance.get_records_for_run(
                outcome.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        }
    assert outcome.success, outcome.failures
    # The night leaves the seeds and staging views as the full build made them, and their
    # tests (the gates checked the new deliveries' rows for the same rules), and still
    # publishes; every staged order status still maps through the seed to a known status.
    assert materialized.isdisjoint({"reference", "staging"}), materialized
    assert {"marts", "published"} <= materialized
    assert not any("_stg_" in name for name in checked), sorted(checked)
    assert {
        "not_null_int_orders_normalized_status",
        "accepted_values_int_orders_normalized_status__pending_payment__paid__shipped__completed"
        "__closed__refunded",
    } <= checked, sorted(checked)

    incremental, batch = marts_of(workspace.published), marts_of(batch_run.published)
    assert set(incremental) == set(batch) and len(batch) >= 9
    for table in batch:
        assert incremental[table] == batch[table], table
    # The last day did change the cohorts: this is not a comparison of two unchanged files.
    before = marts_of(before_last_day.published)
    assert before["mart_conversion_lag"] != batch["mart_conversion_lag"]


def test_a_redelivered_old_dump_changes_exactly_its_orders_cohorts(workspace, before_last_day):
    workspace.copy_state_from(before_last_day)
    # An attributed Tmall order, paid, whose current state is an old dump (no later dump has it).
    (order_id, dump_date, campaign_id, note_id, click_date, lag_days) = workspace.query(
        """SELECT order_id, state_dump_date, campaign_id, note_id, click_date, lag_days
           FROM marts.fct_orders
           WHERE platform = 'tmall' AND attribution_status = 'attributed'
             AND status IN ('paid', 'shipped', 'completed') AND lag_days <= 30
             AND state_dump_date < (SELECT max(state_dump_date) FROM marts.fct_orders)
           ORDER BY state_dump_date, order_id LIMIT 1"""
    )[0]
    before = marts_of(workspace.published)

    dump = workspace.inbox / "tmall_orders" / f"tmall_orders_{dump_date:%Y%m%d}.csv"
    _redeliver_with_full_refund(dump, order_id)
    with workspace.instance() as instance:
        outcome = run_pipeline(dump_date, dump_date, instance)
    assert outcome.success, outcome.failures
    after = marts_of(workspace.published)

    assert _changed_keys(before["fct_orders"], after["fct_orders"], 2) == {("tmall", order_id)}
    assert workspace.query(
        "SELECT status, net_gmv FROM marts.fct_orders WHERE order_id = ?", [order_id]
    ) == [("refunded", 0)]
    # Its click cohort loses the order's net GMV from its lag day on, and nothing else moves.
    cohort_lags = {
        key
        for key in (row[:4] for row in before["mart_conversion_lag"])
        if key[:3] == (campaign_id, "tmall", click_date) and key[3] >= lag_days
    }
    assert len(cohort_lags) > 1
    assert (
        _changed_keys(before["mart_conversion_lag"], after["mart_conversion_lag"], 4) == cohort_lags
    )
    assert _changed_keys(before["mart_note_windows"], after["mart_note_windows"], 2) == {
        (note_id, click_date)
    }


def test_a_night_where_nothing_changed_builds_and_publishes_nothing(workspace, batch_run):
    workspace.copy_state_from(batch_run)
    published_bytes = workspace.published.read_bytes()
    # The last publication was killed after it replaced the file, before it drew the report.
    report = default_report_path(workspace.published)
    report.unlink(missing_ok=True)
    with workspace.instance() as instance:
        outcome = run_pipeline(OPERATIONS_END, OPERATIONS_END, instance)
        assert outcome.success, outcome.failures
        steps = {s.step_key: s.status.value for s in instance.get_run_step_stats(outcome.run_id)}
        materialized = {
            record.dagster_event.asset_key.path[0]
            for record in instance.all_logs(
                outcome.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            )
        }
    assert outcome.nothing_changed
    assert steps["published__analytics_snapshot"] == "SKIPPED", steps
    assert materialized == {"raw"}
    assert workspace.published.read_bytes() == published_bytes
    # Only the report is drawn again, from the file it sits beside.
    assert report.stat().st_mtime_ns >= workspace.published.stat().st_mtime_ns

    # A redelivered day is a change again: built and published. The models were built by
    # other code (here: an order state it would not derive), so all is built anew.
    (order_id,) = workspace.query(
        """SELECT order_id FROM intermediate.int_orders_latest WHERE platform = 'tmall'
           AND dump_date < ? ORDER BY order_id LIMIT 1""",
        [OPERATIONS_END],
    )[0]
    with duckdb.connect(str(workspace.warehouse)) as connection:
        connection.execute("UPDATE audit.build_state SET models_fingerprint = 'other code'")
        connection.execute(
            "UPDATE intermediate.int_orders_latest SET item_title = 'stale' WHERE order_id = ?",
            [order_id],
        )
    dump = workspace.inbox / "tmall_orders" / f"tmall_orders_{OPERATIONS_END:%Y%m%d}.csv"
    dump.write_bytes(dump.read_bytes() + b"\r\n")
    with workspace.instance() as instance:
        outcome = run_pipeline(OPERATIONS_END, OPERATIONS_END, instance)
    assert outcome.success, outcome.failures
    assert workspace.published.read_bytes() != published_bytes
    assert marts_of(workspace.published) == marts_of(batch_run.published)


def _read_clicks(path: Path) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def _read_funnel(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_an_incremental_build_after_redeliveries_that_drop_and_copy_rows_equals_a_full_rebuild(
    workspace, before_last_day, tmp_path: Path
):
    """The incremental models derive again only what new deliveries touch: redelivered dumps
    that drop orders, clicks and funnel events, or copy clicks and events into a later dump,
    give the warehouse a full rebuild of the same lake gives."""
    workspace.copy_state_from(before_last_day)
    # A Tmall dump holding the current state of an order seen before it, and an order seen
    # only there: redelivered without both.
    (dump_date, falls_back, only_there) = workspace.query(
        """SELECT state_dump_date, min(order_id) FILTER (WHERE first_dump_date < state_dump_date),
                  min(order_id) FILTER (WHERE first_dump_date = state_dump_date)
           FROM marts.fct_orders WHERE platform = 'tmall'
           GROUP BY state_dump_date
           HAVING count(*) FILTER (WHERE first_dump_date < state_dump_date) > 0
              AND count(*) FILTER (WHERE first_dump_date = state_dump_date) > 0
           ORDER BY state_dump_date LIMIT 1"""
    )[0]
    dump = workspace.inbox / "tmall_orders" / f"tmall_orders_{dump_date:%Y%m%d}.csv"
    _redeliver_without(dump, {falls_back, only_there})
    # The first day's clicks redelivered without a click that brought JD orders (gone: no
    # redelivered order dump holds them, only the click says they changed) and one
    # that the second day's redelivery now holds (its first delivery moves); the second day's
    # also holds a copy of a third (a duplicate). The same for funnel events.
    first_day, second_day = OPERATIONS_START, OPERATIONS_START + timedelta(days=1)
    [(gone_click,)] = workspace.query(
        """SELECT min(cid) FROM marts.fct_orders
           WHERE platform = 'jd' AND attribution_status = 'attributed' AND cid IN
               (SELECT cid FROM marts.fct_clicks WHERE dump_date = ?)""",
        [first_day],
    )
    clicks = {
        day: workspace.inbox / "rednote_clicks" / f"rednote_clicks_{day:%Y%m%d}.jsonl.gz"
        for day in (first_day, second_day)
    }
    first_clicks = _read_clicks(clicks[first_day])
    moved_click, copied_click = [c for c in first_clicks if c["cid"] != gone_click][:2]
    clicks[first_day].write_bytes(
        dumps.dump(
            "rednote_clicks",
            [c for c in first_clicks if c["cid"] not in (gone_click, moved_click["cid"])],
        )
    )
    clicks[second_day].write_bytes(
        dumps.dump("rednote_clicks", _read_clicks(clicks[second_day]) + [moved_click, copied_click])
    )
    funnel = {
        day: workspace.inbox / "redstar_funnel" / f"redstar_funnel_{day:%Y%m%d}.csv"
        for day in (first_day, second_day)
    }
    first_events = _read_funnel(funnel[first_day])
    gone_event, moved_event, copied_event = first_events[:3]
    funnel[first_day].write_bytes(dumps.dump("redstar_funnel", first_events[3:] + [copied_event]))
    funnel[second_day].write_bytes(
        dumps.dump("redstar_funnel", _read_funnel(funnel[second_day]) + [moved_event, copied_event])
    )

    with workspace.instance() as instance:
        outcome = run_pipeline(min(dump_date, first_day), max(dump_date, second_day), instance)
    assert outcome.success, outcome.failures

    states = dict(
        workspace.query(
            "SELECT order_id, state_dump_date FROM marts.fct_orders WHERE order_id IN (?, ?)",
            [falls_back, only_there],
        )
    )
    assert only_there not in states and states[falls_back] < dump_date
    clicks_now = dict(
        (cid, (delivered, deliveries))
        for cid, delivered, deliveries in workspace.query(
            "SELECT cid, dump_date, deliveries FROM marts.fct_clicks WHERE cid IN (?, ?, ?)",
            [gone_click, moved_click["cid"], copied_click["cid"]],
        )
    )
    assert clicks_now == {
        moved_click["cid"]: (second_day, 1),
        copied_click["cid"]: (first_day, 2),
    }
    assert workspace.query(
        "SELECT DISTINCT attribution_status FROM marts.fct_orders WHERE cid = ?", [gone_click]
    ) == [("unmatched_cid",)]

    _assert_equals_a_full_rebuild(workspace, tmp_path)


def test_a_day_delivered_after_later_days_equals_a_full_rebuild(
    workspace, before_last_day, tmp_path: Path
):
    """A gap filled late (a backfill of a day after the days after it): the order models read
    only its files and what they hold, and give what a full rebuild of the same lake gives."""
    shutil.copytree(before_last_day.inbox, workspace.inbox, dirs_exist_ok=True)
    late_day = OPERATIONS_START + timedelta(days=1)
    with workspace.instance() as instance:
        for start, end in ((late_day + timedelta(days=1), OPERATIONS_END), (late_day, late_day)):
            outcome = run_pipeline(start, end, instance)
            assert outcome.success, outcome.failures
    # Orders first seen on the late day and again after it: their first dump moved back.
    [(moved_back,)] = workspace.query(
        """SELECT count(*) FROM marts.fct_orders
           WHERE first_dump_date = ? AND state_dump_date > first_dump_date""",
        [late_day],
    )
    assert moved_back > 0
    _assert_equals_a_full_rebuild(workspace, tmp_path)


def _assert_equals_a_full_rebuild(workspace, tmp_path: Path) -> None:
    """The warehouse's marts and incremental models equal the same dbt project's built anew
    from the same lake."""
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy2(workspace.warehouse, rebuilt)
    # Its data tests are not what is compared (the incremental build ran them).
    completed = _dbt(
        ["build", "--full-refresh", "--exclude-resource-type", "test"],
        rebuilt,
        workspace.lake,
        tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    assert marts_of(workspace.warehouse) == marts_of(rebuilt)
    for model in INCREMENTAL_MODELS:
        assert _rows_but_stamps(workspace.warehouse, model) == _rows_but_stamps(rebuilt, model)


def test_an_incremental_builds_data_tests_check_what_changed_since_the_last_passing_build(
    batch_run, tmp_path
):
    """A night's build checks the rows derived or delivered since the last build whose tests
    all passed (macros/tests_in_scope.sql); without a record of one, every row."""
    # Views name the warehouse's catalog: the copy keeps the file's name.
    warehouse = tmp_path / "copy" / batch_run.warehouse.name
    warehouse.parent.mkdir()
    shutil.copy2(batch_run.warehouse, warehouse)

    def tests_of(models: str) -> subprocess.CompletedProcess:
        return _dbt(["test", "--select", models], warehouse, batch_run.lake, tmp_path)

    with duckdb.connect(str(warehouse)) as connection:
        # An order checked by the last build, changed behind the pipeline's back.
        (order_id,) = connection.execute(
            "UPDATE marts.fct_orders SET status = 'misfiled' "
            "WHERE order_id = (SELECT min(order_id) FROM marts.fct_orders) RETURNING order_id"
        ).fetchone()
    passed = tests_of("fct_orders")
    assert passed.returncode == 0, passed.stdout[-3000:]

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "UPDATE marts.fct_orders SET derived_at = now() WHERE order_id = ?", [order_id]
        )
        # The last Tmall dump delivered again since the last check, with an order twice (the
        # raw tables are views of the lake, which this copy shares: the copy's view changes).
        connection.execute("ALTER VIEW raw.tmall_orders RENAME TO tmall_orders_in_lake")
        connection.execute(
            """CREATE VIEW raw.tmall_orders AS
               WITH redelivered AS (
                   SELECT * REPLACE (now() AS loaded_at) FROM raw.tmall_orders_in_lake
                   WHERE dump_date = (SELECT max(dump_date) FROM raw.tmall_orders_in_lake)
               )
               SELECT * FROM raw.tmall_orders_in_lake
               WHERE dump_date < (SELECT max(dump_date) FROM raw.tmall_orders_in_lake)
               UNION ALL SELECT * FROM redelivered
               UNION ALL (SELECT * FROM redelivered LIMIT 1)"""
        )
    failed = tests_of("fct_orders stg_tmall__orders")
    assert failed.returncode == 1
    assert "FAIL 1 accepted_values_fct_orders_status" in failed.stdout
    assert "FAIL 1 unique_combination_of_columns_stg_tmall__orders_dump_date__order_id" in (
        failed.stdout
    )

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "UPDATE marts.fct_orders SET derived_at = derived_at - INTERVAL 1 DAY "
            "WHERE order_id = ?",
            [order_id],
        )
        connection.execute("DROP TABLE audit.build_state")
    unscoped = tests_of("fct_orders")
    assert "FAIL 1 accepted_values_fct_orders_status" in unscoped.stdout


def test_the_models_fingerprint_follows_the_models_not_the_checkouts_folder(tmp_path):
    """A checkout moved to another folder builds incrementally on; a changed model does not."""
    manifest = json.loads((REPOSITORY_ROOT / "dbt_project/target/manifest.json").read_bytes())
    fingerprints = []
    for root, sql in (("/srv/redcat", None), ("/home/分析/red cat", None), ("/srv/redcat", "1")):
        for node in manifest["nodes"].values():
            node["root_path"] = root
        if sql:
            manifest["nodes"]["model.redcat.int_orders_latest"]["raw_code"] += sql
        (tmp_path / "manifest.json").write_text(json.dumps(manifest))
        fingerprints.append(lake.models_fingerprint(tmp_path / "manifest.json"))
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]
