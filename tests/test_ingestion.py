"""Ingestion on the real stack: files in a temporary inbox, a real DuckDB file, Dagster runs."""

from __future__ import annotations

import codecs
from datetime import date

import dagster as dg
import pytest

from orchestration.defs.ingestion.assets import ingestion_assets
from orchestration.defs.ingestion.sources import SOURCES_BY_NAME
from orchestration.lib.loading import MissingDump, load_dump
from orchestration.lib.personal_data import buyer_key
from orchestration.lib.settings import (
    DEVELOPMENT_BUYER_KEY_SECRET,
    ConfigurationError,
    Settings,
)
from tests.dumps import deliver, rows

DAY_1, DAY_2 = date(2026, 5, 13), date(2026, 5, 14)
TMALL = SOURCES_BY_NAME["tmall_orders"]
ASSETS_BY_SOURCE = {a.key.path[-1]: a for a in ingestion_assets}


def test_every_source_loads_with_ids_intact_and_no_personal_data(workspace):
    workspace.copy_examples()
    settings = Settings.from_env()
    for spec in SOURCES_BY_NAME.values():
        result = load_dump(spec, DAY_1, settings)
        assert result.rows_read == result.rows_staged + result.rows_quarantined
        assert result.rows_quarantined == 0, result.quarantine_reasons

    order_ids = {r[0] for r in workspace.query("SELECT order_id FROM raw.tmall_orders")}
    assert "3901234567890123456" in order_ids  # all 19 digits, as text
    keys = dict(workspace.query("SELECT order_id, buyer_key FROM raw.tmall_orders"))
    expected_key = buyer_key("tb_lucy88", DEVELOPMENT_BUYER_KEY_SECRET.encode())
    assert keys["3901234567890123456"] == expected_key
    columns = {
        r[0]
        for r in workspace.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw'"
        )
    }
    assert not columns & {"buyer_account", "receiver_name", "receiver_phone", "address"}
    # 10:06 in Shanghai is 02:06 UTC: the instant is right, not just the wall clock.
    paid = workspace.query(
        "SELECT epoch(paid_at) FROM raw.tmall_orders WHERE order_id = '3901234567890123456'"
    )[0][0]
    assert paid == pytest.approx(1778638000.0)


def test_redelivered_dump_replaces_its_partition(workspace):
    deliver(workspace.inbox, TMALL.name, DAY_1, rows(TMALL.name, 2))
    deliver(
        workspace.inbox,
        TMALL.name,
        DAY_2,
        rows(TMALL.name, 1, line_1={"订单编号": "3901234567890000009"}),
    )

    result = deliver(
        workspace.inbox,
        TMALL.name,
        DAY_1,
        rows(TMALL.name, 1, line_1={"买家实际支付金额": "199.00"}),
    )

    assert result.status == "loaded"
    staged = workspace.query(
        "SELECT dump_date, order_id, paid_amount FROM raw.tmall_orders ORDER BY dump_date"
    )
    assert [(d, o, str(a)) for d, o, a in staged] == [
        (DAY_1, "3901234567890000001", "199.00"),
        (DAY_2, "3901234567890000009", "299.00"),
    ]
    ledger = workspace.query(
        "SELECT rows_read, rows_staged FROM audit.file_ledger WHERE dump_date = ? "
        "ORDER BY loaded_at",
        [DAY_1],
    )
    assert ledger == [(2, 2), (1, 1)]


def test_loading_the_same_file_twice_changes_nothing(workspace):
    workspace.copy_examples()
    settings = Settings.from_env()
    load_dump(TMALL, DAY_1, settings)
    snapshot_sql = "SELECT * FROM raw.tmall_orders ORDER BY order_id"
    before = workspace.query(snapshot_sql)
    ledger_before = workspace.query("SELECT * FROM audit.file_ledger")

    again = load_dump(TMALL, DAY_1, settings)

    assert again.status == "unchanged"
    assert workspace.query(snapshot_sql) == before
    assert workspace.query("SELECT * FROM audit.file_ledger") == ledger_before


