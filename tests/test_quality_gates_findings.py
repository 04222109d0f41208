"""The GX gates' findings, on real DuckDB, through the gate functions the asset checks run:
what each gate checks, what it finds in staged rows and ledger figures, and where."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

from orchestration.defs.ingestion.sources import SOURCES_BY_NAME
from orchestration.lib import lake
from orchestration.lib.quality.gates import ledger_gate, quality_gate
from orchestration.lib.settings import Settings, Thresholds
from orchestration.lib.warehouse import scratch
from tests.conftest import REPOSITORY_ROOT
from tests.dumps import DAY, deliver, rows


def _tamper(workspace, source: str, day: date, column: str, value_sql: str) -> None:
    """Change line 2's staged value in the lake, as a hand edit or a loader bug would."""
    data = lake.partition(workspace.lake, f"raw.{source}", day) / lake.DATA_FILE
    with scratch(Settings.from_env().duckdb_limits) as connection:
        connection.execute(
            f"""CREATE TABLE tampered AS SELECT * REPLACE (
                    CASE WHEN source_line = 2 THEN {value_sql} ELSE {column} END AS {column})
                FROM {lake.read_sql([data], ())}"""
        )
        lake.write_file(connection, "tampered", data)


def _findings(outcome) -> list[tuple[str, str, list[str], list[str]]]:
    return [(f.rule, f.failing, f.examples, f.where) for f in outcome.findings]


def test_gate_passes_clean_files_and_names_what_it_checked(workspace):
    deliver(workspace.inbox, "tmall_orders", DAY, rows("tmall_orders", 3))
    outcome = quality_gate(
        SOURCES_BY_NAME["tmall_orders"], [DAY], Settings.from_env(), Thresholds()
    )
    assert outcome.passed, outcome.summary()
    assert (outcome.rows_checked, outcome.expectations) == (3, 22)


def test_gate_finds_staged_rows_that_break_the_spec(workspace):
    """The GX suite re-checks what the loader staged: a row changed in raw after loading
    (by hand, or by a loader bug) is found with its file and line."""
    deliver(workspace.inbox, "tmall_orders", DAY, rows("tmall_orders", 3))
    _tamper(workspace, "tmall_orders", DAY, "refund_amount", "300")

    outcome = quality_gate(
        SOURCES_BY_NAME["tmall_orders"], [DAY], Settings.from_env(), Thresholds()
    )

    assert _findings(outcome) == [
        (
            "退款金额 ≤ 买家实际支付金额",
            "1 of 3 rows",
            ["(300.00, 299.00)"],
            ["tmall_orders_20260513.csv line 2"],
        ),
    ]


def test_gate_collapsed_row_count_against_the_recent_median(workspace, monkeypatch):
    monkeypatch.setenv("REDCAT_ROW_COUNT_MIN_HISTORY", "3")
    monkeypatch.setenv("REDCAT_ROW_COUNT_MIN_MEDIAN", "5")
    history = [DAY - timedelta(days=n) for n in (3, 2, 1)]
    for day, count in zip(history, (10, 12, 11), strict=True):
        table = rows("redstar_funnel", count)
        for row in table:
            row["event_time"] = f"{day} 10:00:00"
        deliver(workspace.inbox, "redstar_funnel", day, table)
    deliver(workspace.inbox, "redstar_funnel", DAY, rows("redstar_funnel", 2))

    outcome = quality_gate(
        SOURCES_BY_NAME["redstar_funnel"],
        [*history, DAY],
        Settings.from_env(),
        Thresholds.from_env(),
    )
    assert _findings(outcome) == [
        (
            "rows read ≥ 20% of the median of the files of the 28 days before (not collapsed)",
            "1 of 4 dump dates",
            ["(2, 2.2)"],
            ["2026-05-13"],
        ),
    ]
    assert [(d["rows_read"], d["recent_median"]) for d in outcome.days][1:] == [
        (12, 10.0),
        (11, 11.0),
        (2, 11.0),
    ]


def test_ledger_gate_quarantine_share_threshold_is_a_setting(workspace, monkeypatch):
    deliver(workspace.inbox, "jd_orders", DAY, rows("jd_orders", 4, line_4={"订单状态": "未知"}))
    spec = SOURCES_BY_NAME["jd_orders"]

    outcome = ledger_gate(spec, [DAY], Settings.from_env(), Thresholds.from_env())
    assert _findings(outcome) == [
        (
            "at most 1.00% of the rows read are quarantined as defects "
            "(REDCAT_MAX_QUARANTINE_SHARE)",
            "1 of 1 dump dates",
            # The share, and the rows to fix by file, line and column.
            [
                "0.25",
                "jd_orders_20260513.xlsx line 4: 订单状态: not one of 等待付款, 等待出库, "
                "等待确认收货, 完成, 已取消, 退款成功",
            ],
            ["2026-05-13"],
        ),
    ]
    monkeypatch.setenv("REDCAT_MAX_QUARANTINE_SHARE", "0.25")
    assert ledger_gate(spec, [DAY], Settings.from_env(), Thresholds.from_env()).passed


