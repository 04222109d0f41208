"""Every figure of the contract's EXPECTED.md, from one real pipeline run over the examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPOSITORY_ROOT

D = Decimal


def test_row_counts(examples_run):
    assert examples_run.query("SELECT count(*) FROM marts.fct_clicks") == [(9,)]
    assert examples_run.query(
        "SELECT platform, count(*) FROM marts.fct_orders GROUP BY 1 ORDER BY 1"
    ) == [("jd", 2), ("tmall", 6)]
    assert examples_run.query("SELECT count(*) FROM marts.fct_note_daily") == [(6,)]


def test_fct_orders(examples_run):
    rows = examples_run.query(
        """SELECT order_id, platform, status, attribution_status, lag_days, gross_gmv, net_gmv
           FROM marts.fct_orders ORDER BY platform DESC, order_id"""
    )
    assert rows == [
        ("3901234567890123456", "tmall", "refunded", "attributed", 0, D("299.00"), D("0.00")),
        ("3901234567890123457", "tmall", "paid", "organic", None, D("598.00"), D("598.00")),
        ("3901234567890123458", "tmall", "paid", "attributed", 1, D("299.00"), D("299.00")),
        (
            "3901234567890123459",
            "tmall",
            "paid",
            "paid_before_click",
            None,
            D("199.00"),
            D("199.00"),
        ),
        ("3901234567890123460", "tmall", "paid", "unmatched_cid", None, D("399.00"), D("399.00")),
        ("3901234567890123461", "tmall", "paid", "attributed", 1, D("299.00"), D("299.00")),
        ("230000000101", "jd", "shipped", "attributed", 0, D("899.00"), D("899.00")),
        ("230000000102", "jd", "paid", "organic", None, D("1299.00"), D("1299.00")),
    ]


def test_order_paid_in_the_second_dump_and_the_late_click(examples_run):
    assert examples_run.query(
        "SELECT paid_date FROM marts.fct_orders WHERE order_id = '3901234567890123458'"
    ) == [(date(2026, 5, 14),)]
    late = examples_run.query(
        """SELECT o.note_id, o.campaign_id, o.kol_id, c.click_date
           FROM marts.fct_orders o JOIN marts.fct_clicks c USING (cid)
           WHERE o.order_id = '3901234567890123461'"""
    )
    assert late == [("6650a1f0c2000000001e03b5", "cmp_0001", "kol_101", date(2026, 5, 13))]
    # A matched click, valid or not, gives the order its note; organic orders have none.
    assert examples_run.query(
        """SELECT order_id, note_id IS NOT NULL FROM marts.fct_orders
           WHERE attribution_status IN ('paid_before_click', 'organic', 'unmatched_cid')
           ORDER BY order_id"""
    ) == [
        ("230000000102", False),
        ("3901234567890123457", False),
        ("3901234567890123459", True),
        ("3901234567890123460", False),
    ]


def test_mart_campaign_roi(examples_run):
    rows = examples_run.query(
        """SELECT campaign_id, kols, clicks, ad_spend, kol_fees, platform_fee, total_cost,
                  orders_t7, gmv_t7, net_gmv_t30, round(roi_t7, 4), redstar_eligible,
                  redcat_eligible, t30_complete
           FROM marts.mart_campaign_roi ORDER BY campaign_id"""
    )
    assert [tuple(r[:10]) + (float(r[10]),) + tuple(r[11:]) for r in rows] == [
        ("cmp_0001", 2, 7, D("870.50"), D("9500.00"), D("950.00"), D("11320.50"), 3,
         D("897.00"), D("598.00"), 0.0792, True, True, False),
        ("cmp_0002", 1, 2, D("140.00"), D("2000.00"), D("200.00"), D("2340.00"), 1,
         D("899.00"), D("899.00"), 0.3842, False, False, False),
    ]  # fmt: skip


def test_mart_note_windows(examples_run):
    rows = examples_run.query(
        """SELECT clicks, store_visits, add_to_carts, orders_t1, orders_t7, gmv_t1, net_gmv_t30,
                  t1_complete, t7_complete
           FROM marts.mart_note_windows
           WHERE note_id = '6650a1f0c2000000001e03b5' AND click_date = DATE '2026-05-13'"""
    )
    assert rows == [(4, 3, 1, 3, 3, D("897.00"), D("598.00"), True, False)]


def test_mart_conversion_lag(examples_run):
    rows = examples_run.query(
        """SELECT lag_days, clicks, orders, gross_gmv, cumulative_orders, cumulative_gross_gmv,
                  is_complete
           FROM marts.mart_conversion_lag
           WHERE campaign_id = 'cmp_0001' AND platform = 'tmall'
             AND click_date = DATE '2026-05-13'
           ORDER BY lag_days"""
    )
    assert [r[0] for r in rows] == list(range(31))
    assert {r[1] for r in rows} == {6}
    assert rows[0][2:4] == (1, D("299.00"))
    assert rows[1][2:] == (2, D("598.00"), 3, D("897.00"), True)
    assert [r[6] for r in rows] == [True, True] + [False] * 29


def _personal_values() -> set[str]:
    """Every personal cell of the example order dumps, read with the pipeline's own readers."""
    from orchestration.defs.ingestion.sources import SOURCES

    values = set()
    for spec in SOURCES:
        for path in sorted((EXAMPLES / spec.name).glob(f"*.{spec.extension}")):
            for row in spec.reader(path, tuple(c.header for c in spec.columns)).rows:
                values |= {row.cells[h] for h in spec.personal_headers if row.cells.get(h)}
    return values


def _files_written(examples_run) -> list[Path]:
    written = [p for p in examples_run.root.rglob("*") if p.is_file()]
    written = [p for p in written if examples_run.inbox not in p.parents]
    dbt_output = [REPOSITORY_ROOT / "dbt_project/target", REPOSITORY_ROOT / "logs"]
    return written + [p for d in dbt_output if d.exists() for p in d.rglob("*") if p.is_file()]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16-le"])
def test_no_personal_data_in_any_file_the_run_wrote(examples_run, encoding):
    files = _files_written(examples_run)
    personal = _personal_values()
    assert {"13800138000", "李小红", "tb_lucy88", "jd_camper"} <= personal
    assert any(p.suffix == ".duckdb" for p in files)
    assert any(p.name.endswith(".db") or "dagster_home" in str(p) for p in files)
    for path in files:
        content = path.read_bytes()
        for value in personal:
            assert value.encode(encoding) not in content, f"{value} found in {path}"
