"""The nightly schedule and the inbox sensor, evaluated against a real inbox."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.pipeline.sensors import DOWNSTREAM_KEYS, inbox_sensor

SHANGHAI = ZoneInfo("Asia/Shanghai")
RAW_KEYS = {
    dg.AssetKey(["raw", s])
    for s in (
        "rednote_campaigns",
        "rednote_note_metrics",
        "rednote_clicks",
        "redstar_funnel",
        "tmall_orders",
        "jd_orders",
    )
}


def test_nightly_schedule_loads_yesterday_at_two_in_shanghai():
    schedule = defs.get_schedule_def("redcat_nightly")
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.cron_schedule == "0 2 * * *"
    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 5, 15, 2, 0, tzinfo=SHANGHAI)
    ) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2026-05-14"]


def _evaluate(cursor: str | None):
    with dg.build_sensor_context(cursor=cursor, definitions=defs) as context:
        result = inbox_sensor(context)
    return result.run_requests, result.cursor


def test_sensor_runs_new_and_redelivered_dumps_by_content(workspace):
    workspace.copy_examples()
    requests, cursor = _evaluate(None)
    assert [r.partition_key for r in requests] == ["2026-05-13", "2026-05-14"]
    for request in requests:
        assert set(request.asset_selection) == RAW_KEYS | set(DOWNSTREAM_KEYS)

    assert _evaluate(cursor)[0] == []  # nothing new

    clicks = workspace.inbox / "rednote_clicks/rednote_clicks_20260513.jsonl.gz"
    os.utime(clicks, ns=(1, 1))  # touched, same bytes: not a redelivery
    requests, cursor = _evaluate(cursor)
    assert requests == []

    redelivered = workspace.inbox / "tmall_orders/tmall_orders_20260513.csv"
    shutil.copy(workspace.inbox / "tmall_orders/tmall_orders_20260514.csv", redelivered)
    requests, cursor = _evaluate(cursor)
    assert [(r.partition_key, r.asset_selection[0]) for r in requests] == [
        ("2026-05-13", dg.AssetKey(["raw", "tmall_orders"]))
    ]
    assert set(requests[0].asset_selection) == {dg.AssetKey(["raw", "tmall_orders"])} | set(
        DOWNSTREAM_KEYS
    )
    assert _evaluate(cursor)[0] == []


def test_sensor_ignores_files_not_named_as_dumps(workspace):
    (workspace.inbox / "tmall_orders").mkdir()
    (workspace.inbox / "tmall_orders/notes.txt").write_text("not a dump")
    (workspace.inbox / "tmall_orders/tmall_orders_2026051.csv").write_text("bad date")
    assert _evaluate(None)[0] == []