def test_ledger_gate_ignores_identical_copies_and_flags_a_missing_day(workspace):
    deliver(
        workspace.inbox,
        "rednote_clicks",
        DAY,
        rows("rednote_clicks", 2) + rows("rednote_clicks", 1),
    )
    spec = SOURCES_BY_NAME["rednote_clicks"]
    missing = DAY + timedelta(days=1)

    outcome = ledger_gate(spec, [DAY, missing], Settings.from_env(), Thresholds())

    assert _findings(outcome) == [
        (
            "the dump date has a file in the ledger",
            "1 of 2 dump dates",
            ["(empty)"],
            ["2026-05-14"],
        ),
    ]
    assert [(d["rows_read"], d["rows_quarantined"], d["defect_rows"]) for d in outcome.days][0] == (
        3,
        1,
        0,
    )


def test_gate_findings_of_several_days_add_up(workspace):
    days = [DAY, DAY + timedelta(days=1)]
    for day in days:
        table = rows("rednote_clicks", 3)
        for number, row in enumerate(table):
            row |= {"cid": f"{day:%Y%m%d}{number:024x}", "click_time": f"{day}T10:00:00+08:00"}
        deliver(workspace.inbox, "rednote_clicks", day, table)
        _tamper(workspace, "rednote_clicks", day, "placement", "'story'")

    outcome = quality_gate(
        SOURCES_BY_NAME["rednote_clicks"], days, Settings.from_env(), Thresholds()
    )

    assert outcome.rows_checked == 6
    assert _findings(outcome) == [
        (
            "placement is one of feed, search, detail",
            "2 of 6 rows",
            ["story", "story"],
            ["rednote_clicks_20260513.jsonl.gz line 2", "rednote_clicks_20260514.jsonl.gz line 2"],
        )
    ]


def test_late_rows_pass_the_gates_and_a_row_after_the_dump_date_is_a_small_defect(workspace):
    """Late data the contract allows never stops a run; a funnel event past midnight in the
    previous day's file is quarantined and judged by its share."""
    clicks = rows("rednote_clicks", 3, line_1={"click_time": "2026-03-01T09:00:00+08:00"})
    funnel = rows("redstar_funnel", 200, line_7={"event_time": "2026-05-14 00:00:05"})
    funnel[20]["event_time"] = "2026-01-13 10:00:00"
    deliver(workspace.inbox, "rednote_clicks", DAY, clicks)
    deliver(workspace.inbox, "redstar_funnel", DAY, funnel)

    for source in ("rednote_clicks", "redstar_funnel"):
        for gate in (quality_gate, ledger_gate):
            outcome = gate(SOURCES_BY_NAME[source], [DAY], Settings.from_env(), Thresholds())
            assert outcome.passed, outcome.summary()
    assert workspace.query(
        "SELECT rows_read, rows_staged, rows_quarantined FROM audit.current_delivery "
        "WHERE source = 'redstar_funnel'"
    ) == [(200, 199, 1)]
    assert workspace.query("SELECT kind FROM audit.quarantine") == [("outside_dump_date",)]


def test_the_gates_run_where_pyspark_would_end_the_process():
    """pyspark (installed for REDCAT_ENGINE=spark) exits with status 0 a process whose
    __main__ has no file, as Dagster's run workers have, when GX imports it."""
    script = (
        "from orchestration.lib.quality.validation import great_expectations\n"
        "great_expectations()\n"
        "print('gates can run')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPOSITORY_ROOT
    )
    assert result.stdout.strip() == "gates can run", result.stderr


def test_a_day_without_rows_breaks_no_row_rule(workspace):
    deliver(workspace.inbox, "jd_orders", DAY, [])
    deliver(workspace.inbox, "jd_orders", DAY + timedelta(days=1), rows("jd_orders", 2))
    days = [DAY, DAY + timedelta(days=1)]

    outcome = quality_gate(SOURCES_BY_NAME["jd_orders"], days, Settings.from_env(), Thresholds())

    assert outcome.passed, outcome.summary()
    assert outcome.rows_checked == 2