def test_a_missing_dump_fails_its_partition_by_name(workspace):
    workspace.copy_examples()
    with pytest.raises(MissingDump, match=r"no tmall_orders dump for 2026-05-15: expected .*"):
        load_dump(TMALL, date(2026, 5, 15), Settings.from_env())

    with workspace.instance() as instance:
        result = dg.materialize(
            [ASSETS_BY_SOURCE["tmall_orders"]],
            partition_key="2026-05-15",
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    description = failure.step_failure_data.user_failure_data.description
    assert "tmall_orders_20260515.csv" in description
    assert not workspace.warehouse.exists()  # nothing was written, not even an empty load


def test_a_range_of_dump_dates_loads_in_one_run(workspace):
    workspace.copy_examples()
    with workspace.instance() as instance:
        result = dg.materialize(
            [ASSETS_BY_SOURCE["rednote_clicks"]],
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": "2026-05-13",
                "dagster/asset_partition_range_end": "2026-05-14",
            },
        )
    assert result.success
    assert workspace.query(
        "SELECT dump_date, count(*) FROM raw.rednote_clicks GROUP BY 1 ORDER BY 1"
    ) == [(DAY_1, 6), (DAY_2, 3)]


def test_bad_rows_are_quarantined_with_reasons_and_the_ledger_balances(workspace):
    result = deliver(
        workspace.inbox,
        TMALL.name,
        DAY_1,
        rows(
            TMALL.name,
            4,
            line_2={"买家实际支付金额": "29x.00"},
            line_3={"订单编号": "12345"},
            line_4={"订单编号": "3901234567890000001"},
        ),
    )

    assert (result.rows_read, result.rows_staged, result.rows_quarantined) == (4, 1, 3)
    quarantined = workspace.query(
        "SELECT line_number, column_name, reason, raw_record FROM audit.quarantine "
        "ORDER BY line_number"
    )
    assert [(line, column) for line, column, _, _ in quarantined] == [
        (2, "买家实际支付金额"),
        (3, "订单编号"),
        (4, "订单编号"),
    ]
    assert "not an amount of money" in quarantined[0][2]
    assert "repeats the key of line 1 (identical copy" in quarantined[2][2]
    assert all("13900001234" not in record and "王五" not in record for *_, record in quarantined)


def test_a_bom_less_rednote_file_is_fine_and_a_utf8_tmall_file_is_refused(workspace):
    workspace.copy_examples()
    metrics = SOURCES_BY_NAME["rednote_note_metrics"].path(workspace.inbox, DAY_1)
    metrics.write_bytes(metrics.read_bytes().removeprefix(codecs.BOM_UTF8))
    assert (
        load_dump(SOURCES_BY_NAME["rednote_note_metrics"], DAY_1, Settings.from_env()).rows_staged
        == 3
    )

    tmall = TMALL.path(workspace.inbox, DAY_1)
    tmall.write_bytes(tmall.read_bytes().decode("gb18030").encode("utf-8"))
    from orchestration.lib.readers import FileRefused

    with pytest.raises(FileRefused, match="is UTF-8, not GB18030"):
        load_dump(TMALL, DAY_1, Settings.from_env())
    assert workspace.query(
        "SELECT status, rows_staged FROM audit.file_ledger WHERE source = 'tmall_orders'"
    ) == [("refused", 0)]


def test_production_refuses_to_start_without_a_buyer_key_secret(workspace, monkeypatch):
    monkeypatch.setenv("REDCAT_ENV", "production")
    with pytest.raises(ConfigurationError, match="REDCAT_BUYER_KEY_SECRET"):
        Settings.from_env()
    monkeypatch.setenv("REDCAT_BUYER_KEY_SECRET", "brand-secret")
    assert Settings.from_env().buyer_key_secret == b"brand-secret"
